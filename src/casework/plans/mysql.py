"""Read MySQL and MariaDB ``EXPLAIN FORMAT=JSON`` plans into the common node model.

Three shapes exist: MySQL's classic ``query_block`` document (estimates
only), MySQL 8's iterator tree (``operation``/``inputs``, written by
``explain_json_format_version=2`` and by ``EXPLAIN ANALYZE FORMAT=JSON``),
and MariaDB's ``ANALYZE FORMAT=JSON`` (a ``query_block`` with ``r_`` fields).
MySQL shows a filter as a ``Filter`` node above its scan; the scan is given
the filter and the rows it removed, as PostgreSQL reports them, so one set
of diagnostics serves both engines.
"""

from __future__ import annotations

import re
from typing import Any

from casework.plans.node import Plan, PlanNode, finish

_OP_CUT = re.compile(r"(?: on |: | using | \(|,)")
_ACCESS = {
    "ALL": "Full table scan",
    "index": "Full index scan",
    "range": "Index range scan",
    "ref": "Index lookup",
    "eq_ref": "Single-row index lookup",
    "ref_or_null": "Index lookup",
    "const": "Constant row",
    "system": "Constant row",
    "index_merge": "Index merge",
    "fulltext": "Fulltext index lookup",
}
_OPERATIONS = {
    "ordering_operation": "Sort",
    "grouping_operation": "Group",
    "duplicates_removal": "Duplicates removal",
    "windowing": "Window",
    "filesort": "Sort",
    "temporary_table": "Temporary table",
    "read_sorted_file": "Read sorted file",
    "materialized_from_subquery": "Materialize",
    "union_result": "Union",
}
_SUBQUERY_LISTS = (
    "subqueries",
    "select_list_subqueries",
    "group_by_subqueries",
    "order_by_subqueries",
    "having_subqueries",
    "attached_subqueries",
    "optimized_away_subqueries",
    "query_specifications",
)


