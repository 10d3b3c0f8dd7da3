"""TCP retransmissions per server: how much of the traffic was resent, and which kind (RTO, fast, spurious).

Connections that never opened are left out: their resent SYNs are connection
failures (``net_connect_failures``), not data lost on the way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.net.casedata import Flow, count_of, flow_lines, flows, frames, window

MIN_RETRANS = 5
MIN_RATE = 0.01
#: Retransmissions after loss (not spurious) that make a server's share a strong signal:
#: six resent segments in a hundred packets is 6%, and as likely a moment of bad Wi-Fi.
HIGH_RETRANS = 20
HIGH_RATE = 0.05
KINDS = ("retrans", "fast_retrans", "spurious_retrans")


@analyzer(key="net_retransmissions", needs=("flows",))
def net_retransmissions(case: Case) -> Iterator[Finding]:
    """Servers whose conversations saw at least 1% retransmitted segments."""
    groups: dict[tuple[str, str, int], list[Flow]] = defaultdict(list)
    opened = "coalesce(attrs->>'$.handshake', '') NOT IN ('refused', 'unanswered')"
    for f in flows(case, f"proto = 'tcp' AND {opened}"):
        groups[(f.file, f.dst, f.dport)].append(f)
    for (file, server, port), items in groups.items():
        kinds = {k: sum(int(f.attrs.get("analysis", {}).get(k, 0)) for f in items) for k in KINDS}
        total = sum(kinds.values())
        packets = sum(f.packets for f in items)
        rate = total / packets if packets else 0.0
        if total < MIN_RETRANS or rate < MIN_RATE:
            continue
        dup = sum(int(f.attrs.get("analysis", {}).get("dup_ack", 0)) for f in items)
        lost = sum(int(f.attrs.get("analysis", {}).get("lost_segment", 0)) for f in items)
        numbers = [
            n for f in items for k in KINDS for n in f.attrs.get("analysis_frames", {}).get(k, [])
        ]
        resent = sorted(
            (f for f in items if any(_counts(f).get(k) for k in KINDS)),
            key=lambda f: -sum(_counts(f).get(k, 0) for k in KINDS),
        )
        yield Finding(
            key="NET_RETRANSMISSIONS",
            analyzer="net_retransmissions",
            subject=f"{file}|{server}|{port}",
            severity=_severity(total - kinds["spurious_retrans"], packets),
            score=min(0.9, 0.3 + 4 * rate),
            title=f"{total} retransmissions ({rate:.1%} of {packets} packets) with {server}:{port}"
            f" across {count_of(len(items), 'connection')}",
            summary=(
                f"RTO retransmissions {kinds['retrans']}, fast {kinds['fast_retrans']}, spurious"
                f" {kinds['spurious_retrans']}; {dup} duplicate ACKs, {lost} segments not captured."
                " Fast retransmissions follow loss the receiver noticed; RTO ones mean nothing got"
                " through for a while; spurious ones mean the sender resent data already acked"
                " (delay, not loss)."
            ),
            window=window([f.start for f in items] + [f.end for f in items]),
            entities={"server": f"{server}:{port}"},
            stats={
                "retransmissions": total,
                "packets": packets,
                "rate": round(rate, 5),
                "fast": kinds["fast_retrans"],
                "spurious": kinds["spurious_retrans"],
                "dup_acks": dup,
            },
            evidence=(frames(file, numbers, flow_lines([(f, _resent(f)) for f in resent])),),
        )


def _severity(lost: int, packets: int) -> Severity:
    """From the segments resent after loss: spurious ones only mean delay."""
    if lost >= HIGH_RETRANS and lost >= HIGH_RATE * packets:
        return "high"
    return "medium" if lost >= MIN_RETRANS else "low"


def _counts(f: Flow) -> dict[str, int]:
    return {k: int(v) for k, v in f.attrs.get("analysis", {}).items() if isinstance(v, int)}


def _resent(f: Flow) -> str:
    counts = _counts(f)
    parts = [f"{counts[k]} {k.replace('_', ' ')}" for k in (*KINDS, "dup_ack") if counts.get(k)]
    return f"{f.packets} packets: " + ", ".join(parts)
