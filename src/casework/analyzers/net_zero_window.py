"""TCP zero windows: a receiver whose buffer filled (its application stopped reading), how long
the sender had to wait, and whether the window ever reopened."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.net.casedata import Flow, count_of, flow_lines, flows, frames, window

#: A stall this long (seconds) is felt by a user: a page, a download or an RPC waits on it.
FELT_S = 1.0


@analyzer(key="net_zero_window", needs=("flows",))
def net_zero_window(case: Case) -> Iterator[Finding]:
    """Per receiver and peer: the zero-window stalls, how long each lasted, which never ended."""
    groups: dict[tuple[str, str, int, str], list[tuple[Flow, dict[str, Any]]]] = defaultdict(list)
    for f in flows(case, "proto = 'tcp' AND (attrs->'$.zero_windows') IS NOT NULL"):
        for stall in f.attrs.get("zero_windows", []):
            groups[(f.file, f.dst, f.dport, str(stall.get("by")))].append((f, stall))
    for (file, server, port, by), items in groups.items():
        seconds = [float(st.get("stalled_s") or 0.0) for _, st in items]
        total, longest = sum(seconds), max(seconds)
        stuck = [(f, st) for f, st in items if not st.get("reopened_frame")]
        conns = {(f.src, f.sport) for f, _ in items}
        ads = sum(int(st.get("advertisements") or 0) for _, st in items)
        probes = sum(int(st.get("probes") or 0) for _, st in items)
        if by == "server":
            receiver, peer = f"the server {server}:{port}", f"its clients {_clients(items)}"
        else:
            receiver, peer = f"the client {_clients(items)}", f"{server}:{port}"
        ended = (
            f"; {count_of(len(stuck), 'stall')} never reopened before the connection's last packet"
            if stuck
            else ""
        )
        numbers = [int(st["frame"]) for _, st in items] + [
            int(st["reopened_frame"]) for _, st in items if st.get("reopened_frame")
        ]
        yield Finding(
            key="NET_ZERO_WINDOW",
            analyzer="net_zero_window",
            subject=f"{file}|{server}|{port}|{by}",
            severity=_severity(longest, bool(stuck)),
            score=round(min(0.9, 0.35 + 0.15 * math.log10(1 + 10 * total)), 4),
            title=(
                f"Zero window from {receiver} toward {peer}: {count_of(len(items), 'stall')}"
                f" across {count_of(len(conns), 'connection')}, {total:.2f} s stalled in all"
                f" (longest {longest:.2f} s){ended}"
            ),
            summary=(
                f"{receiver.capitalize()} advertised a receive window of 0 {ads} times"
                f" (zero-window probes from the sender: {probes}): its socket buffer was full"
                " because its application stopped reading (busy, blocked on a lock or a disk, or"
                " hung), so the sender had to wait. The time is spent on the receiving host, not"
                " in the network. A stall that never reopened ended with the capture or the"
                " connection: look at what that process was doing then (thread dump, GC log)."
            ),
            window=window([f.start for f, _ in items] + [f.end for f, _ in items]),
            entities={"receiver": by, "server": f"{server}:{port}"},
            stats={
                "stalls": len(items),
                "connections": len(conns),
                "stalled_s": round(total, 6),
                "longest_s": round(longest, 6),
                "never_reopened": len(stuck),
                "advertisements": ads,
                "probes": probes,
            },
            evidence=(frames(file, numbers, flow_lines([(f, _stall(st)) for f, st in items])),),
        )


def _severity(longest: float, stuck: bool) -> Severity:
    if longest >= FELT_S:
        return "high"
    if stuck or longest >= 0.2:
        return "medium"
    return "low"


def _clients(items: list[tuple[Flow, dict[str, Any]]]) -> str:
    hosts = sorted({f.src for f, _ in items})
    return hosts[0] if len(hosts) == 1 else f"({len(hosts)} hosts)"


def _stall(st: dict[str, Any]) -> str:
    reopened = st.get("reopened_frame")
    seconds = float(st.get("stalled_s") or 0.0)
    if reopened:
        return (
            f"window 0 at frame {st['frame']}, reopened at frame {reopened} after {seconds:.3f} s"
        )
    return f"window 0 at frame {st['frame']}, not reopened in the {seconds:.3f} s that followed"
