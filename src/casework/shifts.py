"""What shifted in a case: change points of failure rates, template rates and latency, found in SQL aggregates.

Each series is counted per time bucket with one GROUP BY over the case
store (never a Python loop over rows) and tested with
:func:`casework.changepoint.rate_shift`. A shift found on the coarse grid
(at most ~200 buckets over the window) is located again on a fine grid
around it, so its time is known to the minute rather than to the bucket.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from casework.case import ROUTE_SQL, Case
from casework.changepoint import Shift, bursts, rate_shift
from casework.findings import Window
from casework.levels import ERROR_SQL
from casework.sketch import quantiles_sql
from casework.timeline import bucket_count, bucket_seconds, bucket_sql, bucket_start

ALPHA = 0.001
MIN_HITS = 5
MAX_TEMPLATES = 300
FINE_BUCKETS = 120
#: A log stream: the file name without rotation suffixes (``app.log.2.gz`` and ``app.log`` are one),
#: dates with a time of day too (lumberjack ``app-2026-11-27T15-04-05.000.log.gz``, PostgreSQL
#: ``postgresql-2026-11-27_150405.log``, Python ``app.log.2026-11-27_15-00-00``).
STREAM_SQL = (
    "regexp_replace(regexp_replace(coalesce(file, '?'), '(\\.[0-9]+)?(\\.(gz|bz2|xz|zst))?$', ''),"
    " '[-_.]?[0-9]{4}-?[0-9]{2}-?[0-9]{2}([T_-]?[0-9]{2}([-:.]?[0-9]{2}){0,2}(\\.[0-9]{1,9})?)?',"
    " '')"
)


@dataclass(frozen=True, slots=True)
class Onset:
    """A significant change of one series, with its time and candidate interval (UTC)."""

    kind: str  # "5xx" | "errors" | "template" | "latency"
    subject: str
    file: str
    table: str
    where: str  # SQL selecting the series' population from ``table``
    hit: str  # SQL marking a hit within it
    shift: Shift
    at: datetime
    earliest: datetime
    latest: datetime

    @property
    def increased(self) -> bool:
        return self.shift.increased


@dataclass(frozen=True, slots=True)
class _Spec:
    """A family of series: the population per (stream, group), hits per (stream, group, detail)."""

    kind: str
    table: str
    group: str
    hit: str
    detail: str | None = None


def _specs(case: Case) -> list[_Spec]:
    specs = []
    if case.count("requests"):
        specs.append(
            _Spec(
                "5xx",
                "requests",
                f"coalesce(upper(method) || ' ', '') || {ROUTE_SQL}",
                "status BETWEEN 500 AND 599",
                "'HTTP ' || status",
            )
        )
    if case.count("events"):
        specs.append(
            _Spec("errors", "events", "'error-level records'", f"lower(level) IN {ERROR_SQL}")
        )
        ids = case.rows(
            "SELECT template_id FROM event_counts WHERE template_id IS NOT NULL"
            " GROUP BY template_id HAVING sum(n) >= ? ORDER BY sum(n) DESC, template_id LIMIT ?",
            (MIN_HITS * 2, MAX_TEMPLATES),
        )
        if ids:
            listed = ", ".join(f"'{_q(str(r[0]))}'" for r in ids)
            specs.append(
                _Spec("template", "events", "''", f"template_id IN ({listed})", "template_id")
            )
    return specs


WHAT = {
    "5xx": "rate of {s}",
    "errors": "share of error-level records",
    "template": "rate of template {s}",
    "latency": "share of slow requests (above the route's p90) on {s}",
}


def template_patterns(case: Case, onsets: Iterable[Onset]) -> dict[str, tuple[str, str]]:
    """Template id -> (its text, its level in lower case) for the template series among ``onsets``."""
    ids = [o.subject for o in onsets if o.kind == "template"]
    if not ids:
        return {}
    rows = case.rows(
        "SELECT template_id, pattern, coalesce(level, '') FROM templates"
        " WHERE template_id IN (SELECT unnest(?))",
        (ids,),
    )
    return {str(r[0]): (str(r[1]), str(r[2]).lower()) for r in rows}


def describe(o: Onset, patterns: dict[str, tuple[str, str]]) -> str:
    """What the series is, in words (``rate of HTTP 500 on POST /v1/refunds``)."""
    subject = o.subject
    if o.kind == "template":
        subject = '"' + patterns.get(o.subject, (o.subject, ""))[0][:80] + '"'
    return WHAT[o.kind].format(s=subject)


def detect(case: Case) -> list[Onset]:
    """Significant shifts of every series in the case, strongest first.

    Computed once per case (and window): change points and what changed before
    them both start from these.
    """
    return list(case.memo(("shifts.detect",), lambda: tuple(_detect(case))))


def _detect(case: Case) -> list[Onset]:
    window = case.window
    if window is None:
        return []
    width = bucket_seconds(window)
    found: list[Onset] = []
    for spec in _specs(case):
        found += _scan(case, spec, window, width)
    if case.count("requests"):
        found += _latency(case, window, width)
    found.sort(key=lambda o: (o.shift.p_value, -o.shift.llr, o.kind, o.subject))
    return found


def _scan(case: Case, spec: _Spec, window: Window, width: int) -> list[Onset]:
    series = _grouped(case, spec, window, width)
    out = []
    for (file, group, detail), (hits, totals) in series.items():
        if sum(hits) < MIN_HITS:
            continue
        where = f"{STREAM_SQL} = '{_q(file)}' AND ({spec.group}) = '{_q(group)}'"
        hit = (
            spec.hit if spec.detail is None else f"{spec.hit} AND ({spec.detail}) = '{_q(detail)}'"
        )
        subject = f"{detail} on {group}" if group and detail else group or detail
        onset = _onset(
            case, spec.kind, subject, file, spec.table, where, hit, hits, totals, window, width
        )
        if onset is not None:
            out.append(onset)
    return out


def _latency(case: Case, window: Window, width: int) -> list[Onset]:
    """Share of a route's requests slower than its own 90th percentile."""
    # The cut comes from the latency sketch (within 1% of the exact quantile): no request
    # rows are held in memory, however many there are.
    per_route = f"(SELECT {STREAM_SQL} AS stream, route, bin, n FROM latency_bins)"
    cuts = case.rows(
        f"SELECT stream, route, p90 FROM ({quantiles_sql(per_route, ['stream', 'route'], [0.9])})"
        " WHERE timed >= 200 ORDER BY stream, route"
    )
    series = _cut_series(case, cuts, window, width)
    out = []
    for file, route, cut in cuts:
        where = f"{STREAM_SQL} = '{_q(file)}' AND {ROUTE_SQL} = '{_q(route)}'"
        hit = f"duration_ms > {float(cut)!r}"
        hits, totals = series[str(file), str(route)]
        onset = _onset(
            case,
            "latency",
            str(route),
            str(file),
            "requests",
            where,
            hit,
            hits,
            totals,
            window,
            width,
        )
        if onset is not None and onset.increased:
            out.append(onset)
    return out


