"""Read PostgreSQL ``EXPLAIN`` text output (with or without ANALYZE, BUFFERS, VERBOSE).

The tree is rebuilt from indentation: a node line carries ``->`` (except the
root) and usually ``(cost=…)`` or ``(actual …)``; the lines indented under it
are its properties (``Filter:``, ``Rows Removed by Filter:``, ``Buffers:``)
or markers (``SubPlan 1``, ``InitPlan 1 (returns $0)``, ``CTE name``) naming
the relationship of the next child. Lines at the root's indentation after
the tree are plan-level facts (``Execution Time``, ``Trigger …``, ``JIT:``).
"""

from __future__ import annotations

import re

from casework.plans import pg_props
from casework.plans.node import Plan, PlanNode, Trigger, finish

_COSTS = r"\(cost=(?P<sc>[\d.]+)\.\.(?P<tc>[\d.]+) rows=(?P<rows>\d+) width=(?P<w>\d+)\)"
_ACTUAL = (
    r"\((?:actual (?:time=(?P<ast>[\d.]+)\.\.(?P<att>[\d.]+) )?rows=(?P<ar>[\d.]+)"
    r" loops=(?P<al>\d+)|(?P<never>never executed))\)"
)
_NODE = re.compile(rf"^(?P<arrow>->\s+)?(?P<name>.+?)\s*(?:{_COSTS})?\s*(?:{_ACTUAL})?\s*$")
_NAME = re.compile(
    r"^(?P<type>.+?)(?: using (?P<index>\S+))?(?: on (?P<rel>\S+)(?: (?P<alias>\S+))?)?$"
)
_MARKER = re.compile(r"^(?P<kind>InitPlan|SubPlan|CTE)(?:\s+(?P<rest>.*))?$")
_TRIGGER = re.compile(
    r"^(?P<name>Trigger .+?)(?: on (?P<rel>\S+))?: time=(?P<time>[\d.]+) calls=(?P<calls>\d+)$"
)
_FOOTER_TIMES = {
    "planning time": "planning_ms",
    "execution time": "execution_ms",
    "total runtime": "execution_ms",
}

_NAMED_SCANS = {
    "cte_scan": "CTE Name",
    "worktable_scan": "CTE Name",
    "function_scan": "Function Name",
    "subquery_scan": "Subquery",
    "values_scan": "Values",
    "table_function_scan": "Table Function Name",
    "named_tuplestore_scan": "Tuplestore Name",
}
_FOOTER_KEYS = frozenset(
    {*_FOOTER_TIMES, "jit", "settings", "planning", "serialization", "query identifier"}
)


def is_node_line(text: str) -> bool:
    stripped = text.strip()
    return (
        stripped.startswith("->")
        or "(cost=" in stripped
        or "(actual " in stripped
        or ("(never executed)" in stripped)
    )


def parse_text(lines: list[tuple[int, str]]) -> list[Plan]:
    """Every plan in already unframed lines; a new root after a footer starts a new plan."""
    plans: list[Plan] = []
    start = 0
    while start < len(lines):
        plan, used = _parse_one(lines[start:])
        if plan is None:
            break
        if len(plan.nodes) > 1 or any(is_node_line(t) for _, t in lines[start : start + used]):
            plans.append(plan)  # a lone line without costs or arrows is prose, not a plan
        start += max(used, 1)
    return plans


