"""TCP connections that never opened: SYNs refused with a reset, or never answered.

When every attempt from the first failure on failed (at least ``MIN_SINCE``), the
server became unreachable at that moment: the finding says since when, and what
opened before. The server is named by the TLS server name its other connections
asked for, where the capture holds one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.net.casedata import Flow, count_of, flow_lines, flows, frame_list, frames, window
from casework.timeline import minute

#: Failed attempts, with none opening after the first of them, that say "unreachable since".
MIN_SINCE = 3


@analyzer(key="net_connect_failures", needs=("flows",))
def net_connect_failures(case: Case) -> Iterator[Finding]:
    """Refused and unanswered connection attempts per server and port."""
    groups: dict[tuple[str, str, int, str], list[Flow]] = defaultdict(list)
    for f in flows(case, "proto = 'tcp' AND attrs->>'$.handshake' IN ('refused', 'unanswered')"):
        groups[(f.file, f.dst, f.dport, str(f.attrs.get("handshake")))].append(f)
    opened: dict[tuple[str, str, int], list[datetime | None]] = defaultdict(list)
    names: dict[tuple[str, str, int], Counter[str]] = defaultdict(Counter)
    for f in flows(case, "proto = 'tcp' AND attrs->>'$.handshake' IN ('complete', 'syn-ack seen')"):
        opened[(f.file, f.dst, f.dport)].append(f.start)
        sni = (f.attrs.get("tls") or {}).get("sni")
        if isinstance(sni, str) and sni:
            names[(f.file, f.dst, f.dport)][sni] += 1
    for (file, server, port, kind), items in groups.items():
        syns = sum(len(f.attrs.get("syn_frames", [])) for f in items)
        refused = kind == "refused"
        ok = len(opened[(file, server, port)])
        since = _since(items, opened[(file, server, port)])
        known = names[(file, server, port)].most_common(1)
        host = f" ({known[0][0]})" if known else ""
        stats: dict[str, int | float | str | bool | None] = {
            "connections": len(items), "syns": syns, "opened": ok, "since": since is not None,
        }  # fmt: skip
        if since is not None:
            first, last_ok, before = since
            tail = f" since {minute(first)}: every attempt since failed" + (
                f"; {before} before it opened" if before else ""
            )
            stats.update(onset_epoch=first.timestamp(), latest_epoch=first.timestamp(),
                         earliest_epoch=(last_ok or first).timestamp())  # fmt: skip
        else:
            tail = f"; {ok} other{'s' if ok > 1 else ''} to it opened" if ok else ""
        yield Finding(
            key="NET_CONNECT_REFUSED" if refused else "NET_SYN_UNANSWERED",
            analyzer="net_connect_failures",
            subject=f"{file}|{server}|{port}|{kind}",
            severity="high" if since is not None else _severity(len(items), ok),
            score=min(0.9, 0.55 + 0.05 * len(items)) * (1.0 if ok == 0 or since else 0.6),
            title=f"{count_of(len(items), 'connection')} to {server}:{port}{host} "
            + ("refused (SYN answered by RST)" if refused else f"never answered ({syns} SYNs)")
            + tail,
            summary=(
                "Nothing listens on that port, or a firewall rejects it."
                if refused
                else "The SYNs got no SYN/ACK: the host is down, unroutable, or a firewall drops"
                " them silently; the client retried with backoff."
            ),
            window=window([f.start for f in items]),
            entities={"server": f"{server}:{port}", **({"host": known[0][0]} if known else {})},
            stats=stats,
            evidence=(
                frames(
                    file,
                    [n for f in items for n in f.attrs.get("syn_frames", [])],
                    flow_lines([(f, _attempt(f, refused)) for f in items]),
                ),
            ),
        )


def _since(
    failed: list[Flow], opened: list[datetime | None]
) -> tuple[datetime, datetime | None, int] | None:
    """(first failure, last opening before it, openings before it) when no attempt opened
    from the first failure on and at least ``MIN_SINCE`` failed; else None."""
    starts = sorted(f.start for f in failed if f.start is not None)
    if len(starts) < MIN_SINCE or len(starts) < len(failed):
        return None
    first = starts[0]
    if any(t is None or t >= first for t in opened):
        return None
    before = [t for t in opened if t is not None]
    return first, max(before, default=None), len(before)


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
