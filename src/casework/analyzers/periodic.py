"""Periodic bursts: latency spikes or error bursts that repeat on a period, and the events that align with them in phase.

Latency (mean per bin, per route) and error counts (per stream) are binned
over the window and searched for a period (:mod:`casework.periodicity`).
For a period found, every log template of every source is tested for
alignment with the bursts' phase; only templates whose occurrences fall in
the burst window far more often than its share of the cycle are named, so a
GC line every 30 s or a job on the same period at another phase is not.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from casework.case import ROUTE_SQL, Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Window
from casework.levels import ERROR_SQL
from casework.periodicity import Alignment, Period, align, find_period
from casework.shifts import STREAM_SQL
from casework.timeline import bucket_count, bucket_sql, label_seconds, minute, origin

MAX_BINS = 8000
NICE = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_ROUTES = 8
MIN_CONSISTENCY = 0.5
ALIGN_P = 1e-6
MIN_ALIGN_SHARE = 0.6
MIN_ALIGN_LIFT = 3.0


@dataclass(frozen=True, slots=True)
class _Target:
    kind: str  # "latency" | "errors"
    subject: str
    stream: str
    series: np.ndarray


@analyzer(key="periodic", needs=())
def periodic(case: Case) -> Iterator[Finding]:
    """Latency spikes and error bursts that repeat on a period, with the events aligned in phase."""
    window = case.window
    if window is None:
        return
    span = (window.end - window.start).total_seconds()
    # Past the longest nice width, the bins grow with the window so their number stays bounded.
    width = next((w for w in NICE if span / w <= MAX_BINS), math.ceil(span / MAX_BINS))
    n = bucket_count(window, width)
    found: dict[tuple[str, int], tuple[_Target, Period]] = {}
    for target in _targets(case, window, width, n):
        p = find_period(target.series)
        if p is None or p.consistency < MIN_CONSISTENCY or not _marked(target, p):
            continue
        # One finding per subject and period: the access log and the app log see the same spikes.
        key = (target.subject, round(p.period * width / 10))
        if key not in found or found[key][1].acf < p.acf:
            found[key] = (target, p)
    if not found:
        return
    templates = _templates(case, window, width, n)
    for target, p, others in _groups(list(found.values())):
        aligned = []
        for (stream, tid, pattern), counts in templates.items():
            a = align(counts, p)
            if a.p_value < ALIGN_P and a.share >= MIN_ALIGN_SHARE and a.lift >= MIN_ALIGN_LIFT:
                aligned.append((a, stream, tid, pattern))
        aligned.sort(key=lambda x: (x[0].p_value, -x[0].share, x[2]))
        yield _finding(case, target, p, aligned[:3], origin(window), width, others)


def _groups(found: list[tuple[_Target, Period]]) -> list[tuple[_Target, Period, list[str]]]:
    """Series that spike on the same period and phase are one finding (the strongest leads)."""
    groups: list[tuple[_Target, Period, list[str]]] = []
    for target, p in sorted(found, key=lambda x: (-x[1].acf, x[0].subject)):
        for lead, q, others in groups:
            same_period = abs(q.period - p.period) <= 0.02 * q.period
            gap = abs(q.phase - p.phase) % q.period
            near = min(gap, q.period - gap) <= q.half_width + p.half_width + 2
            if lead.kind == target.kind and same_period and near:
                if target.subject != lead.subject and target.subject not in others:
                    others.append(target.subject)
                break
        else:
            groups.append((target, p, []))
    return groups


def _marked(t: _Target, p: Period) -> bool:
    """A latency cycle must be large in absolute and relative terms to matter to a user."""
    if t.kind == "latency":
        return p.peak - p.baseline >= max(100.0, 2.0 * p.baseline)
    return p.peak - p.baseline >= 1.0


def _targets(case: Case, window: Window, width: int, n: int) -> Iterator[_Target]:
    b = bucket_sql("ts", window, width)
    routes = case.rows(
        f"SELECT {STREAM_SQL} s, {ROUTE_SQL} r FROM requests WHERE duration_ms IS NOT NULL"
        " GROUP BY s, r HAVING count(*) >= 500 ORDER BY count(*) DESC LIMIT ?",
        (MAX_ROUTES,),
    )
    # One pass for every picked route, one for every error stream (not one pass each).
    latency = _by_key(
        case.rows(
            f"SELECT s, r, {b} b, avg(duration_ms) FROM (SELECT {STREAM_SQL} s, {ROUTE_SQL} r, ts,"
            " duration_ms FROM requests WHERE duration_ms IS NOT NULL AND ts IS NOT NULL)"
            " SEMI JOIN (SELECT unnest(?) s, unnest(?) r) USING (s, r) GROUP BY s, r, b",
            ([x[0] for x in routes], [x[1] for x in routes]),
        )
        if routes
        else []
    )
    for stream, route in routes:
        rows = latency.get((stream, route), [])
        yield _Target("latency", str(route), str(stream), _dense(rows, n, fill_median=True))
    streams = [
        stream
        for (stream,) in case.rows(
            f"SELECT {STREAM_SQL} s FROM event_counts WHERE lower(level) IN {ERROR_SQL}"
            " GROUP BY s HAVING sum(n) >= 50"
        )
    ]
    errors = _by_key(
        case.rows(
            f"SELECT s, {bucket_sql('second', window, width)} b, sum(n) FROM (SELECT {STREAM_SQL} s, second,"
            f" n FROM event_counts WHERE lower(level) IN {ERROR_SQL} AND second IS NOT NULL)"
            " SEMI JOIN (SELECT unnest(?) s) USING (s) GROUP BY s, b",
            (streams,),
        )
        if streams
        else []
    )
    for stream in streams:
        rows = errors.get((stream,), [])
        yield _Target("errors", "error-level records", str(stream), _dense(rows, n))


def _by_key(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    """Rows ``(*key, bucket, value)`` grouped by key, as (bucket, value) pairs."""
    out: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        out.setdefault(tuple(row[:-2]), []).append(tuple(row[-2:]))
    return out


def _dense(rows: list[tuple[object, ...]], n: int, fill_median: bool = False) -> np.ndarray:
    values = {int(i): float(v) for i, v in rows if i is not None and 0 <= int(i) < n}  # type: ignore[call-overload, arg-type]
    fill = float(np.median(list(values.values()))) if fill_median and values else 0.0
    out = np.full(n, fill)
    for i, v in values.items():
        out[i] = v
    return out


def _templates(
    case: Case, window: Window, width: int, n: int
) -> dict[tuple[str, str, str], np.ndarray]:
    b = bucket_sql("e.second", window, width)
    out: dict[tuple[str, str, str], np.ndarray] = {}
    stream = STREAM_SQL.replace("file", "e.file")
    for s, tid, pattern, i, c in case.rows(
        f"SELECT {stream}, e.template_id, any_value(t.pattern), {b} b, sum(e.n)"
        " FROM event_counts e JOIN templates t USING (template_id)"
        " WHERE e.second IS NOT NULL GROUP BY 1, 2, 4"
    ):
        if 0 <= i < n:
            out.setdefault((str(s), str(tid), str(pattern)), np.zeros(n))[int(i)] += float(c)
    return {k: v for k, v in out.items() if v.sum() >= 4}


def _finding(
    case: Case,
    t: _Target,
    p: Period,
    aligned: list[tuple[Alignment, str, str, str]],
    start: datetime,
    width: int,
    others: list[str],
) -> Finding:
    seconds = p.period * width
    first = start + timedelta(seconds=p.phase * width)
    every = label_seconds(round(seconds))
    also = f" (and {', '.join(others[:4])})" if others else ""
    what = f"latency of {t.subject}{also}" if t.kind == "latency" else f"{t.subject} in {t.stream}"
    size = (
        f"mean {p.peak:,.0f} ms vs {p.baseline:,.0f} ms"
        if t.kind == "latency"
        else f"{p.peak:.1f} vs {p.baseline:.1f} per {label_seconds(width)}"
    )
    named = "; ".join(
        f'"{pat[:60]}" ({s}, {a.inside} of {a.total} in phase)' for a, s, _, pat in aligned
    )
    title = f"The {what} spikes every {every} ({size}), first at {first:%H:%M:%S} UTC"
    title += (
        f"; aligned in phase: {named}" if named else "; nothing else in the bundle aligns with it"
    )
    ratio = (p.peak - p.baseline) / max(p.baseline, 1e-9)
    score = 0.4 * min(1.0, p.acf) + 0.3 * p.consistency + 0.2 * min(1.0, math.log10(1 + ratio) / 2)
    score += 0.1 if aligned else 0.0
    big = t.kind == "latency" and p.peak >= 500
    return Finding(
        key=f"PERIODIC_{t.kind.upper()}",
        analyzer="periodic",
        subject=f"{t.stream}:{t.subject}:{round(seconds)}",
        severity="high" if big and p.consistency >= 0.7 else "medium",
        score=round(score, 4),
        title=title,
        summary=(
            f"In {t.stream}, the {what} repeats every {every} (autocorrelation {p.acf:.2f};"
            f" {p.consistency:.0%} of {p.cycles} cycles show the burst at the same phase)."
            + (f" Events aligned with the bursts: {named}." if named else "")
            + " Events that are periodic at another phase or period are not named."
        ),
        window=Window(first, start + timedelta(seconds=width * len(t.series))),
        entities={"subject": t.subject, "file": t.stream, "period": every}
        | ({"also": ", ".join(others)} if others else {})
        | ({"aligned": aligned[0][3][:120], "aligned_file": aligned[0][1]} if aligned else {}),
        stats={
            "period_seconds": seconds,
            "phase_epoch": first.timestamp(),
            "acf": p.acf,
            "consistency": p.consistency,
            "peak": p.peak,
            "baseline": p.baseline,
            "cycles": p.cycles,
            "bin_seconds": width,
            "aligned_share": aligned[0][0].share if aligned else None,
        },
        evidence=_evidence(case, aligned, first),
        next_steps=(
            f"Check what runs every {every} (cron, checkpoints, cache expiry, batch jobs).",
            "Confirm by shifting or pausing the aligned job once and watching whether the spikes move with it.",
            "Refute: if the spikes stay when the aligned job is paused, the alignment is a coincidence.",
        ),
    )


def _evidence(
    case: Case, aligned: list[tuple[Alignment, str, str, str]], first: datetime
) -> tuple[Evidence, ...]:
    out = []
    for _, _, tid, _ in aligned[:2]:
        for f, line, ts, msg in case.rows(
            "SELECT file, line, ts, message FROM events WHERE template_id = ? AND ts >= ?"
            " ORDER BY ts LIMIT 2",
            (tid, first - timedelta(minutes=5)),
        ):
            out.append(
                Evidence(
                    file=str(f),
                    lines=(int(line), int(line)) if line else None,
                    excerpt=f"{minute(ts)} {str(msg)[:300]}",
                )
            )
    return tuple(out)