def _cut_series(
    case: Case, cuts: list[tuple[Any, ...]], window: Window, width: int
) -> dict[tuple[str, str], tuple[list[int], list[int]]]:
    """Per (stream, route): requests slower than the route's cut, and all requests, per
    bucket; every route in one pass over the requests."""
    n = bucket_count(window, width)
    out = {(str(c[0]), str(c[1])): ([0] * n, [0] * n) for c in cuts}
    if not cuts:
        return out
    b = bucket_sql("ts", window, width)
    for f, r, i, h, t in case.rows(
        f"SELECT q.stream, q.route, q.b, count(*) FILTER (WHERE q.duration_ms > c.cut), count(*)"
        f" FROM (SELECT {STREAM_SQL} AS stream, {ROUTE_SQL} AS route, {b} AS b, duration_ms"
        "  FROM requests WHERE ts >= ? AND ts <= ?) q"
        " JOIN (SELECT unnest(?) AS stream, unnest(?) AS route, unnest(?) AS cut) c"
        " ON q.stream = c.stream AND q.route = c.route GROUP BY ALL",
        (
            window.start,
            window.end,
            [str(c[0]) for c in cuts],
            [str(c[1]) for c in cuts],
            [float(c[2]) for c in cuts],
        ),
    ):
        if 0 <= i < n:
            hits, totals = out[str(f), str(r)]
            hits[i], totals[i] = int(h), int(t)
    return out


