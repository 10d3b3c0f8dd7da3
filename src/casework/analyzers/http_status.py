"""HTTP status per route: 5xx and 4xx rates over time, and whether a rise is new or constant.

Requests are grouped by method and route. When the same route appears in
several sources (an access log and the application's own request log), the
source with the most requests carries the numbers and the others are named,
so one incident does not produce one finding per log. The failure rate in the
first half of the window is tested against the second half, and at the best
single change point, with one-sided Fisher exact tests: a constant background
0.5% of 502s stays low, a new 40% of 500s ranks high.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from casework.case import ROUTE_SQL, Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Stat, Window, iso
from casework.shifts import STREAM_SQL
from casework.timegroups import time_groups, window_table
from casework.timeline import (
    FELL_MEANING,
    RateChange,
    bucket_count,
    bucket_index_sql,
    bucket_seconds,
    bucket_start,
    change_before,
    evidence_strength,
    fall_phrase,
    fall_stats,
    halves,
    label_seconds,
    minute,
    onset,
    relation,
    rose,
)

MIN_FAILURES = 5
MIN_BUCKET_REQUESTS = 5
MIN_4XX_RATE = 0.05
MAX_ROUTES = 300
MAX_FINDINGS = 25
METHOD_SQL = "coalesce(upper(method), '-')"
_FILE_SQL = "coalesce(file, source, '?')"
#: The requests with their stream (``f``: a log's rotated files are one stream) and their file.
_REQUESTS = (
    f"(SELECT s.f, {_FILE_SQL} AS src, requests.* FROM requests"
    f" JOIN _http_streams s ON s.src = {_FILE_SQL})"
)
CLASSES = {"5xx": (500, 599), "4xx": (400, 499)}


@dataclass(frozen=True, slots=True)
class _Route:
    file: str
    method: str
    route: str
    requests: int
    fails: dict[str, int]
    others: tuple[tuple[str, int, int, int], ...]  # (file, requests, 5xx, 4xx)


_Key = tuple[str, str, str]  # (file, method, route)
_Series = dict[str, list[int]]  # "total", "5xx", "4xx" -> counts per bucket


@analyzer(key="http_status", needs=("requests",))
def http_status(case: Case) -> Iterator[Finding]:
    """HTTP 5xx and 4xx rates per route over time, new versus constant."""
    # Each file's requests are bucketed over the time its group of files covers (a 15-minute
    # API log beside a year-old capture gets minute buckets, not week-long ones).
    # A log's rotated files (api.log.1.gz, api.log.2.gz ...) are one stream and one series.
    case.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _http_streams AS SELECT file AS src, {STREAM_SQL} AS f"
        f" FROM (SELECT DISTINCT {_FILE_SQL} AS file FROM requests)"
    )
    spans = {
        str(f): Window(t0, t1)
        for f, t0, t1 in case.rows(
            f"SELECT f, min(ts), max(ts) FROM {_REQUESTS} WHERE ts IS NOT NULL GROUP BY f"
        )
    }
    groups = time_groups(spans)
    widths = window_table(case.con, "_http_groups", groups)
    # One pass over the requests into counts per (file, method, route, bucket, status): every
    # later query reads those counts (a few thousand rows where the requests may be millions).
    bucket = bucket_index_sql("q.ts", "g.origin", "g.width")
    case.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _http AS SELECT q.f, q.m, q.r, {bucket} b, q.status,"
        f" count(*) n FROM (SELECT f, {METHOD_SQL} m, {ROUTE_SQL} r, ts, status"
        f" FROM {_REQUESTS}) q LEFT JOIN _http_groups g ON g.file = q.f GROUP BY ALL"
    )
    routes = _routes(case)
    case.con.execute(
        "CREATE OR REPLACE TEMP TABLE _http_pick AS SELECT unnest(?) f, unnest(?) m, unnest(?) r",
        [[x.file for x in routes], [x.method for x in routes], [x.route for x in routes]],
    )
    series = _series(case, groups, widths)
    codes = _codes(case)
    made: list[tuple[Finding, _Route, str, datetime | None]] = []
    for r in routes:
        s = series.get((r.file, r.method, r.route), {})
        window = groups.get(r.file)
        width = widths[window] if window else bucket_seconds(None)
        for klass in ("5xx", "4xx"):
            route_codes = codes.get((r.file, r.method, r.route, klass), [])
            got = _finding(
                case, r, klass, s.get(klass, []), s.get("total", []), window, width, route_codes
            )
            if got is not None:
                made.append((got[0], r, klass, got[1]))
    made.sort(key=lambda x: (-x[0].score, x[0].subject))
    kept = made[:MAX_FINDINGS]
    picks = [(r, klass, since, f.stats.get("top_status")) for f, r, klass, since in kept]
    for (f, *_), evidence in zip(kept, _evidence(case, picks), strict=True):
        yield replace(f, evidence=evidence)


def _routes(case: Case) -> list[_Route]:
    rows = case.rows(
        "SELECT f, m, r, sum(n) c, coalesce(sum(n) FILTER (WHERE status BETWEEN 500 AND 599), 0),"
        " coalesce(sum(n) FILTER (WHERE status BETWEEN 400 AND 499), 0)"
        " FROM _http GROUP BY f, m, r ORDER BY c DESC, f, m, r"
    )
    by_route: dict[tuple[str, str], list[tuple[str, int, int, int]]] = {}
    for f, m, r, n, n5, n4 in rows:
        by_route.setdefault((m, r), []).append((f, int(n), int(n5), int(n4)))
    out = []
    for (m, r), sources in by_route.items():
        (f, n, n5, n4), *others = sources  # ordered by count: the first is the primary source
        if n5 or n4:
            out.append(_Route(f, m, r, n, {"5xx": n5, "4xx": n4}, tuple(others)))
    out.sort(key=lambda x: (-(x.fails["5xx"] + x.fails["4xx"]), x.method, x.route))
    return out[:MAX_ROUTES]


def _series(
    case: Case, groups: dict[str, Window], widths: dict[Window, int]
) -> dict[_Key, _Series]:
    """Requests, 5xx and 4xx per bucket of its file group's window for every picked route."""
    out: dict[_Key, _Series] = {}
    for f, m, r, b, total, n5, n4 in case.rows(
        "SELECT f, m, r, b, sum(n), coalesce(sum(n) FILTER (WHERE status BETWEEN 500 AND 599), 0),"
        " coalesce(sum(n) FILTER (WHERE status BETWEEN 400 AND 499), 0)"
        " FROM _http SEMI JOIN _http_pick USING (f, m, r) WHERE b IS NOT NULL"
        " GROUP BY f, m, r, b"
    ):
        window = groups[str(f)]
        n = bucket_count(window, widths[window])
        if not 0 <= b < n:
            continue
        s = out.setdefault((f, m, r), {"total": [0] * n, "5xx": [0] * n, "4xx": [0] * n})
        s["total"][b], s["5xx"][b], s["4xx"][b] = int(total), int(n5), int(n4)
    return out


