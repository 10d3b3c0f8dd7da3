"""Decide what a pasted plan is (PostgreSQL JSON or text, MySQL, MariaDB) and read it.

Also the two-way bridge with the ``plans`` table: a :class:`Plan` becomes one
:class:`PlanNodeRecord` per node, and rows read back become a :class:`Plan`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from casework.model import PlanNodeRecord
from casework.plans import mysql, mysql_text, pg_json, pg_text
from casework.plans.framing import explained_statement, unframe
from casework.plans.node import STORE_COLUMNS, Plan, PlanNode, finish

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_MYSQL_ROW = re.compile(r"^\*+ \d+\. row \*+$")


def read_plans(lines: list[tuple[int, str]]) -> list[Plan]:
    """Every plan in a file's numbered lines; raises ``ValueError`` when there is none.

    A statement echoed above the plan (``db=# EXPLAIN ANALYZE SELECT …``) becomes
    the plan's query text when the plan carries none, so it can be fingerprinted.
    """
    plans = _read(lines)
    echoed = explained_statement(lines)
    if echoed and len(plans) == 1 and not plans[0].query:
        plans[0].query = echoed
    return plans


def _read(lines: list[tuple[int, str]]) -> list[Plan]:
    body = unframe([(n, t) for n, t in lines if not _MYSQL_ROW.match(t.strip())])
    if not body:
        raise ValueError("no plan text")
    first_line, first = body[0]
    if first.lstrip().startswith("EXPLAIN: "):
        body[0] = (first_line, first.replace("EXPLAIN: ", "", 1))
    text = "\n".join(t for _, t in body).strip()
    if text[:1] in "[{":
        plans = _from_json(_unwrap(_load_json(text)), first_line)
        _node_lines(plans, body)
        return plans
    if mysql_text.looks_like(first.strip()):
        return [mysql_text.parse_mysql_text(body)]
    plans = pg_text.parse_text(body)
    if not plans:
        raise ValueError("no plan node found")
    return plans


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # MySQL's classic format annotates closing brackets with /* name */ comments
        return json.loads(_COMMENT.sub("", text))


def _unwrap(data: Any) -> Any:
    """Client exports wrap psql's cell: ``[{"QUERY PLAN": [...]}]`` or the JSON as a string."""
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        inner = data[0].get("QUERY PLAN")
        if inner is not None:
            return _load_json(inner) if isinstance(inner, str) else inner
    if isinstance(data, dict) and "QUERY PLAN" in data:
        inner = data["QUERY PLAN"]
        return _load_json(inner) if isinstance(inner, str) else inner
    return data


def _node_lines(plans: list[Plan], body: list[tuple[int, str]]) -> None:
    """Point each JSON node at its own line: nodes are written in the order they are read."""
    marks = [n for n, t in body if '"Node Type"' in t]
    nodes = [node for plan in plans for node in plan.nodes]
    # PostgreSQL writes "Node Type" first in each node, parents before children; MySQL's
    # documents may sort keys, so their nodes keep the plan's first line.
    if len(marks) == len(nodes) and all(p.engine == "postgresql" for p in plans):
        for node, line in zip(nodes, marks, strict=True):
            node.line = line


def _from_json(data: Any, line: int) -> list[Plan]:
    if pg_json.looks_like(data):
        return pg_json.parse_json(data, line)
    if mysql.looks_like(data):
        return [mysql.parse_mysql(data, line)]
    if isinstance(data, list) and data and all(mysql.looks_like(d) for d in data):
        return [mysql.parse_mysql(d, line) for d in data]
    raise ValueError("JSON that is not a PostgreSQL or MySQL plan")


def to_records(plan: Plan) -> Iterator[PlanNodeRecord]:
    """The rows of ``plans`` for one plan; plan-level facts ride on the root."""
    for node in plan.nodes:
        attrs = node.to_attrs()
        if node.node_id == 0:
            attrs["plan"] = plan.facts()
        yield PlanNodeRecord(
            line=node.line or plan.line or 0,
            plan_id=plan.plan_id,
            node_id=node.node_id,
            parent=node.parent,
            node_type=node.node_type,
            relation=node.relation,
            est_rows=node.est_rows,
            actual_rows=node.actual_rows,
            loops=node.loops,
            total_ms=node.inclusive_ms,
            attrs=attrs,
        )


def from_rows(rows: Iterable[tuple[Any, ...]]) -> list[Plan]:
    """Plans from ``plans`` rows selected as ``STORE_COLUMNS, file, attrs`` ordered by plan, node."""
    plans: dict[str, Plan] = {}
    for row in rows:
        plan_id, file, raw_attrs = row[0], row[len(STORE_COLUMNS)], row[len(STORE_COLUMNS) + 1]
        attrs = raw_attrs if isinstance(raw_attrs, dict) else json.loads(raw_attrs or "{}")
        node = PlanNode.from_row(row, attrs)
        plan = plans.get(plan_id)
        if plan is None:
            plan = plans[plan_id] = Plan(nodes=[], plan_id=plan_id, file=file or "")
        if node.node_id == 0 and isinstance(attrs.get("plan"), dict):
            plan.apply_facts(attrs["plan"])
        plan.nodes.append(node)
    out = []
    for plan in plans.values():
        plan.nodes.sort(key=lambda n: n.node_id)
        if [n.node_id for n in plan.nodes] == list(range(len(plan.nodes))):
            out.append(finish(plan))
    return out
