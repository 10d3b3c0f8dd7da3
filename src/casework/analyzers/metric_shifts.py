"""Metric shifts: a gauge in a metrics file (consumer lag, queue depth, pool use) whose level moved.

An exporter's samples land in the store as records of one template without a
level: ``group=ledger partition=3 lag=1234``. Such a stream's numeric
attributes are gauges or counters. Per attribute, the samples are averaged per
time bucket (``BUCKETS`` over the stream's span); a mean that only grows is a
counter (offsets, totals) and is left out. The split of the buckets that best
separates the log-scaled means before and after it (Welch's t) is the shift;
it is a finding when the medians on both sides differ ``MIN_RATIO`` times and
nearly every bucket after it lies beyond the range before it. A message log
is left to the change points: its numbers are a request's, not a level.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window
from casework.shifts import STREAM_SQL
from casework.timeline import minute

BUCKETS = 120
MIN_BUCKETS = 20
#: A stream is a metrics stream when one template without a level holds this share of it.
METRIC_SHARE = 0.9
MIN_SAMPLES = 100
MIN_SIDE = 5
#: The medians before and after must differ this many times (on values + 1).
MIN_RATIO = 4.0
#: And this share of the buckets after must lie beyond everything before (rise or fall).
BEYOND = 0.8
#: A mean that grows at this share of its steps is a counter, not a gauge.
COUNTER_STEPS = 0.9
MAX_KEYS = 20


@analyzer(key="metric_shifts", needs=("event_counts",))
def metric_shifts(case: Case) -> Iterator[Finding]:
    """Gauges in metrics streams whose level moved, with the time it moved."""
    for stream, total in _metric_streams(case):
        for key, series in _series(case, stream, _numeric_keys(case, stream)).items():
            if len(series) < MIN_BUCKETS or _counter([v for _, v in series]):
                continue
            found = _shift(series)
            if found is not None:
                yield _finding(case, stream, key, series, found, total)


def _metric_streams(case: Case) -> list[tuple[str, int]]:
    """(stream, records) of the streams one level-less template holds nearly all of."""
    rows = case.rows(
        "SELECT s, sum(n), max(n) FILTER (WHERE bare) FROM (SELECT"
        f" {STREAM_SQL} s, template_id, sum(n) n, bool_and(level IS NULL) bare FROM event_counts"
        " GROUP BY s, template_id) GROUP BY s HAVING sum(n) >= ? ORDER BY s",
        (MIN_SAMPLES,),
    )
    return [(str(s), int(n)) for s, n, top in rows if top and int(top) >= METRIC_SHARE * int(n)]


def _numeric_keys(case: Case, stream: str) -> list[str]:
    """The keys whose values are numbers, commonest first (in the stream's first thousand
    samples)."""
    rows = case.rows(
        "SELECT k, count(*) n FROM (SELECT unnest(json_keys(attrs)) k, attrs FROM events"
        f" WHERE {STREAM_SQL} = ? AND attrs IS NOT NULL LIMIT 1000)"
        " WHERE json_type(attrs, '$.\"' || replace(k, '\"', '\\\"') || '\"') IN"
        " ('BIGINT', 'UBIGINT', 'DOUBLE') GROUP BY k ORDER BY n DESC, k LIMIT ?",
        (stream, MAX_KEYS),
    )
    return [str(k) for k, _ in rows]


#: A key's series: (bucket start, the mean of its samples in the bucket), in time order.
Series = list[tuple[datetime, float]]


def _series(case: Case, stream: str, keys: list[str]) -> dict[str, Series]:
    """Each key's mean per bucket of the stream's span, all keys in one pass over it."""
    span = case.one(
        f"SELECT min(ts), max(ts) FROM events WHERE {STREAM_SQL} = ? AND ts IS NOT NULL",
        (stream,),
    )
    if not keys or span is None or span[0] is None or span[0] == span[1]:
        return {}
    width = max(1.0, (span[1] - span[0]).total_seconds() / BUCKETS)
    paths = [_path(k) for k in keys]
    means = ", ".join(f"avg(TRY_CAST(v[{i + 1}] AS DOUBLE))" for i in range(len(keys)))
    rows = case.rows(
        f"SELECT min(ts), {means} FROM (SELECT ts, json_extract(attrs, ?::VARCHAR[]) v,"
        " floor((epoch(ts) - epoch(?::TIMESTAMPTZ)) / ?) b FROM events"
        f" WHERE {STREAM_SQL} = ? AND ts IS NOT NULL AND attrs IS NOT NULL) GROUP BY b ORDER BY b",
        (paths, span[0], width, stream),
    )
    return {
        key: [(row[0], float(row[i + 1])) for row in rows if row[i + 1] is not None]
        for i, key in enumerate(keys)
    }


def _counter(values: list[float]) -> bool:
    steps = [b - a for a, b in pairwise(values) if b != a]
    return bool(steps) and sum(1 for s in steps if s > 0) >= COUNTER_STEPS * len(steps)


def _shift(series: Series) -> tuple[int, float, float] | None:
    """(index of the first bucket after, median before, median after) of the best split."""
    logs = [math.log1p(max(v, 0.0)) for _, v in series]
    best: tuple[float, int] | None = None
    for split in range(MIN_SIDE, len(logs) - MIN_SIDE + 1):
        before, after = logs[:split], logs[split:]
        spread = statistics.pvariance(before) / len(before) + statistics.pvariance(after) / len(
            after
        )
        t = abs(statistics.fmean(after) - statistics.fmean(before)) / math.sqrt(spread + 1e-9)
        if best is None or t > best[0]:
            best = (t, split)
    if best is None:
        return None
    split = best[1]
    values = [v for _, v in series]
    before, after = values[:split], values[split:]
    low, high = statistics.median(before), statistics.median(after)
    ratio = (high + 1) / (low + 1)
    if max(ratio, 1 / ratio) < MIN_RATIO:
        return None
    if _beyond(series, split, high > low) < BEYOND * len(after):
        return None
    return split, low, high


def _beyond(series: Series, split: int, rose: bool) -> int:
    """The buckets from ``split`` on above every bucket before it (below, for a fall)."""
    before = [v for _, v in series[:split]]
    edge = max(before) if rose else min(before)
    return sum(1 for _, v in series[split:] if (v > edge if rose else v < edge))


def _finding(
    case: Case,
    stream: str,
    key: str,
    series: Series,
    found: tuple[int, float, float],
    total: int,
) -> Finding:
    split, low, high = found
    rose = high > low
    at, last = series[split][0], series[-1]
    peak = (
        max(series[split:], key=lambda b: b[1]) if rose else min(series[split:], key=lambda b: b[1])
    )
    ratio = (high + 1) / (low + 1)
    still = last[1] >= high if rose else last[1] <= high
    title = (
        f"{key} in {stream} {'rose' if rose else 'fell'} at {minute(at)}: its mean per sample"
        f" was {_num(low)} before (median of {split} buckets) and {_num(high)} after,"
        f" {'peaking' if rose else 'bottoming'} at {_num(peak[1])} at {minute(peak[0])}"
        f"{'; still there at the end of the evidence' if still else ''}"
    )
    severity: Severity = "high" if rose and ratio >= 10 and still else "medium"
    evidence = _evidence(case, stream, key, series[split - 1][0], at)
    return Finding(
        key="CHANGEPOINT_METRIC",
        analyzer="metric_shifts",
        subject=f"{stream}:{key}",
        severity=severity,
        score=round(min(0.95, 0.6 + 0.1 * math.log10(max(ratio, 1 / ratio))), 4),
        title=title,
        summary=(
            f"{stream} holds {total:,} samples of one kind (a metrics export). The mean of {key}"
            f" per bucket of {len(series)} moved {ratio if rose else 1 / ratio:,.1f} times at"
            f" {minute(at)}: {_beyond(series, split, rose):,} of the {len(series) - split}"
            " buckets after it lie beyond every bucket before it."
        ),
        window=Window(at, last[0]),
        entities={"series": "metric", "subject": key, "file": stream, "what": f"{key} in {stream}"},
        stats={
            "onset_epoch": at.timestamp(),
            "earliest_epoch": series[split - 1][0].timestamp(),
            "latest_epoch": at.timestamp(),
            "before_median": low,
            "after_median": high,
            "ratio": ratio,
            "peak": peak[1],
            "peak_epoch": peak[0].timestamp(),
            "last": last[1],
            "increased": rose,
        },
        evidence=evidence,
        next_steps=(
            f"Plot {key} per series (its labels: partition, queue, host) around {minute(at)}:"
            " one series or all of them?",
            "Find what changed just before it moved: a release, a configuration, the load.",
        ),
    )


def _evidence(
    case: Case, stream: str, key: str, before: datetime, at: datetime
) -> tuple[Evidence, ...]:
    """A sample from just before the shift and one from after it."""
    path = _path(key)
    out = []
    for since in (before, at):
        row = case.one(
            "SELECT file, line, ts, json_extract(attrs, ?) FROM events"
            f" WHERE {STREAM_SQL} = ? AND ts >= ? AND json_extract(attrs, ?) IS NOT NULL"
            " ORDER BY ts, line LIMIT 1",
            (path, stream, since, path),
        )
        if row is not None:
            f, line, ts, value = row
            out.append(Evidence(str(f), (int(line), int(line)), f"{minute(ts)} {key} = {value}"))
    return tuple(out)


def _path(key: str) -> str:
    """The JSON path of a flattened attribute (its key may hold dots)."""
    return '$."' + key.replace('"', '\\"') + '"'


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.2f}"