def _parse_one(lines: list[tuple[int, str]]) -> tuple[Plan | None, int]:
    nodes: list[PlanNode] = []
    stack: list[tuple[int, PlanNode]] = []  # (indent of the node line, node)
    pending: tuple[str, str | None] | None = None
    plan = Plan(nodes=nodes, fmt="text")
    root_indent = -1
    in_footer: str | None = None
    for consumed, (number, raw) in enumerate(lines):
        indent = len(raw) - len(raw.lstrip())
        text = raw.strip()
        if not nodes:
            if not text or text.endswith(":") or (": " in text and not is_node_line(text)):
                continue  # lines before the root (a title, a stray property) are not the plan
            root_indent = indent
        elif indent <= root_indent or _is_footer(text):
            if is_node_line(text) and not text.startswith("->"):
                return finish(plan), consumed  # the next plan in the same file
            in_footer = _footer(plan, text)
            continue
        elif in_footer is not None and stack and indent > root_indent and not is_node_line(text):
            if in_footer == "jit":
                pg_props.apply_jit_line(plan.jit, text)
            continue
        if is_node_line(text) or not nodes:
            in_footer = None
            arrow_indent = indent
            while stack and stack[-1][0] >= arrow_indent:
                stack.pop()
            parent = stack[-1][1] if stack else None
            node = _node(len(nodes), parent, text, number)
            if pending is not None and parent is not None:
                node.relationship, node.subplan_name = pending
            pending = None
            nodes.append(node)
            stack.append((arrow_indent, node))
            continue
        while len(stack) > 1 and stack[-1][0] >= indent:
            stack.pop()
        marker = _MARKER.match(text)
        if marker and ":" not in text:
            kind = "SubPlan" if marker["kind"] == "SubPlan" else "InitPlan"
            pending = (kind, text)
            continue
        if ":" in text and stack:
            key, _, value = text.partition(":")
            pg_props.apply_text_property(stack[-1][1], key.strip(), value.strip())
    return (finish(plan) if nodes else None), len(lines)


def _node(node_id: int, parent: PlanNode | None, text: str, number: int) -> PlanNode:
    match = _NODE.match(text)
    assert match is not None  # the pattern accepts any text
    name = _NAME.match(match["name"].strip())
    node_type = name["type"] if name else match["name"].strip()
    node = PlanNode(
        node_id=node_id,
        parent=None if parent is None else parent.node_id,
        node_type=node_type,
        line=number,
    )
    if node_type.startswith("Parallel "):
        node.parallel_aware = True
    if name:
        rel = name["rel"]
        if node.kind == "bitmap_index_scan":
            node.index_name = rel
        elif node.kind in _NAMED_SCANS and rel:
            # "CTE Scan on cte", "Function Scan on generate_series": not tables
            node.extra[_NAMED_SCANS[node.kind]] = rel
            node.alias = name["alias"]
        elif rel:
            schema, _, relation = rel.rpartition(".")
            node.relation = relation.strip('"')
            node.schema = schema or None
            node.alias = name["alias"]
            node.index_name = name["index"]
    if match["sc"] is not None:
        node.startup_cost = float(match["sc"])
        node.total_cost = float(match["tc"])
        node.est_rows = float(match["rows"])
        node.width = int(match["w"])
    if match["never"]:
        node.never_executed = True
        node.loops = 0.0
        node.actual_rows = 0.0
    elif match["ar"] is not None:
        node.actual_rows = float(match["ar"])
        node.loops = float(match["al"])
        if match["att"] is not None:
            node.actual_startup_ms = float(match["ast"])
            node.actual_total_ms = float(match["att"])
    return node


def _is_footer(text: str) -> bool:
    key = text.partition(":")[0].strip().lower()
    return key in _FOOTER_KEYS or bool(_TRIGGER.match(text))


def _footer(plan: Plan, text: str) -> str | None:
    """Apply one plan-level line; return the block it opens (``jit``, ``planning``) if any."""
    key, _, value = text.partition(":")
    lowered = key.strip().lower()
    if lowered in _FOOTER_TIMES:
        setattr(plan, _FOOTER_TIMES[lowered], pg_props.ms(value))
        return None
    trig = _TRIGGER.match(text)
    if trig:
        name = trig["name"]
        conname = re.search(r"for constraint (\S+)", name)
        constraint = conname[1] if conname else None
        plan.triggers.append(
            Trigger(
                name=name.removeprefix("Trigger ").strip(),
                time_ms=float(trig["time"]),
                calls=float(trig["calls"]),
                relation=trig["rel"],
                constraint=constraint,
            )
        )
        return None
    if lowered == "settings":
        plan.settings.update(pg_props.settings(value))
        return None
    if lowered == "jit":
        return "jit"
    return lowered or None
