"""TCP connections reset after sitting idle: the signature of a load balancer or firewall idle timeout."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Flow, count_of, flow_lines, flows, frames, window

#: Below this much silence a reset is an application's doing, not an idle timeout.
MIN_IDLE_S = 2.0
#: A reset this soon after the client's packet answers it (the connection was already dead).
REUSE_ANSWER_S = 1.0


def silence(reset: dict[str, Any]) -> float:
    """How long the connection sat idle before it was reset.

    Either the RST itself ends the silence (the middlebox times the connection out), or the
    client reuses the connection after the silence and the RST answers that first packet.
    """
    idle, before = reset.get("idle_s"), reset.get("idle_before_last_s")
    idle = float(idle) if isinstance(idle, int | float) else 0.0
    before = float(before) if isinstance(before, int | float) else 0.0
    if idle < MIN_IDLE_S and idle < REUSE_ANSWER_S and before >= MIN_IDLE_S:
        return before
    return idle


@analyzer(key="net_idle_resets", needs=("flows",))
def net_idle_resets(case: Case) -> Iterator[Finding]:
    """Resets that came after N seconds of silence on established connections, grouped by server."""
    groups: dict[tuple[str, str, int, str], list[tuple[Flow, dict[str, object]]]] = defaultdict(
        list
    )
    for f in flows(case, "proto = 'tcp' AND json_array_length(attrs->'$.resets') > 0"):
        if f.attrs.get("handshake") in ("refused", "unanswered"):
            continue
        for reset in f.attrs.get("resets", []):
            idle = silence(reset)
            if idle >= MIN_IDLE_S:
                groups[(f.file, f.dst, f.dport, str(reset.get("by")))].append(
                    (f, {**reset, "idle_s": idle})
                )
                break  # the first idle reset of a connection is the one that ended it
    for (file, server, port, by), items in groups.items():
        idles = [float(r["idle_s"]) for _, r in items]  # type: ignore[arg-type]
        typical = statistics.median(idles)
        close = [i for i in idles if abs(i - typical) <= max(1.0, 0.1 * typical)]
        who = "the server side" if by == "server" else "the client side"
        yield Finding(
            key="NET_IDLE_RESET",
            analyzer="net_idle_resets",
            subject=f"{file}|{server}|{port}|{by}",
            severity="high" if len(close) >= 2 else "medium",
            score=min(0.95, 0.5 + 0.1 * len(close)),
            title=f"{count_of(len(items), 'idle connection')} to {server}:{port} reset by {who} after"
            f" {typical:.0f} s of silence",
            summary=(
                f"{len(close)} of {len(items)} resets came after {typical:.1f} s (±10%) without"
                f" traffic on an established connection. A fixed idle time points at an idle"
                f" timeout ({typical:.0f} s) in a load balancer, NAT or firewall on the path;"
                " a client reusing such a pooled keep-alive connection gets a reset. Set the"
                " client's pool idle timeout below it, or enable TCP keep-alives."
            ),
            window=window([f.end for f, _ in items]),
            entities={"server": f"{server}:{port}", "reset_by": by},
            stats={
                "idle_s": round(typical, 3),
                "resets": len(items),
                "at_that_idle": len(close),
                "min_idle_s": round(min(idles), 3),
                "max_idle_s": round(max(idles), 3),
            },
            evidence=(
                frames(
                    file,
                    [int(r["frame"]) for _, r in items],  # type: ignore[call-overload]
                    flow_lines(
                        [
                            (f, f"RST (frame {r['frame']}) after {silence(r):.1f} s idle")
                            for f, r in items
                        ]
                    ),
                ),
            ),
            next_steps=(
                f"Compare {typical:.0f} s with the idle timeout of every load balancer/NAT between"
                " client and server, and with the client's connection-pool idle time.",
            ),
        )