def looks_like(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    body = data.get("query_plan", data)
    return isinstance(body, dict) and ("operation" in body or "query_block" in body)


def parse_mysql(data: dict[str, Any], line: int | None = None) -> Plan:
    """One plan from a decoded MySQL/MariaDB EXPLAIN JSON document."""
    nodes: list[PlanNode] = []
    body = data.get("query_plan", data)
    if "operation" in body:
        _tree(body, None, nodes, line)
        plan = Plan(nodes=nodes, engine="mysql", fmt="mysql-tree", line=line)
        _fold_filters(plan)
    else:
        mariadb = '"r_' in repr(body)[:100_000] or "r_loops" in str(body.get("query_block", ""))
        _block(body["query_block"], None, nodes, line, mariadb)
        plan = Plan(
            nodes=nodes,
            engine="mariadb" if mariadb else "mysql",
            fmt="mariadb-json" if mariadb else "mysql-json",
            line=line,
        )
        timing = body["query_block"].get("r_total_time_ms")
        if isinstance(timing, int | float):
            plan.execution_ms = float(timing)
    query = data.get("query") or body.get("query")
    if isinstance(query, str):
        plan.query = re.sub(r"/\* select#\d+ \*/\s*", "", query)
    return finish(plan)


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _tree(raw: dict[str, Any], parent: int | None, nodes: list[PlanNode], line: int | None) -> None:
    operation = str(raw.get("operation", "?"))
    node = PlanNode(
        node_id=len(nodes),
        parent=parent,
        node_type=_OP_CUT.split(operation, maxsplit=1)[0].strip() or operation,
        line=line,
    )
    node.relation = raw.get("table_name")
    node.schema = raw.get("schema_name")
    node.alias = raw.get("alias")
    node.index_name = raw.get("index_name")
    node.est_rows = _num(raw.get("estimated_rows"))
    node.total_cost = _num(raw.get("estimated_total_cost"))
    node.actual_rows = _num(raw.get("actual_rows"))
    node.loops = _num(raw.get("actual_loops"))
    node.actual_total_ms = _num(raw.get("actual_last_row_ms"))
    node.actual_startup_ms = _num(raw.get("actual_first_row_ms"))
    if node.loops == 0:
        node.never_executed = True
    if isinstance(raw.get("condition"), str):
        node.filter = raw["condition"]
    if isinstance(raw.get("lookup_condition"), str):
        node.index_cond = raw["lookup_condition"]
    if raw.get("subquery") or raw.get("dependent"):
        node.relationship = "SubPlan" if raw.get("dependent") else "InitPlan"
    node.extra["operation"] = operation
    for key in ("filter_columns", "sort_fields", "join_algorithm", "covering", "access_type"):
        if key in raw:
            node.extra[key] = raw[key]
    nodes.append(node)
    for child in raw.get("inputs") or []:
        if isinstance(child, dict):
            _tree(child, node.node_id, nodes, line)


def _fold_filters(plan: Plan) -> None:
    """Give a scan under a ``Filter`` node that filter and the rows it removed."""
    for node in plan.nodes:
        kids = [plan.nodes[n.node_id] for n in plan.nodes if n.parent == node.node_id]
        if node.kind != "filter" or len(kids) != 1 or kids[0].filter is not None:
            continue
        scan = kids[0]
        if scan.kind not in ("seq_scan", "index_scan", "index_only_scan"):
            continue
        scan.filter = node.filter
        if "filter_columns" in node.extra:
            scan.extra["filter_columns"] = node.extra["filter_columns"]
        if scan.actual_rows is not None and node.actual_rows is not None:
            scan.rows_removed_by_filter = max(scan.actual_rows - node.actual_rows, 0.0)


def _block(
    block: dict[str, Any],
    parent: int | None,
    nodes: list[PlanNode],
    line: int | None,
    mariadb: bool,
    relationship: str | None = None,
) -> None:
    node = PlanNode(
        node_id=len(nodes),
        parent=parent,
        node_type=f"Query block #{block.get('select_id', '?')}",
        kind="query_block",
        line=line,
        relationship=relationship,
    )
    node.loops = _num(block.get("r_loops"))
    total = _num(block.get("r_total_time_ms"))
    if total is not None and node.loops:
        node.actual_total_ms = total / node.loops
    cost = (
        block.get("cost_info", {}).get("query_cost")
        if isinstance(block.get("cost_info"), dict)
        else block.get("cost")
    )
    node.total_cost = _num(cost)
    nodes.append(node)
    _contents(block, node.node_id, nodes, line, mariadb)


def _contents(
    obj: dict[str, Any], parent: int, nodes: list[PlanNode], line: int | None, mariadb: bool
) -> None:
    """Walk the keys of a query block or an operation, in document order."""
    for key, value in obj.items():
        if key == "table" and isinstance(value, dict):
            _table(value, parent, nodes, line)
        elif key == "nested_loop" and isinstance(value, list):
            loop = PlanNode(node_id=len(nodes), parent=parent, node_type="Nested loop", line=line)
            nodes.append(loop)
            for item in value:
                if isinstance(item, dict):
                    _contents(item, loop.node_id, nodes, line, mariadb)
        elif key in ("block-nl-join", "bka-join", "hash-join") and isinstance(value, dict):
            _join_buffer(key, value, parent, nodes, line, mariadb)
        elif key in _OPERATIONS and isinstance(value, dict):
            op = PlanNode(node_id=len(nodes), parent=parent, node_type=_OPERATIONS[key], line=line)
            if value.get("using_filesort"):
                op.sort_method = "filesort"
            if value.get("using_temporary_table"):
                op.extra["using_temporary_table"] = True
            nodes.append(op)
            _contents(value, op.node_id, nodes, line, mariadb)
        elif key == "query_block" and isinstance(value, dict):
            _block(value, parent, nodes, line, mariadb)
        elif key in _SUBQUERY_LISTS and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _subquery(item, parent, nodes, line, mariadb)


def _subquery(
    item: dict[str, Any], parent: int, nodes: list[PlanNode], line: int | None, mariadb: bool
) -> None:
    cache = item.get("subquery_cache")
    inner = cache if isinstance(cache, dict) else item
    block = inner.get("query_block")
    if not isinstance(block, dict):
        return
    loops = _num(inner.get("r_loops")) or _num(block.get("r_loops")) or 1.0
    dependent = bool(item.get("dependent")) or loops > 1
    _block(block, parent, nodes, line, mariadb, "SubPlan" if dependent else "InitPlan")


def _table(t: dict[str, Any], parent: int, nodes: list[PlanNode], line: int | None) -> None:
    access = str(t.get("access_type", ""))
    node = PlanNode(
        node_id=len(nodes),
        parent=parent,
        node_type=_ACCESS.get(access, access or "Table"),
        line=line,
    )
    if access == "index" and t.get("using_index"):
        node.kind = "index_only_scan"
    node.relation = t.get("table_name")
    node.index_name = t.get("key")
    node.filter = t.get("attached_condition")
    examined = _num(t.get("rows_examined_per_scan")) or _num(t.get("rows"))
    filtered = _num(t.get("filtered"))
    if examined is not None:
        node.est_rows = examined * (filtered if filtered is not None else 100.0) / 100.0
        node.extra["est_rows_examined"] = examined
    node.loops = _num(t.get("r_loops"))
    r_rows = _num(t.get("r_rows"))
    r_filtered = _num(t.get("r_filtered"))
    if r_rows is not None:
        node.actual_rows = r_rows * (r_filtered if r_filtered is not None else 100.0) / 100.0
        node.rows_removed_by_filter = r_rows - node.actual_rows
    spent = (_num(t.get("r_table_time_ms")) or 0.0) + (_num(t.get("r_other_time_ms")) or 0.0)
    if spent and node.loops:
        node.actual_total_ms = spent / node.loops
    if node.loops == 0:
        node.never_executed = True
    for key in ("possible_keys", "used_key_parts", "ref", "using_index", "r_engine_stats"):
        if key in t:
            node.extra[key] = t[key]
    nodes.append(node)
    _contents({k: v for k, v in t.items() if k != "table"}, node.node_id, nodes, line, True)


def _join_buffer(
    key: str,
    value: dict[str, Any],
    parent: int,
    nodes: list[PlanNode],
    line: int | None,
    mariadb: bool,
) -> None:
    """MariaDB's join buffer: the condition is checked here, against every buffered row."""
    join = PlanNode(
        node_id=len(nodes),
        parent=parent,
        node_type={
            "block-nl-join": "Block nested loop",
            "bka-join": "Batched key access",
            "hash-join": "Hash join",
        }[key],
        line=line,
    )
    join.kind = "hash_join" if key == "hash-join" else "nested_loop"
    join.join_filter = value.get("attached_condition")
    join.loops = _num(value.get("r_loops"))
    effective = _num(value.get("r_effective_rows"))
    r_filtered = _num(value.get("r_filtered"))
    if effective is not None and r_filtered is not None:
        join.actual_rows = effective * r_filtered / 100.0
        join.rows_removed_by_join_filter = effective - join.actual_rows
    spent = (_num(value.get("r_unpack_time_ms")) or 0.0) + (
        _num(value.get("r_other_time_ms")) or 0.0
    )
    if spent and join.loops:
        join.actual_total_ms = spent / join.loops
    for extra in ("buffer_size", "join_type"):
        if extra in value:
            join.extra[extra] = value[extra]
    nodes.append(join)
    first_child = len(nodes)
    _contents({k: v for k, v in value.items() if k == "table"}, join.node_id, nodes, line, mariadb)
    if join.loops and first_child < len(nodes):
        # the scan feeding the buffer runs inside the join: count it in the join's time
        child = nodes[first_child]
        spent += (child.actual_total_ms or 0.0) * (child.loops or 1.0)
        join.actual_total_ms = spent / join.loops