def _codes(case: Case) -> dict[tuple[str, str, str, str], list[tuple[int, int]]]:
    """Failing status codes per picked route and class, most frequent first."""
    out: dict[tuple[str, str, str, str], list[tuple[int, int]]] = {}
    for f, m, r, status, c in case.rows(
        "SELECT f, m, r, status, sum(n) c FROM _http SEMI JOIN _http_pick USING (f, m, r)"
        " WHERE status BETWEEN 400 AND 599 GROUP BY f, m, r, status ORDER BY c DESC, status"
    ):
        klass = "5xx" if status >= 500 else "4xx"
        out.setdefault((f, m, r, klass), []).append((int(status), int(c)))
    return out


def _finding(
    case: Case,
    r: _Route,
    klass: str,
    hits: list[int],
    totals: list[int],
    window: Window | None,
    width: int,
    codes: list[tuple[int, int]],
) -> tuple[Finding, datetime | None] | None:
    """The finding for one route and status class (evidence is added for the kept ones)."""
    fails = r.fails[klass]
    rate = fails / r.requests
    timed = sum(totals) > 0
    half = halves(hits, totals) if timed else None
    if half is not None and not (half.before_total and half.after_total):
        half = None  # all its requests in one half of the window: nothing to compare
    change = onset(hits, totals) if timed else None
    new_half, new_onset = rose(half), rose(change)
    new = new_half or new_onset
    if fails < MIN_FAILURES and not new:
        return None
    if klass == "4xx" and rate < MIN_4XX_RATE and not new:
        return None
    fall = {} if new else fall_stats(half, change, window, width)
    fewer = bool(fall)
    p = min(x.p_value for x in (half, change) if x is not None) if half or change else 1.0
    after = change if new_onset and change else half
    current = after.after_rate if new and after else rate
    worst = _worst_bucket(hits, totals)
    score = (0.5 * (evidence_strength(p) if new else 0.0)) + 0.3 * math.sqrt(min(1.0, current))
    score += 0.2 * min(1.0, math.log10(fails + 1) / 3.0)
    score *= 1.0 if klass == "5xx" else 0.7
    stats: dict[str, Stat] = {
        "requests": r.requests,
        "failures": fails,
        "rate": rate,
        "rate_5xx": r.fails["5xx"] / r.requests,
        "rate_4xx": r.fails["4xx"] / r.requests,
        "top_status": codes[0][0] if codes else None,
        "top_status_share": codes[0][1] / fails if codes and fails else None,
        "first_half_rate": half.before_rate if half else None,
        "second_half_rate": half.after_rate if half else None,
        "p_halves": half.p_value if half else None,
        "new": new,
        "fell": fewer,
        **fall,
        "bucket_seconds": width,
    }
    since_ts: datetime | None = None
    near_text = ""
    if new_onset and change is not None and window:
        since_ts = bucket_start(window, width, change.split)
        stats.update(
            onset=minute(since_ts),
            onset_epoch=since_ts.timestamp(),
            baseline_rate=change.before_rate,
            rate_after=change.after_rate,
            failures_after=change.after_hits,
            requests_after=change.after_total,
            p_onset=change.p_value,
            lift=change.after_rate / change.before_rate if change.before_rate else None,
        )
        near = change_before(case, since_ts, width)
        if near is not None:
            stats.update(change=near[1], change_at=minute(near[0]))
            near_text = f", {relation(since_ts, near, width)}"
        # The title speaks of the requests since the onset: their commonest code, not the
        # whole window's (a steady background 502 can outnumber a new incident's 500s).
        low = 500 if klass == "5xx" else 400
        codes = [
            (int(status), int(c))
            for status, c in case.rows(
                "SELECT status, sum(n) c FROM _http WHERE f = ? AND m = ? AND r = ?"
                " AND status BETWEEN ? AND ? AND b >= ? GROUP BY status ORDER BY c DESC, status",
                (r.file, r.method, r.route, low, low + 99, change.split),
            )
        ] or codes
    if worst and window:
        b, w_hits, w_total = worst
        stats.update(
            worst_bucket=minute(bucket_start(window, width, b)),
            worst_rate=w_hits / w_total,
            worst_requests=w_total,
        )
    for f, n, n5, n4 in r.others:
        stats[f"also:{f}"] = f"{(n5 if klass == '5xx' else n4) / n:.1%} of {n:,}"
    finding = Finding(
        key=f"HTTP_{klass.upper()}_ROUTE",
        analyzer="http_status",
        subject=f"{klass} {r.method} {r.route}",
        severity=_severity(klass, new, current),
        score=round(score, 4),
        title=_title(r, klass, stats, codes, change if new_onset else None, width, near_text),
        summary=_summary(r, klass, stats, new, timed),
        window=window or case.window,
        entities={"route": f"{r.method} {r.route}", "method": r.method, "path": r.route}
        | {"file": r.file, "status_class": klass},
        stats=stats,
        next_steps=_next_steps(klass, new),
    )
    return finding, since_ts


