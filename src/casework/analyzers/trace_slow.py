"""Slow versus normal traces of an endpoint: which operation grows and what the slow ones share.

For each busy endpoint, traces at or above the 90th percentile of duration
are compared with those at or below the median. Self time per (service,
operation) says where the extra time is spent; the shared contrast engine
(``casework.contrast``) then says which attribute=value of that operation's
spans (a DB statement, a peer, a shard, a region, a version) is
over-represented in the slow traces.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import median

from casework.case import Case
from casework.contrast import Split, contrast
from casework.contrast_terms import estimated
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Stat
from casework.traces import query, skew, tree
from casework.traces.critical_path import self_time

MIN_TRACES = 20
MIN_SLOW = 5
MAX_SIDE = 1000
MIN_RATIO = 1.5
#: A slowdown is the whole story (high) when a cohort holds this share of the slow traces
#: and their median is this many times the normal one.
WHOLE_COVERAGE = 0.8
WHOLE_RATIO = 5.0
MAX_ENDPOINTS = 10
_SIDES = "_cw_trace_sides"
#: Attributes that describe the instrumentation or restate the outcome, not the request.
_NOT_COHORT = (
    "telemetry.sdk.name",
    "telemetry.sdk.version",
    "telemetry.sdk.language",
    "otel.scope.name",
    "otel.scope.version",
    "otel.status_description",
    "exception.message",
    "exception.type",
    "exception.stacktrace",
)


@dataclass(frozen=True, slots=True)
class _Sides:
    slow: list[str]
    normal: list[str]
    slow_ms: float
    normal_ms: float
    threshold_ms: float


@analyzer(key="trace_slow", needs=("spans",))
def trace_slow(case: Case) -> Iterator[Finding]:
    """What slow traces of an endpoint have in common, against normal ones."""
    for ep in query.endpoints(case, min_traces=MIN_TRACES, limit=MAX_ENDPOINTS):
        sides = _split(case, ep)
        if sides is None:
            continue
        finding = _compare(case, ep, sides)
        if finding is not None:
            yield finding


def _split(case: Case, ep: query.Endpoint) -> _Sides | None:
    rows = case.rows(
        f"SELECT trace_id, max(duration_ms) d FROM spans WHERE {query.ROOTS} AND service = ? AND name = ?"
        " GROUP BY trace_id ORDER BY d, trace_id",
        (ep.service, ep.name),
    )
    durations = [float(d) for _, d in rows]
    n = len(durations)
    cut_slow = durations[min(n - 1, int(0.9 * n))]
    cut_normal = durations[n // 2]
    slow = [(t, d) for t, d in rows if d >= cut_slow]
    normal = [(t, d) for t, d in rows if d <= cut_normal]
    if len(slow) < MIN_SLOW or not normal:
        return None
    slow_ms = median(d for _, d in slow)
    normal_ms = median(d for _, d in normal)
    if slow_ms < MIN_RATIO * normal_ms:
        return None
    return _Sides(_even(slow), _even(normal), slow_ms, normal_ms, cut_slow)


def _even(rows: list[tuple[str, float]]) -> list[str]:
    step = max(1, len(rows) // MAX_SIDE)
    return [t for t, _ in rows[::step][:MAX_SIDE]]


def _compare(case: Case, ep: query.Endpoint, sides: _Sides) -> Finding | None:
    ids = sides.slow + sides.normal
    selves: dict[str, dict[tuple[str, str], float]] = {}
    for trace in tree.load(case, "trace_id IN (SELECT unnest(?::VARCHAR[]))", (ids,)):
        skew.correct(trace)
        per_op: dict[tuple[str, str], float] = defaultdict(float)
        for span in tree.walk(trace):
            per_op[(span.service, span.name)] += self_time(span)
        selves[trace.trace_id] = per_op
    growth = _growth(selves, sides)
    if not growth:
        return None
    (service, op), extra_us = max(growth.items(), key=lambda kv: (kv[1], kv[0]))
    return _finding(
        case, ep, sides, service, op, extra_us / 1000, _cohort(case, sides, service, op)
    )


def _cohort(case: Case, sides: _Sides, service: str, op: str) -> Split | None:
    """Which attribute=value of the growing operation's spans marks the slow traces."""
    flags = [True] * len(sides.slow) + [False] * len(sides.normal)
    case.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_SIDES} AS"
        " SELECT unnest(?::VARCHAR[]) AS trace_id, unnest(?::BOOLEAN[]) AS slow",
        [sides.slow + sides.normal, flags],
    )
    source = (
        f"SELECT s.attrs, s.start, t.slow FROM spans s JOIN {_SIDES} t USING (trace_id)"
        f" WHERE s.service = {_literal(service)} AND s.name = {_literal(op)}"
    )
    try:
        splits = contrast(
            case.con,
            source,
            "slow",
            attrs="attrs",
            time_column="start",
            exclude=_NOT_COHORT,
            max_terms=2,
            max_results=1,
        )
    finally:
        case.con.execute(f"DROP TABLE IF EXISTS {_SIDES}")
    return next((s for s in splits if s.significant), None)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _growth(
    selves: dict[str, dict[tuple[str, str], float]], sides: _Sides
) -> dict[tuple[str, str], float]:
    slow = [selves[t] for t in sides.slow if t in selves]
    normal = [selves[t] for t in sides.normal if t in selves]
    if not slow or not normal:
        return {}
    ops = {op for per in slow for op in per}
    return {
        op: sum(p.get(op, 0.0) for p in slow) / len(slow)
        - sum(p.get(op, 0.0) for p in normal) / len(normal)
        for op in ops
    }


