"""Before/after: two plans of the same query where the later one is slower, and the node that explains it."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity
from casework.plans.compare import Comparison, compare, same_query_groups
from casework.plans.diagnose import fmt_ms, fmt_n
from casework.plans.load import case_plans

#: The later plan must be at least this much slower (or costlier) to be a regression.
MIN_RATIO = 1.5
#: And slower by at least this many milliseconds when both plans were executed.
MIN_DELTA_MS = 5.0


@analyzer(key="plan_regression", needs=())
def plan_regression(case: Case) -> Iterator[Finding]:
    """Plans of one query over time (or files named before/after) where the later one regressed."""
    for group in same_query_groups(case_plans(case)):
        result = compare(group[0], group[-1])
        if result is None or result.ratio < MIN_RATIO:
            continue
        if result.metric == "ms" and result.after_value - result.before_value < MIN_DELTA_MS:
            continue
        yield _finding(result)


def _value(result: Comparison, value: float) -> str:
    return fmt_ms(value) if result.metric == "ms" else f"cost {fmt_n(value)}"


def _finding(result: Comparison) -> Finding:
    before, after, culprit = result.before, result.after, result.culprit
    changes = "; ".join(result.changes[:4]) or "the same shape"
    blame = ""
    if culprit is not None:
        prev = result.culprit_before
        was = _value(result, _weight(result, prev)) if prev else "absent"
        blame = (
            f" {culprit.label()} explains most of it: {was} before, "
            f"{_value(result, _weight(result, culprit))} after"
        )
        if culprit.actual_rows is not None and prev is not None and prev.actual_rows is not None:
            blame += f" (rows {fmt_n(prev.total_rows)} → {fmt_n(culprit.total_rows)})"
        blame += "."
    title = (
        f"Query plan regressed {result.ratio:,.1f}x ({_value(result, result.before_value)} → "
        f"{_value(result, result.after_value)}): {changes}"
    )
    steps = [
        "Compare the statistics behind the changed node (pg_stats / ANALYZE time of its table): "
        "a plan flip after data growth usually follows a stale or skewed estimate."
    ]
    if culprit is not None and culprit.relation:
        steps.append(
            f"ANALYZE {culprit.relation}; then EXPLAIN (ANALYZE, BUFFERS) again and "
            "compare with the before plan."
        )
    severity: Severity = "high" if result.ratio >= 5 and result.metric == "ms" else "medium"
    return Finding(
        key="PLAN_REGRESSION",
        analyzer="plan_regression",
        subject=f"{before.plan_id}->{after.plan_id}",
        severity=severity,
        score=min(0.45 + 0.1 * result.ratio, 0.95),
        title=title,
        summary=(
            f"{after.plan_id} is {result.ratio:,.1f}x {'slower' if result.metric == 'ms' else 'costlier'} "
            f"than {before.plan_id} for the same query. Shape changes: {changes}.{blame}"
        ),
        entities={
            "before": before.plan_id,
            "after": after.plan_id,
            **({"node": culprit.label()} if culprit else {}),
            **({"table": culprit.relation} if culprit and culprit.relation else {}),
        },
        stats={
            "before": result.before_value,
            "after": result.after_value,
            "ratio": result.ratio,
            "metric": result.metric,
            "changes": len(result.changes),
            "culprit_delta": result.culprit_delta,
        },
        evidence=tuple(
            Evidence(
                file=p.file,
                lines=(p.line, p.line) if p.line else None,
                excerpt=f"{label}: {p.root.label()}, {_value(result, v)}",
                refs=(p.plan_id,),
                kind="plan",
            )
            for label, p, v in (
                ("before", before, result.before_value),
                ("after", after, result.after_value),
            )
        ),
        next_steps=tuple(steps),
    )


def _weight(result: Comparison, node: object) -> float:
    value = getattr(node, "exclusive_ms" if result.metric == "ms" else "total_cost", None)
    return float(value or 0.0)
