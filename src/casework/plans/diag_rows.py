"""Diagnostics of row estimates: where the planner was wrong, and the join it chose because of it."""

from __future__ import annotations

from collections.abc import Iterator

from casework.plans.diag_scan import node_columns_of
from casework.plans.diagnose import Diagnosis, fmt_ms, fmt_n, node_columns, rate, top, where
from casework.plans.node import Plan, PlanNode

#: Estimates off by this factor (either way) are misestimates.
MIN_FACTOR = 10.0
#: And off by at least this many rows over all loops, so tiny tables stay quiet.
MIN_ROWS_OFF = 100.0
#: A nested loop whose inner side ran this many times is a join choice worth questioning.
MIN_INNER_LOOPS = 1000.0
#: Nodes that hand their input's rows up unchanged in number.
_PASS_THROUGH = frozenset({"sort", "materialize", "gather", "result", "memoize", "filter"})


def factor(node: PlanNode) -> float | None:
    """Actual over estimated rows per loop (>1: underestimate), both floored at one row."""
    if node.est_rows is None or node.actual_rows is None or node.never_executed:
        return None
    return max(node.actual_rows, 1.0) / max(node.est_rows, 1.0)


def _off(node: PlanNode) -> float | None:
    f = factor(node)
    if f is None or max(f, 1 / f) < MIN_FACTOR:
        return None
    if abs((node.actual_rows or 0.0) - (node.est_rows or 0.0)) * (node.loops or 1) < MIN_ROWS_OFF:
        return None
    return f


def misestimates(plan: Plan) -> Iterator[Diagnosis]:
    """Nodes where a misestimate starts (its inputs were estimated well), with the fix to try."""
    found = []
    for node in plan.nodes:
        f = _off(node)
        if f is None or node.kind == "modify":
            continue  # INSERT/UPDATE/DELETE return no rows without RETURNING
        if f < 1 and any(up.kind == "limit" for up in plan.ancestors(node)):
            continue  # a LIMIT above stops the node early: fewer rows than planned is expected
        inherited = any(
            (c := _off(child)) is not None and (c > 1) == (f > 1) for child in plan.children(node)
        )
        if inherited:
            continue  # the error came from below; report it where it starts
        found.append(_misestimate(plan, node, f))
    yield from top(found)


def _misestimate(plan: Plan, node: PlanNode, f: float) -> Diagnosis:
    under = f > 1
    ratio = f if under else 1 / f
    table = node.table or node.relation
    columns = [c for c, _ in node_columns(node)] if node.filter else []
    steps = []
    if table:
        steps.append(f"ANALYZE {table}; then re-run EXPLAIN (ANALYZE, BUFFERS).")
        if len(columns) >= 2 and plan.engine == "postgresql":
            cols = columns[:3]
            name = "_".join([table.rsplit(".", 1)[-1], *cols, "stats"])[:63]
            steps.append(
                f"If the estimate stays off, the columns are correlated: CREATE STATISTICS "
                f"{name} (dependencies) ON {', '.join(cols)} FROM {table}; ANALYZE {table};"
            )
        elif columns:
            steps.append(
                f"Raise the statistics target: ALTER TABLE {table} ALTER COLUMN "
                f"{columns[0]} SET STATISTICS 1000; ANALYZE {table};"
            )
    else:
        steps.append(
            "ANALYZE the tables below this node; for a join, check the join columns' "
            "statistics (n_distinct, correlation between the joined columns)."
        )
    loop = _nested_loop_above(plan, node) if under else None
    consequence = ""
    if loop is not None:
        inner = plan.children(loop)[-1]
        consequence = (
            f" The planner chose {loop.label()} for it, whose inner side then ran "
            f"{fmt_n(inner.loops)} times ({fmt_ms(inner.inclusive_ms)})."
        )
    ms = loop.inclusive_ms if loop is not None else node.inclusive_ms
    severity, score = rate(plan, ms)
    direction = "under" if under else "over"
    return Diagnosis(
        key="PLAN_ROW_MISESTIMATE",
        plan=plan,
        node=node,
        severity=severity,
        score=score,
        title=(
            f"Row estimate {ratio:,.0f}x too {'low' if under else 'high'} at {node.short()}: "
            f"planned {fmt_n(node.est_rows)} rows per loop, got {fmt_n(node.actual_rows)}"
        ),
        summary=(
            f"{where(plan, node)} {direction}estimated its rows by {ratio:,.0f}x"
            f"{f' (filter {node.filter})' if node.filter else ''}; every choice above it was "
            f"made for the wrong row count.{consequence}"
        ),
        next_steps=tuple(steps),
        entities={
            "node": node.label(),
            **({"table": table} if table else {}),
            **({"columns": ", ".join(columns)} if columns else {}),
        },
        stats={
            "estimated_rows": node.est_rows,
            "actual_rows": node.actual_rows,
            "loops": node.loops,
            "factor": ratio,
            "direction": direction,
            "nested_loop_node": loop.node_id if loop else None,
        },
    )