def _finding(
    case: Case,
    ep: query.Endpoint,
    sides: _Sides,
    service: str,
    op: str,
    extra_ms: float,
    split: Split | None,
) -> Finding:
    gap_ms = sides.slow_ms - sides.normal_ms
    share = extra_ms / gap_ms if gap_ms > 0 else 0.0
    cohort = f"; {split.describe()} in {split.coverage:.0%} of slow ones" if split else ""
    title = (
        f"Slow `{ep.name}` traces (≥ {sides.threshold_ms:.0f} ms, median {sides.slow_ms:.0f} vs "
        f"{sides.normal_ms:.0f} ms) spend +{extra_ms:.0f} ms in {service} `{op}`{cohort}"
    )
    lines = [
        f"{len(sides.slow)} slow traces (≥ p90) of `{ep.label}` were compared with "
        f"{len(sides.normal)} normal ones (≤ p50). {service} `{op}` self time grows by "
        f"{extra_ms:.1f} ms per trace, {share:.0%} of the {gap_ms:.1f} ms difference."
    ]
    if split:
        about = estimated(split.sample)
        lines.append(
            f"Among its spans, {split.describe()} holds {about}{split.failing_in} of"
            f" {about}{split.failing_all} from slow traces; {split.rate:.0%} of spans with it are slow against "
            f"{split.baseline_rate:.0%} without (lift {split.lift:.1f}, p={split.p_value:.1e})."
        )
    lines.append(
        "Refute by finding slow traces without it, or normal traces where it is just as slow."
    )
    strong = split is not None or share >= 0.5
    # Who is slow (a cohort in most slow traces) and by how much (many times the normal
    # median) both said: the whole slowdown, not a part of it.
    whole = (
        split is not None
        and split.coverage >= WHOLE_COVERAGE
        and sides.slow_ms >= WHOLE_RATIO * sides.normal_ms
    )
    severity: Severity = "high" if whole else "medium" if strong else "low"
    stats: dict[str, Stat] = {
        "slow_traces": len(sides.slow),
        "normal_traces": len(sides.normal),
        "slow_p50_ms": sides.slow_ms,
        "normal_p50_ms": sides.normal_ms,
        "growth_ms": extra_ms,
        "growth_share": share,
    }
    entities = {"endpoint": ep.label, "service": service, "operation": op}
    if split:
        entities.update({t.attr: t.value_text for t in split.terms})
        stats.update(
            coverage=split.coverage,
            rate=split.rate,
            baseline_rate=split.baseline_rate,
            lift=split.lift,
            p_value=split.p_value,
        )
    return Finding(
        key="TRACE_SLOW_COHORT",
        analyzer="trace_slow",
        subject=f"{ep.service}\x00{ep.name}",
        severity=severity,
        score=(0.8 if whole else 0.6 if strong else 0.35) * (0.7 + 0.3 * min(1.0, share)),
        title=title,
        summary=" ".join(lines),
        window=case.window,
        entities=entities,
        stats=stats,
        evidence=(
            Evidence(
                file=query.file_of(case, sides.slow[-1]),
                refs=tuple(f"trace {t}" for t in sides.slow[-3:]),
                kind="spans",
                excerpt=f"slowest traces of {ep.label}",
            ),
        ),
        next_steps=(
            f"Compare a slow and a normal trace of `{ep.name}` side by side at {service} `{op}`.",
        ),
    )