def _severity(klass: str, new: bool, rate: float) -> Severity:
    if not new:
        return "medium" if klass == "5xx" and rate >= 0.2 else ("low" if klass == "5xx" else "info")
    if klass == "4xx":
        return "medium" if rate >= 0.1 else "low"
    if rate >= 0.5:
        return "critical"
    return "high" if rate >= 0.1 else ("medium" if rate >= 0.01 else "low")


def _worst_bucket(hits: list[int], totals: list[int]) -> tuple[int, int, int] | None:
    best: tuple[int, int, int] | None = None
    for i, (h, t) in enumerate(zip(hits, totals, strict=True)):
        if t >= MIN_BUCKET_REQUESTS and (best is None or h / t > best[1] / best[2]):
            best = (i, h, t)
    return best


def _title(
    r: _Route,
    klass: str,
    stats: dict[str, Stat],
    codes: list[tuple[int, int]],
    change: RateChange | None,
    width: int,
    near_text: str,
) -> str:
    mostly = f", mostly {codes[0][0]}" if codes else ""
    route = f"{r.method} {r.route}"
    worst = ""
    if isinstance(stats.get("worst_rate"), float):
        worst = f"; worst {label_seconds(width)} bucket {stats['worst_rate']:.0%}"
    if change is not None:
        return (
            f"Since {stats['onset']}{near_text}, {change.after_rate:.1%} of {route} requests return"
            f" {klass} ({change.after_hits:,} of {change.after_total:,}{mostly}),"
            f" up from {change.before_rate:.1%} before{worst}"
        )
    trend = (
        "rising in the second half"
        if stats["new"]
        else f"fell within the window ({fall_phrase(stats, 'its requests')})"
        if stats["fell"]
        else "steady over the window"
        if stats["first_half_rate"] is not None
        else "no trend measured within the window"
    )
    return (
        f"{route}: {stats['rate']:.1%} of {r.requests:,} requests return {klass}"
        f" ({stats['failures']:,}{mostly}), {trend}{worst}"
    )


