"""Diagnostics of how tables are read: scans that discard most rows, weak indexes, heap fetches."""

from __future__ import annotations

from collections.abc import Iterator

from casework.plans.diagnose import (
    Diagnosis,
    filter_columns,
    fmt_ms,
    fmt_n,
    index_sql,
    node_columns,
    rate,
    top,
    where,
    work_mem_for,
)
from casework.plans.node import Plan, PlanNode

#: A scan must throw away at least this many rows, and this share of what it read.
MIN_REMOVED = 1000
MIN_REMOVED_SHARE = 0.8
#: Heap fetches of an index-only scan worth a finding.
MIN_HEAP_FETCHES = 1000
#: PostgreSQL's TID bitmap spends about this many bytes per heap page entry.
BITMAP_BYTES_PER_PAGE = 64


def _removal(node: PlanNode) -> tuple[float, float, bool] | None:
    """(rows removed, share of rows read that were removed, estimated?) for a filtered scan."""
    if node.filter is None:
        return None
    if node.actual_rows is not None:
        removed = node.removed_total
        kept = node.total_rows or 0.0
        estimated = False
    else:
        examined = node.extra.get("est_rows_examined")
        if not isinstance(examined, int | float) or node.est_rows is None:
            return None
        removed = float(examined) - node.est_rows
        kept = node.est_rows
        estimated = True
    read = removed + kept
    if removed < MIN_REMOVED or not read:
        return None
    return removed, removed / read, estimated


def seqscan_filter(plan: Plan) -> Iterator[Diagnosis]:
    """Full scans whose filter discards most of the rows read: where an index would help."""
    found = []
    for node in plan.nodes:
        if node.kind != "seq_scan" or node.relation is None:
            continue
        removal = _removal(node)
        if removal is None or removal[1] < MIN_REMOVED_SHARE:
            continue
        removed, removed_share, estimated = removal
        columns = node_columns(node)
        table = node.table or node.relation
        severity, score = rate(plan, node.exclusive_ms)
        col_text = ", ".join(c for c, _ in columns) or "the filter's columns"
        basis = "an estimated " if estimated else ""
        steps = [index_sql(plan.engine, table, columns)] if columns else []
        steps.append(
            f"Check how selective {col_text} is (SELECT count(*) … WHERE {node.filter}) and re-run "
            "EXPLAIN (ANALYZE, BUFFERS) after creating the index."
        )
        found.append(
            Diagnosis(
                key="PLAN_SEQSCAN_FILTER",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"{node.node_type} on {table} discards {basis}{removed_share:.0%} of the rows it "
                    f"reads ({fmt_n(removed)} removed by filter on {col_text}), "
                    f"{fmt_ms(node.exclusive_ms)}"
                ),
                summary=(
                    f"{where(plan, node)} reads {fmt_n(removed + (node.total_rows or node.est_rows or 0))} "
                    f"rows and keeps {fmt_n(node.total_rows if not estimated else node.est_rows)}; the "
                    f"filter {node.filter} does the work an index on {col_text} could do."
                ),
                next_steps=tuple(steps),
                entities={"table": table, "columns": col_text, "node": node.label()},
                stats={
                    "rows_removed": removed,
                    "removed_share": removed_share,
                    "rows_kept": node.total_rows,
                    "exclusive_ms": node.exclusive_ms,
                    "loops": node.loops,
                    "estimated": estimated,
                },
            )
        )
    yield from top(found)


def index_filter(plan: Plan) -> Iterator[Diagnosis]:
    """Index scans that fetch rows only for a filter to throw most of them away."""
    found = []
    for node in plan.nodes:
        if node.kind not in ("index_scan", "bitmap_heap_scan") or node.relation is None:
            continue
        removal = _removal(node)
        if removal is None or removal[1] < MIN_REMOVED_SHARE or removal[2]:
            continue
        removed, removed_share, _ = removal
        table = node.table or node.relation
        cond = node_columns_of(node.index_cond or node.recheck_cond)
        cond_cols = [c for c, _ in cond]
        filt_cols = node_columns(node)
        columns = cond + [c for c in filt_cols if c[0] not in cond_cols]
        severity, score = rate(plan, node.exclusive_ms)
        col_text = ", ".join(c for c, _ in filt_cols) or "the filter's columns"
        found.append(
            Diagnosis(
                key="PLAN_INDEX_FILTER",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"{node.node_type} on {table} fetches {fmt_n(removed + (node.total_rows or 0))} rows "
                    f"and its filter on {col_text} discards {removed_share:.0%} of them"
                ),
                summary=(
                    f"{where(plan, node)} uses {node.index_name or 'an index'} "
                    f"({node.index_cond or node.recheck_cond}), but {fmt_n(removed)} of the rows it "
                    f"fetched over {fmt_n(node.loops)} loop(s) failed {node.filter}; the index does "
                    "not cover the filter, so each discarded row cost a heap visit."
                ),
                next_steps=(
                    index_sql(plan.engine, table, columns),
                    "Then compare Buffers and time with EXPLAIN (ANALYZE, BUFFERS).",
                ),
                entities={
                    "table": table,
                    "columns": col_text,
                    "index": node.index_name or "",
                    "node": node.label(),
                },
                stats={
                    "rows_removed": removed,
                    "removed_share": removed_share,
                    "rows_kept": node.total_rows,
                    "exclusive_ms": node.exclusive_ms,
                    "loops": node.loops,
                },
            )
        )
    yield from top(found)


