"""Before/after: two plans of the same query where the later one is slower, and the node that explains it."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity
from casework.plans.compare import Comparison, compare, same_query_groups
from casework.plans.diag_rows import MIN_FACTOR, factor
from casework.plans.diagnose import filter_columns, fmt_ms, fmt_n
from casework.plans.load import case_plans
from casework.plans.node import Plan, PlanNode

#: The later plan must be at least this much slower (or costlier) to be a regression.
MIN_RATIO = 1.5
#: And slower by at least this many milliseconds when both plans were executed.
MIN_DELTA_MS = 5.0
_INDEX_KINDS = frozenset({"index_scan", "index_only_scan", "bitmap_index_scan"})


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
    lost = _lost_index(before, after)
    title = (
        f"Query plan regressed {result.ratio:,.1f}x ({_value(result, result.before_value)} → "
        f"{_value(result, result.after_value)}): {changes}"
        f"{f'; index {lost[0]} no longer used' if lost else ''}"
    )
    if lost is not None:
        index, relation, columns, scan = lost
        blame += (
            f" The before plan read {relation} through index {index} ({', '.join(columns)}); the"
            f" after plan uses no index on it and filters {relation} on {', '.join(columns)} row"
            f" by row, with its rows estimated well ({fmt_n(scan.est_rows or 0)} planned,"
            f" {fmt_n(scan.actual_rows or 0)} found): not a stale estimate, the index is likely"
            " gone or unusable."
        )
        steps = [
            f"Check that {index} still exists and is valid: SELECT indexrelid::regclass,"
            f" indisvalid, indisready FROM pg_index WHERE indrelid = '{relation}'::regclass;",
            f"If it is missing or invalid: CREATE INDEX CONCURRENTLY {index} ON {relation}"
            f" ({', '.join(columns)}); then EXPLAIN (ANALYZE, BUFFERS) again.",
        ]
    else:
        steps = [
            "Compare the statistics behind the changed node (pg_stats / ANALYZE time of its"
            " table): a plan flip after data growth usually follows a stale or skewed estimate."
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
            **({"index": lost[0]} if lost else {}),
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


def _lost_index(before: Plan, after: Plan) -> tuple[str, str, list[str], PlanNode] | None:
    """(index, table, its condition's columns, the after plan's scan) when the before plan read
    a table through an index that the after plan never uses, scanning the table instead with a
    filter on the same columns and a row estimate within ``MIN_FACTOR`` of what it found.

    A right estimate rules out the usual cause of a plan flip (stale statistics): the planner
    chose the scan knowing the rows, so the index was not there to choose."""
    used = {n.index_name for n in after.nodes if n.index_name}
    for node in before.nodes:
        if node.kind not in _INDEX_KINDS or not node.index_name or node.index_name in used:
            continue
        relation = node.relation or next(
            (up.relation for up in before.ancestors(node) if up.relation), None
        )
        columns = [c for c, _ in filter_columns(node.index_cond, constants_only=False)]
        if relation is None or not columns:
            continue
        for scan in after.nodes:
            f = factor(scan)
            if scan.kind != "seq_scan" or scan.relation != relation or f is None:
                continue
            filtered = {c for c, _ in filter_columns(scan.filter, constants_only=False)}
            if set(columns) <= filtered and max(f, 1 / f) < MIN_FACTOR:
                return node.index_name, relation, columns, scan
    return None
