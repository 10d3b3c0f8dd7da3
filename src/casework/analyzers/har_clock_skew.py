"""Server clocks in a HAR: a response's Date header against the browser's clock when it was sent.

A server's Date says, to the second, when it answered. By the browser's clock that moment lies
between the request's start and its end (one second of truncation aside), so a Date well
outside that span is the server's clock, off by that much. A clock running behind sees fresh
tokens as not yet valid (``nbf``, ``iat`` in the future); one running ahead sees them expire
early. The node that answered is named when the response says (``X-Served-By``), so one node of
many (gw-3 of four gateways) stands out against the others. A cached response keeps the Date
of when it was stored (it carries an ``Age``) and is left out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

from casework.analyzers.har_failed_requests import AUTH_STATUSES
from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity, count_text
from casework.net.casedata import Req, entries, requests, window

#: Seconds a Date may lie outside the request's span before the server's clock is called off.
MIN_SKEW_S = 5.0
#: Response headers naming the node that answered, as the HAR keeps them.
NODE_HEADERS = ("response.x-served-by", "response.x-backend-server", "response.x-upstream")


def skew_seconds(req: Req) -> float | None:
    """How far the response's Date lies outside the request's span by the browser's clock
    (negative: behind), 0.0 inside it; None without a usable Date or for a cached response."""
    date = req.attrs.get("response.date")
    if req.ts is None or not isinstance(date, str) or "response.age" in req.attrs:
        return None
    try:
        said = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if said.tzinfo is None:
        return None
    start = req.ts.timestamp()
    end = start + max(req.duration_ms or 0.0, 0.0) / 1000.0
    at = said.timestamp()
    if at < start - 1.0:
        return at - start
    if at > end + 1.0:
        return at - end
    return 0.0


@analyzer(key="har_clock_skew", needs=("har",))
def har_clock_skew(case: Case) -> Iterator[Finding]:
    """Per host and answering node: responses whose Date is off the browser's clock."""
    groups: dict[tuple[str, str, str], list[tuple[Req, float]]] = defaultdict(list)
    for r in requests(case, "har"):
        skew = skew_seconds(r)
        if skew is not None:
            node = next((str(r.attrs[k]) for k in NODE_HEADERS if r.attrs.get(k)), "")
            groups[(r.file, r.host, node)].append((r, skew))
    for (file, host, node), items in sorted(groups.items()):
        off = [(r, s) for r, s in items if abs(s) >= MIN_SKEW_S]
        if not off:
            continue
        yield _finding(file, host, node, items, off, groups)


def _finding(
    file: str,
    host: str,
    node: str,
    items: list[tuple[Req, float]],
    off: list[tuple[Req, float]],
    groups: dict[tuple[str, str, str], list[tuple[Req, float]]],
) -> Finding:
    skew = statistics.median(s for _, s in off)
    way = "behind" if skew < 0 else "ahead of"
    refused = [r for r, _ in off if r.status in AUTH_STATUSES]
    peers = [
        s for (f, h, n), xs in groups.items() if (f, h) == (file, host) and n != node for _, s in xs
    ]
    in_sync = sum(1 for s in peers if abs(s) < MIN_SKEW_S)
    who = f"{host} ({node})" if node else host
    title = (
        f"The clock of {who} runs {abs(skew):.0f} s {way} the browser's, by the Date header of"
        f" {len(off)} of its {count_text(len(items))} responses"
        + (f" ({len(refused)} of them HTTP 401/403)" if refused else "")
    )
    if node and peers:
        title += f"; the host's other nodes were on time in {in_sync} of {len(peers)}"
    consequence = (
        "A server clock behind the issuer's sees fresh tokens as not yet valid (nbf, iat in the"
        " future)"
        if skew < 0
        else "A server clock ahead of the issuer's sees tokens expire early"
    )
    # A third party's clock off by seconds is a curiosity; one that refuses tokens is the cause.
    severity: Severity = "high" if refused else "medium" if len(off) >= 2 else "low"
    sample = off[0][0]
    return Finding(
        key="HAR_SERVER_CLOCK_SKEW",
        analyzer="har_clock_skew",
        subject=f"{file}|{host}|{node}",
        severity=severity,
        score=round(min(1.0, 0.5 + 0.05 * len(off) + (0.35 if refused else 0.0)), 4),
        title=title,
        summary=(
            f"In {file}, {who} dated {len(off)} of {count_text(len(items))} responses"
            f" {abs(skew):.1f} s {way} the time the browser sent and received them (median;"
            f" a synced server's Date falls within that span, to the second). {consequence};"
            " tokens it issues look wrong to others the other way round."
        ),
        window=window([r.ts for r, _ in off]),
        entities={"host": host, "node": node or host},
        stats={
            "skew_seconds": round(skew, 1),
            "off": len(off),
            "responses": len(items),
            "refused": len(refused),
            "peers_in_sync": in_sync,
            "peers": len(peers),
        },
        evidence=(entries(file, [r for r, _ in off], _excerpt(sample)),),
        next_steps=(
            f"Check the time service on {node or host} (chronyc tracking, timedatectl) and its"
            " logs for lost sources around the first skewed response.",
            "Refute: if the browser's own clock was off, every server's Date would be off by"
            " the same amount.",
        ),
    )


def _excerpt(r: Req) -> str:
    sent = f"{r.ts:%H:%M:%S}" if r.ts else "?"
    return (
        f"{r.method} {r.url[:160]} -> {r.status}, sent {sent} by the browser,"
        f" Date {r.attrs.get('response.date')}"
    )