def _onset(
    case: Case,
    kind: str,
    subject: str,
    file: str,
    table: str,
    where: str,
    hit: str,
    hits: list[int],
    totals: list[int],
    window: Window,
    width: int,
) -> Onset | None:
    coarse = rate_shift(hits, totals)
    if coarse is None or coarse.p_value >= ALPHA:
        return None
    # Look again on a fine grid over the coarse candidate interval (one bucket either side);
    # the counts outside it stay as one bucket each, so both rates are still estimated globally.
    first, last = max(coarse.lo - 1, 0), min(coarse.hi + 1, len(totals))
    start = bucket_start(window, width, first)
    end = bucket_start(window, width, last)
    fine_width = max(1, int((end - start).total_seconds() // FINE_BUCKETS))
    fh, ft = _series(
        case, table, where, hit, Window(start, end - timedelta(microseconds=1)), fine_width
    )
    # Bursts the coarse grid set aside stay aside: on the fine grid a daily burst of errors is
    # many small buckets, none a burst by itself, and it would pull the onset to its start.
    keep = ~bursts(np.asarray(hits, dtype=float), np.asarray(totals, dtype=float))
    for j in range(len(fh)):
        if not keep[min(first + (j * fine_width) // width, len(keep) - 1)]:
            fh[j] = ft[j] = 0
    kept_h = [h if k else 0 for h, k in zip(hits, keep, strict=True)]
    kept_t = [t if k else 0 for t, k in zip(totals, keep, strict=True)]
    fh = [sum(kept_h[:first]), *fh, sum(kept_h[last:])]
    ft = [sum(kept_t[:first]), *ft, sum(kept_t[last:])]
    refined = rate_shift(fh, ft)
    if refined is None:
        at = bucket_start(window, width, coarse.split)
        lo = bucket_start(window, width, coarse.lo)
        hi = bucket_start(window, width, coarse.hi)
    else:
        # Index 0 is the prefix bucket, so fine bucket j starts at start + (j - 1) * fine_width.
        at, lo, hi = (
            start + timedelta(seconds=fine_width * max(x - 1, 0))
            for x in (refined.split, refined.lo, refined.hi)
        )
    return Onset(kind, subject, file, table, where, hit, coarse, at, lo, hi)


def _series(
    case: Case, table: str, where: str, hit: str, window: Window, width: int
) -> tuple[list[int], list[int]]:
    # Cut at bucket starts, so events can be counted per second (see ``_counted``).
    assert window.start.microsecond == 0 and window.end.microsecond == 999_999, window
    n = bucket_count(window, width)
    hits, totals = [0] * n, [0] * n
    source, ts, count = _counted(table)
    b = bucket_sql(ts, window, width)
    for i, h, t in case.rows(
        f"SELECT {b} b, coalesce({count} FILTER (WHERE {hit}), 0), {count} FROM {source}"
        f" WHERE {ts} >= ? AND {ts} <= ? AND {where} GROUP BY b",
        (window.start, window.end),
    ):
        if 0 <= i < n:
            hits[i], totals[i] = int(h), int(t)
    return hits, totals


def _counted(table: str) -> tuple[str, str, str]:
    """Where a series of ``table`` is counted: (source, time column, count expression).

    Events are counted from ``event_counts``, a row per file, second, template and
    level: buckets are whole seconds from a whole-second origin, and a series is cut
    only at bucket starts (the fine grid's window), so the sums equal the row counts.
    """
    if table == "events":
        return "event_counts", "second", "sum(n)"
    return table, "ts", "count(*)"


def _grouped(
    case: Case, spec: _Spec, window: Window, width: int
) -> dict[tuple[str, str, str], tuple[list[int], list[int]]]:
    """Hits per (stream, group, detail) and totals per (stream, group), per bucket, in two passes."""
    n = bucket_count(window, width)
    source, ts, count = _counted(spec.table)
    b = bucket_sql(ts, window, width)
    totals: dict[tuple[str, str], list[int]] = {}
    for f, g, i, c in case.rows(
        f"SELECT {STREAM_SQL}, {spec.group}, {b} b, {count} FROM {source}"
        f" WHERE {ts} IS NOT NULL GROUP BY ALL"
    ):
        if 0 <= i < n:
            totals.setdefault((str(f), str(g)), [0] * n)[i] = int(c)
    detail = spec.detail or "''"
    out: dict[tuple[str, str, str], tuple[list[int], list[int]]] = {}
    for f, g, d, i, c in case.rows(
        f"SELECT {STREAM_SQL}, {spec.group}, {detail}, {b} b, {count} FROM {source}"
        f" WHERE {ts} IS NOT NULL AND {spec.hit} GROUP BY ALL"
    ):
        key = (str(f), str(g))
        if 0 <= i < n and key in totals:
            out.setdefault((*key, str(d)), ([0] * n, totals[key]))[0][i] = int(c)
    return out


def _q(text: str) -> str:
    return str(text).replace("'", "''")