def node_columns_of(expr: str | None) -> list[tuple[str, bool]]:
    """Every column an index or join condition names, constants or not."""
    return filter_columns(expr, constants_only=False)


def heap_fetches(plan: Plan) -> Iterator[Diagnosis]:
    """Index-only scans that still visit the heap: the visibility map is stale."""
    found = []
    for node in plan.nodes:
        if node.kind != "index_only_scan" or not node.heap_fetches or node.relation is None:
            continue
        rows = node.total_rows or 0.0
        if node.heap_fetches < MIN_HEAP_FETCHES or node.heap_fetches < 0.2 * rows:
            continue
        table = node.table or node.relation
        fetch_share = node.heap_fetches / rows if rows else 1.0
        severity, score = rate(plan, node.exclusive_ms)
        found.append(
            Diagnosis(
                key="PLAN_HEAP_FETCHES",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"Index Only Scan on {table} made {fmt_n(node.heap_fetches)} heap fetches for "
                    f"{fmt_n(rows)} rows ({fetch_share:.0%}): the visibility map is behind"
                ),
                summary=(
                    f"{where(plan, node)} had to check the table for {fetch_share:.0%} of its rows "
                    "because those pages are not marked all-visible; autovacuum is not keeping up."
                ),
                next_steps=(
                    f"VACUUM (VERBOSE) {table};",
                    f"Make autovacuum visit {table} sooner (autovacuum_vacuum_scale_factor, "
                    "autovacuum_vacuum_insert_scale_factor for insert-only tables).",
                ),
                entities={"table": table, "index": node.index_name or "", "node": node.label()},
                stats={
                    "heap_fetches": node.heap_fetches,
                    "rows": rows,
                    "fetch_share": fetch_share,
                    "exclusive_ms": node.exclusive_ms,
                },
            )
        )
    yield from top(found)


def lossy_bitmap(plan: Plan) -> Iterator[Diagnosis]:
    """Bitmap heap scans whose bitmap outgrew work_mem and went lossy (whole pages rechecked)."""
    found = []
    for node in plan.nodes:
        if node.kind != "bitmap_heap_scan" or not node.lossy_heap_blocks:
            continue
        table = node.table or node.relation or "?"
        pages = node.lossy_heap_blocks + (node.exact_heap_blocks or 0.0)
        lossy_share = node.lossy_heap_blocks / pages
        need = work_mem_for(pages * BITMAP_BYTES_PER_PAGE / 1024.0)
        rechecked = (node.rows_removed_by_recheck or 0.0) * (node.loops or 1)
        severity, score = rate(plan, node.exclusive_ms, floor=0.3)
        current = plan.settings.get("work_mem")
        found.append(
            Diagnosis(
                key="PLAN_LOSSY_BITMAP",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"Bitmap Heap Scan on {table} went lossy on {fmt_n(node.lossy_heap_blocks)} of "
                    f"{fmt_n(pages)} pages and rechecked away {fmt_n(rechecked)} rows: "
                    f"work_mem {need} would keep it exact"
                ),
                summary=(
                    f"{where(plan, node)} ran out of work_mem{f' ({current})' if current else ''} "
                    f"for its bitmap, so {lossy_share:.0%} of pages were kept as whole pages and "
                    f"every row on them was re-tested against {node.recheck_cond}."
                ),
                next_steps=(
                    f"SET work_mem = '{need}'; for this query's session or role, then re-run.",
                ),
                entities={"table": table, "node": node.label()},
                stats={
                    "lossy_blocks": node.lossy_heap_blocks,
                    "exact_blocks": node.exact_heap_blocks,
                    "lossy_share": lossy_share,
                    "rows_removed_by_recheck": rechecked,
                    "work_mem_needed": need,
                    "exclusive_ms": node.exclusive_ms,
                },
            )
        )
    yield from top(found)
