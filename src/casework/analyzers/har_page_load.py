"""Where a page's load time went: its requests' span, the time nothing was in flight, the
third parties that kept it going after the site's own last response, and when the browser
fired DOMContentLoaded and the load event (the HAR's page timings).

A page (the HAR's ``pageref``) lasts from its first request's start to its last
response's end. The time no request was in flight is the browser's own work
(parsing, scripts) or waits between requests. A host is the site's own when it
shares the page document's registrable domain (by the Public Suffix List:
``edition.cnn.com`` and ``cdn.cnn.com`` are cnn.com, ``www.bbc.co.uk`` is
bbc.co.uk); the others are third parties, and what they requested after the
site's own last response is load time the site's servers did not cause.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache
from ipaddress import ip_address

from publicsuffixlist import PublicSuffixList

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.net.casedata import Req, count_of, entries, requests, window
from casework.report.text import seconds_text

#: Pages shorter than this, or with fewer requests, say nothing about a slow load.
MIN_SPAN_MS = 1000.0
MIN_REQUESTS = 10
#: Third-party time after the site's last response, as a share of the page, that is worth
#: a medium finding.
TAIL_SHARE = 0.25
SHOWN_HOSTS = 3
#: ...and that is named in the title at all.
SHOWN_TAIL = 0.1


@analyzer(key="har_page_load", needs=("har",))
def har_page_load(case: Case) -> Iterator[Finding]:
    """Per page: how long its requests took end to end, the idle time, and the third-party tail."""
    pages: dict[tuple[str, str], list[Req]] = defaultdict(list)
    for r in requests(case, "har"):
        if r.ts is not None:
            pages[(r.file, str(r.attrs.get("pageref") or ""))].append(r)
    for (file, page), reqs in sorted(pages.items()):
        found = _page(file, page, sorted(reqs, key=lambda r: (r.ts, r.line)))
        if found is not None:
            yield found


def _page(file: str, page: str, reqs: list[Req]) -> Finding | None:
    start = reqs[0].ts
    if start is None:
        return None
    spans = [(_ms(r, start), _ms(r, start) + max(r.duration_ms or 0.0, 0.0), r) for r in reqs]
    total = max(end for _, end, _ in spans)
    if total < MIN_SPAN_MS or len(reqs) < MIN_REQUESTS:
        return None
    busy = _union([(a, b) for a, b, _ in spans])
    idle = total - busy
    site = _domain(reqs[0].host)
    own = [(a, b, r) for a, b, r in spans if _domain(r.host) == site]
    others = [(a, b, r) for a, b, r in spans if _domain(r.host) != site]
    own_end = max((b for _, b, _ in own), default=0.0)
    tail = total - own_end
    late = [r for a, b, r in others if b > own_end]
    hosts = Counter(r.host for r in late)
    third_hosts = {r.host for _, _, r in others}
    name = page or "(no page id)"
    title = (
        f"Page {name} ({reqs[0].method} {reqs[0].host}{reqs[0].route}): "
        f"{count_of(len(reqs), 'request')} over {seconds_text(total / 1000)}, "
        f"{len(others)} of them to {count_of(len(third_hosts), 'third-party host')}; "
        f"nothing in flight for {seconds_text(idle / 1000)} ({idle / total:.0%})"
    )
    if late and tail >= SHOWN_TAIL * total:
        shown = ", ".join(h for h, _ in hosts.most_common(SHOWN_HOSTS))
        title += (
            f"; the last {seconds_text(tail / 1000)} ({tail / total:.0%}) only third parties"
            f" ({shown}) after {site}'s last response"
        )
    content_at, load_at = _load_events(reqs, start)
    load_stats: dict[str, float | int] = {}
    load_text = ""
    if content_at is not None:
        load_stats["content_loaded_ms"] = round(content_at, 1)
        load_text = f"DOMContentLoaded at {seconds_text(content_at / 1000)}"
    if load_at is not None:
        after = [r for _, b, r in spans if b > load_at]
        load_stats |= {"load_ms": round(load_at, 1), "after_load_requests": len(after)}
        load_text = f"the load event at {seconds_text(load_at / 1000)}" + (
            f" (DOMContentLoaded {seconds_text(content_at / 1000)})" if content_at else ""
        )
        if after and total - load_at >= SHOWN_TAIL * total:
            load_text += (
                f", {count_of(len(after), 'request')} going on"
                f" {seconds_text((total - load_at) / 1000)} after it"
            )
    if load_text:
        title += f"; the browser timed {load_text}"
    severity: Severity = "medium" if late and tail >= TAIL_SHARE * total else "low"
    last = max(spans, key=lambda s: s[1])[2]
    return Finding(
        key="HAR_PAGE_LOAD",
        analyzer="har_page_load",
        subject=f"{file}|{name}",
        severity=severity,
        score=round(0.3 + 0.3 * min(1.0, tail / total), 4) if severity == "medium" else 0.25,
        title=title,
        summary=(
            f"{count_of(len(reqs), 'request')} of page {name}, {len(own)} to {site} and "
            f"{len(others)} to {count_of(len(third_hosts), 'third-party host')}, span "
            f"{seconds_text(total / 1000)} from the first request's start to the last response's "
            f"end (the last: {last.method} {last.host}{last.route}). Requests were in flight for "
            f"{seconds_text(busy / 1000)} of it; the rest is the browser's own work or waits "
            f"between requests. {site}'s last response ended at {seconds_text(own_end / 1000)}"
            + (f"; {count_of(len(late), 'third-party request')} went on after it." if late else ".")
            + (
                f" The browser timed {load_text} (the HAR's page timings, counted here from the"
                " first request's start): the user waits up to the load event; requests after"
                " it are beacons, ads and lazy content."
                if load_text
                else ""
            )
        ),
        window=window([start, start + timedelta(milliseconds=total)]),
        entities={"page": name, "site": site},
        stats={
            "requests": len(reqs),
            "span_ms": round(total, 1),
            "busy_ms": round(busy, 1),
            "idle_ms": round(idle, 1),
            "site_requests": len(own),
            "third_party_requests": len(others),
            "third_party_hosts": len(third_hosts),
            "site_end_ms": round(own_end, 1),
            "third_party_tail_ms": round(max(tail, 0.0), 1),
            **load_stats,
        },
        evidence=(entries(file, [reqs[0], *sorted(late, key=lambda r: -(r.duration_ms or 0))]),),
        next_steps=(
            "Compare the time nothing was in flight with the page's scripts (a performance "
            "profile in the browser's developer tools).",
            "Load the page with the third parties blocked and compare its load time.",
        ),
    )


def _load_events(reqs: list[Req], start: datetime) -> tuple[float | None, float | None]:
    """When DOMContentLoaded and the load event fired, in ms after the first request's start,
    from the page timings the browser wrote (None where the HAR has none)."""
    timed = next((r.attrs for r in reqs if "page.started" in r.attrs), None)
    if timed is None:
        return None, None
    try:
        page_start = datetime.fromisoformat(str(timed["page.started"]))
    except ValueError:
        return None, None
    offset = (page_start - start).total_seconds() * 1000
    content, load = timed.get("page.content_loaded_ms"), timed.get("page.load_ms")
    return (
        offset + float(content) if isinstance(content, int | float) else None,
        offset + float(load) if isinstance(load, int | float) else None,
    )


def _ms(r: Req, start: datetime) -> float:
    return (r.ts - start).total_seconds() * 1000 if r.ts is not None else 0.0


def _union(intervals: list[tuple[float, float]]) -> float:
    """Milliseconds covered by at least one interval."""
    covered, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        covered += b - max(a, end)
        end = b
    return covered


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped with the package: no network


@cache
def _domain(host: str) -> str:
    """The registrable domain (``edition.cnn.com`` → ``cnn.com``); an address or a name the
    list does not know stays whole."""
    name = host.lower().rstrip(".").rsplit(":", 1)[0] if host.count(":") <= 1 else host.lower()
    try:
        ip_address(name.strip("[]"))
        return name
    except ValueError:
        pass
    found = _suffixes().privatesuffix(name)
    return str(found) if found else name
