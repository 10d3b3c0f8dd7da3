"""TCP connections that never opened: SYNs refused with a reset, or never answered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.net.casedata import Flow, count_of, flow_lines, flows, frame_list, frames, window


@analyzer(key="net_connect_failures", needs=("flows",))
def net_connect_failures(case: Case) -> Iterator[Finding]:
    """Refused and unanswered connection attempts per server and port."""
    groups: dict[tuple[str, str, int, str], list[Flow]] = defaultdict(list)
    for f in flows(case, "proto = 'tcp' AND attrs->>'$.handshake' IN ('refused', 'unanswered')"):
        groups[(f.file, f.dst, f.dport, str(f.attrs.get("handshake")))].append(f)
    opened: dict[tuple[str, str, int], int] = defaultdict(int)
    for f in flows(case, "proto = 'tcp' AND attrs->>'$.handshake' IN ('complete', 'syn-ack seen')"):
        opened[(f.file, f.dst, f.dport)] += 1
    for (file, server, port, kind), items in groups.items():
        syns = sum(len(f.attrs.get("syn_frames", [])) for f in items)
        refused = kind == "refused"
        ok = opened[(file, server, port)]
        yield Finding(
            key="NET_CONNECT_REFUSED" if refused else "NET_SYN_UNANSWERED",
            analyzer="net_connect_failures",
            subject=f"{file}|{server}|{port}|{kind}",
            severity=_severity(len(items), ok),
            score=min(0.9, 0.55 + 0.05 * len(items)) * (1.0 if ok == 0 else 0.6),
            title=f"{count_of(len(items), 'connection')} to {server}:{port} "
            + ("refused (SYN answered by RST)" if refused else f"never answered ({syns} SYNs)")
            + (f"; {ok} other{'s' if ok > 1 else ''} to it opened" if ok else ""),
            summary=(
                "Nothing listens on that port, or a firewall rejects it."
                if refused
                else "The SYNs got no SYN/ACK: the host is down, unroutable, or a firewall drops"
                " them silently; the client retried with backoff."
            ),
            window=window([f.start for f in items]),
            entities={"server": f"{server}:{port}"},
            stats={"connections": len(items), "syns": syns, "opened": ok},
            evidence=(
                frames(
                    file,
                    [n for f in items for n in f.attrs.get("syn_frames", [])],
                    flow_lines([(f, _attempt(f, refused)) for f in items]),
                ),
            ),
        )


def _severity(failed: int, opened: int) -> Severity:
    """Every attempt failing means the service is unreachable; one attempt alone, or a few
    among connections that opened, may be a probe or a moment's restart."""
    if opened == 0:
        return "high" if failed >= 2 else "medium"
    return "medium" if failed >= 0.1 * (failed + opened) else "low"


def _attempt(f: Flow, refused: bool) -> str:
    syns = frame_list(f.attrs.get("syn_frames", []))
    syn = f"SYN ({syns})" if syns else "SYN"
    if not refused:
        return f"{syn} never answered"
    resets = [r.get("frame") for r in f.attrs.get("resets", []) if r.get("by") == "server"]
    return f"{syn} answered by RST" + (f" (frame {resets[0]})" if resets else "")