def _nested_loop_above(plan: Plan, node: PlanNode) -> PlanNode | None:
    """The nested loop that takes this node's rows as its outer input, if it looped a lot."""
    current = node
    for up in plan.ancestors(node):
        kids = plan.children(up)
        outer_side = len(kids) >= 2 and kids[0].node_id == current.node_id
        if up.kind == "nested_loop" and outer_side and (kids[-1].loops or 0) >= MIN_INNER_LOOPS:
            return up
        inherited = _off(up)
        if up.kind not in _PASS_THROUGH and (inherited is None or inherited <= 1):
            return None
        current = up  # the error travels up through joins that inherit it
    return None


def bad_nested_loops(plan: Plan) -> Iterator[Diagnosis]:
    """Nested loops planned for a few outer rows that got thousands (the join choice to question)."""
    found = []
    for node in plan.nodes:
        kids = plan.children(node)
        if node.kind != "nested_loop" or len(kids) < 2:
            continue
        outer, inner = kids[0], kids[-1]
        if (inner.loops or 0) < MIN_INNER_LOOPS or outer.est_rows is None:
            continue
        planned = outer.est_rows * max(outer.loops or 1.0, 1.0)
        if inner.loops is None or inner.loops < MIN_FACTOR * max(planned, 1.0):
            continue
        severity, score = rate(plan, node.inclusive_ms)
        table = outer.table or outer.relation
        found.append(
            Diagnosis(
                key="PLAN_NESTED_LOOP_MISESTIMATE",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"{node.node_type} ran its inner {inner.node_type}{f' on {inner.relation}' if inner.relation else ''} "
                    f"{fmt_n(inner.loops)} times; the planner expected {fmt_n(planned)} "
                    f"({fmt_ms(node.inclusive_ms)})"
                ),
                summary=(
                    f"{where(plan, node)} was chosen because its outer input {outer.label()} was "
                    f"estimated at {fmt_n(planned)} rows; it produced {fmt_n(outer.total_rows)}. "
                    "With the right estimate a hash or merge join would likely win."
                ),
                next_steps=(
                    f"Fix the outer estimate first: ANALYZE {table or 'the outer tables'}; extended "
                    "statistics if its filter tests correlated columns.",
                    "To confirm, in one session: SET enable_nestloop = off; EXPLAIN (ANALYZE, BUFFERS) "
                    "the query and compare (diagnosis only, not a setting for production).",
                ),
                entities={
                    "node": node.label(),
                    "outer": outer.label(),
                    "inner": inner.label(),
                    **({"table": table} if table else {}),
                },
                stats={
                    "inner_loops": inner.loops,
                    "planned_outer_rows": planned,
                    "actual_outer_rows": outer.total_rows,
                    "inclusive_ms": node.inclusive_ms,
                    "inner_ms": inner.inclusive_ms,
                },
            )
        )
    yield from top(found)


#: A join filter must reject at least this many row pairs to be reported.
MIN_PAIRS_REJECTED = 100_000.0


def join_filter_waste(plan: Plan) -> Iterator[Diagnosis]:
    """Joins that test most row pairs against a filter instead of looking matches up by index."""
    found = []
    for node in plan.nodes:
        removed = (node.rows_removed_by_join_filter or 0.0) * (node.loops or 1.0)
        kept = node.total_rows or 0.0
        if removed < MIN_PAIRS_REJECTED or removed < 0.9 * (removed + kept):
            continue
        columns = [c for c, _ in node_columns_of(node.join_filter)]
        severity, score = rate(plan, node.inclusive_ms, floor=0.3)
        found.append(
            Diagnosis(
                key="PLAN_JOIN_FILTER",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"{node.short()} rejects {fmt_n(removed)} row pairs with its join filter and "
                    f"keeps {fmt_n(kept)} ({fmt_ms(node.inclusive_ms)}): the join cannot use an index"
                ),
                summary=(
                    f"{where(plan, node)} compares row pairs with {node.join_filter}; no index "
                    "condition narrows the inner side, so every pair is built and tested."
                ),
                next_steps=(
                    "Make the join condition sargable: compare the columns directly, with the same "
                    "type and collation, not through a function or cast.",
                    f"Then index the inner side's join column ({', '.join(columns) or 'see filter'}).",
                ),
                entities={"node": node.label(), "columns": ", ".join(columns)},
                stats={"pairs_rejected": removed, "rows_kept": kept, "ms": node.inclusive_ms},
            )
        )
    yield from top(found)