def _summary(r: _Route, klass: str, stats: dict[str, Stat], new: bool, timed: bool) -> str:
    h1, h2, ph = stats["first_half_rate"], stats["second_half_rate"], stats["p_halves"]
    halves_text = (
        f"First half of the window {h1:.2%}, second half {h2:.2%} (one-sided Fisher p = {ph:.2g})."
        if isinstance(h1, float) and isinstance(h2, float) and isinstance(ph, float)
        else "All its requests fall in one half of the window, so the halves are not compared."
        if timed
        else "No timestamps to compare over time."
    )
    onset = stats.get("p_onset")
    if isinstance(onset, float):
        halves_text += (
            f" At the change point {stats['onset']}: {stats['baseline_rate']:.2%} before,"
            f" {stats['rate_after']:.2%} after (p = {onset:.2g}, corrected for the split search)."
        )
    verdict = (
        "The rise is significant: something changed during the window."
        if new
        else f"The rate fell within the window ({FELL_MEANING})."
        if stats["fell"]
        else "The rate did not rise within the window: likely background, not the incident."
        if isinstance(h1, float) or isinstance(onset, float)
        else "Whether the rate changed cannot be told from this window."
    )
    others = ", ".join(f"{k[5:]} ({v})" for k, v in stats.items() if k.startswith("also:"))
    also = f" Also seen in {others}." if others else ""
    return (
        f"{r.method} {r.route} in {r.file}: {stats['failures']:,} of {r.requests:,} requests"
        f" returned {klass}. {halves_text} {verdict}{also}"
    )


def _evidence(
    case: Case, picks: list[tuple[_Route, str, datetime | None, Stat]]
) -> list[tuple[Evidence, ...]]:
    """Three failing requests per kept finding (the commonest failing status first, then the
    earliest since the onset), with their log messages, in one pass over the requests."""
    if not picks:
        return []
    columns = list(zip(*[
        (i, r.file, r.method, r.route, *CLASSES[klass], since, top if isinstance(top, int) else None)
        for i, (r, klass, since, top) in enumerate(picks)
    ], strict=True))  # fmt: skip
    case.con.execute(
        "CREATE OR REPLACE TEMP TABLE _http_ev AS SELECT unnest(?) i, unnest(?) f, unnest(?) m,"
        " unnest(?) r, unnest(?) lo, unnest(?) hi, CAST(unnest(?) AS TIMESTAMPTZ) since,"
        " CAST(unnest(?) AS INTEGER) top",
        [list(c) for c in columns],
    )
    picked = case.rows(
        "SELECT i, src, line, ts, m, url, status, duration_ms FROM ("
        " SELECT p.i, q.*, row_number() OVER (PARTITION BY p.i ORDER BY"
        "  q.status IS DISTINCT FROM p.top, q.ts NULLS LAST, q.src, q.line, q.status, q.url) k"
        f" FROM (SELECT f, src, {METHOD_SQL} m, {ROUTE_SQL} r, line, ts, url, status,"
        f"  duration_ms FROM {_REQUESTS} WHERE status BETWEEN 400 AND 599) q"
        " JOIN _http_ev p ON q.f = p.f AND q.m = p.m AND q.r = p.r"
        "  AND q.status BETWEEN p.lo AND p.hi AND (p.since IS NULL OR q.ts >= p.since)"
        ") WHERE k <= 3 ORDER BY i, k"
    )
    # A request that came from a log record has that record's message too; one lookup by
    # file and line is far cheaper than joining all events.
    wanted = sorted({(row[1], row[2]) for row in picked if row[2] is not None})
    messages = {
        (f, line): message
        for f, line, message in case.rows(
            "SELECT file, line, any_value(message) FROM events SEMI JOIN"
            " (SELECT unnest(?) file, unnest(?) line) USING (file, line) GROUP BY file, line",
            [[w[0] for w in wanted], [w[1] for w in wanted]],
        )
    } if wanted else {}  # fmt: skip
    out: list[list[Evidence]] = [[] for _ in picks]
    for i, f, line, ts, method, url, status, ms in picked:
        route = picks[i][0].route
        took = f" in {ms:.0f} ms" if ms is not None else ""
        when = iso(ts) if ts is not None else "(no time)"
        excerpt = f"{when} {method} {url or route} → {status}{took}"
        # The log record adds what the request line cannot say (an error message).
        message = messages.get((f, line))
        if message and (url or route) not in str(message):
            excerpt += "\n" + str(message)
        lines = (int(line), int(line)) if line is not None else None
        out[i].append(Evidence(file=str(f), lines=lines, excerpt=excerpt[:600]))
    return [tuple(e) for e in out]


def _next_steps(klass: str, new: bool) -> tuple[str, ...]:
    if not new:
        return ("Compare with a healthy period: a steady rate is usually not the incident.",)
    steps = ["Check the changes table for a release or config change just before the onset."]
    if klass == "5xx":
        steps.append("Find the server-side error logged at the same times (stack traces).")
    else:
        steps.append("Look at which clients or accounts receive the 4xx (auth, validation).")
    return tuple(steps)
