"""Read PostgreSQL ``EXPLAIN (FORMAT JSON)`` output and auto_explain's JSON plans.

Node names are rebuilt as the text format spells them (``Hash Left Join``,
``HashAggregate``, ``Parallel Seq Scan``, ``Index Scan Backward``) so a JSON
plan and the text of the same plan compare equal.
"""

from __future__ import annotations

from typing import Any

from casework.plans import pg_props
from casework.plans.node import Plan, PlanNode, Trigger, finish

_AGG = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}
_JOINS = {"Nested Loop", "Hash Join", "Merge Join"}
_BUFFER_KEYS = {
    f"{scope} {kind} Blocks": f"{scope.lower()}_{kind.lower()}"
    for scope in ("Shared", "Local", "Temp")
    for kind in ("Hit", "Read", "Dirtied", "Written")
}
_SKIP = {
    "Plans",
    "Node Type",
    "Plan Rows",
    "Workers",
    "Parallel Aware",
    "Join Type",
    "Strategy",
    "Partial Mode",
    "Operation",
    "Scan Direction",
    "Sort Key",
}


def looks_like(data: Any) -> bool:
    """True for a list of ``{"Plan": …}`` objects, one such object, or a bare plan node."""
    if isinstance(data, list):
        return bool(data) and all(isinstance(d, dict) and "Plan" in d for d in data)
    return isinstance(data, dict) and ("Plan" in data or "Node Type" in data)


def parse_json(data: Any, line: int | None = None) -> list[Plan]:
    """Plans from decoded JSON that :func:`looks_like` accepted."""
    items = data if isinstance(data, list) else [data]
    plans: list[Plan] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        top = item.get("Plan", item)
        if not isinstance(top, dict):
            continue
        nodes: list[PlanNode] = []
        _walk(top, None, nodes, line)
        plan = Plan(nodes=nodes, fmt="json", line=line)
        _plan_facts(plan, item)
        plans.append(finish(plan))
    return plans


def _walk(raw: dict[str, Any], parent: int | None, nodes: list[PlanNode], line: int | None) -> None:
    node = PlanNode(node_id=len(nodes), parent=parent, node_type=_name(raw), line=line)
    node.parallel_aware = bool(raw.get("Parallel Aware"))
    for key, value in raw.items():
        if key in _SKIP:
            continue
        if key in pg_props.TEXT_FIELDS and isinstance(value, str):
            setattr(node, pg_props.TEXT_FIELDS[key], value)
        elif key in pg_props.NUMBER_FIELDS and isinstance(value, int | float):
            setattr(node, pg_props.NUMBER_FIELDS[key], float(value))
        elif key in pg_props.INT_FIELDS and isinstance(value, int | float):
            setattr(node, pg_props.INT_FIELDS[key], int(value))
        elif key in _BUFFER_KEYS and isinstance(value, int | float):
            if value:
                node.buffers[_BUFFER_KEYS[key]] = float(value)
        elif value not in (None, [], {}):
            node.extra[key] = value
    if isinstance(raw.get("Plan Rows"), int | float):
        node.est_rows = float(raw["Plan Rows"])
    if isinstance(raw.get("Sort Key"), list):
        node.sort_key = ", ".join(str(k) for k in raw["Sort Key"])
    if raw.get("Actual Loops") == 0:
        node.never_executed = True
    nodes.append(node)
    for child in raw.get("Plans") or []:
        if isinstance(child, dict):
            _walk(child, node.node_id, nodes, line)


def _name(raw: dict[str, Any]) -> str:
    """The node's name as the text format prints it."""
    node_type = str(raw.get("Node Type", "?"))
    if node_type == "Aggregate":
        node_type = _AGG.get(str(raw.get("Strategy")), "Aggregate")
    elif node_type == "ModifyTable":
        node_type = str(raw.get("Operation", node_type))
    elif node_type in _JOINS:
        join = str(raw.get("Join Type", "Inner"))
        if join != "Inner":
            node_type = (
                f"Nested Loop {join} Join"
                if node_type == "Nested Loop"
                else node_type.replace(" Join", f" {join} Join")
            )
    elif raw.get("Scan Direction") == "Backward":
        node_type += " Backward"
    mode = raw.get("Partial Mode")
    if mode in ("Partial", "Finalize"):
        node_type = f"{mode} {node_type}"
    if raw.get("Parallel Aware"):
        node_type = f"Parallel {node_type}"
    return node_type


def _plan_facts(plan: Plan, item: dict[str, Any]) -> None:
    for key, attr in (
        ("Planning Time", "planning_ms"),
        ("Execution Time", "execution_ms"),
        ("Total Runtime", "execution_ms"),
    ):
        if isinstance(item.get(key), int | float):
            setattr(plan, attr, float(item[key]))
    for trig in item.get("Triggers") or []:
        if isinstance(trig, dict) and isinstance(trig.get("Time"), int | float):
            plan.triggers.append(
                Trigger(
                    name=str(trig.get("Trigger Name", "?")),
                    time_ms=float(trig["Time"]),
                    calls=float(trig.get("Calls") or 0),
                    relation=trig.get("Relation"),
                    constraint=trig.get("Constraint Name"),
                )
            )
    if isinstance(item.get("JIT"), dict):
        pg_props.apply_json_jit(plan.jit, item["JIT"])
    if isinstance(item.get("Settings"), dict):
        plan.settings = {str(k): str(v) for k, v in item["Settings"].items()}
    if isinstance(item.get("Query Text"), str):
        plan.query = item["Query Text"]
