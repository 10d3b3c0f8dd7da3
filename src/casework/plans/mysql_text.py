"""Read MySQL 8's text ``EXPLAIN ANALYZE`` / ``EXPLAIN FORMAT=TREE`` output.

Every line is a node: ``-> Filter: (o.status = 'x')  (cost=241 rows=2400)
(actual time=0.035..0.040 rows=29 loops=1)``, children indented under it. The
lines become the same documents as MySQL's JSON tree (``operation``,
``inputs``, ``estimated_rows``…) and go through :mod:`casework.plans.mysql`,
so both spellings of one plan read the same.
"""

from __future__ import annotations

import re
from typing import Any

from casework.plans.mysql import parse_mysql
from casework.plans.node import Plan

_NUM = r"[\d.]+(?:e[+-]?\d+)?"
_LINE = re.compile(
    rf"^->\s+(?P<op>.+?)\s*(?:\(cost=(?:{_NUM}\.\.)?(?P<cost>{_NUM}) rows=(?P<rows>{_NUM})\))?\s*"
    rf"(?:\(actual time=(?P<first>{_NUM})\.\.(?P<last>{_NUM}) rows=(?P<ar>{_NUM}) "
    rf"loops=(?P<loops>{_NUM})\)|\((?P<never>never executed)\))?\s*$"
)
_TABLE = re.compile(r" on (?P<alias>[`\w$]+)(?: using (?P<index>[`\w$]+))?(?: \((?P<cond>.*)\))?")


def looks_like(first_line: str) -> bool:
    """MySQL's tree starts at an arrow with one space and has no PostgreSQL ``width=``."""
    return re.match(r"^->\s\S", first_line) is not None and "width=" not in first_line


def parse_mysql_text(lines: list[tuple[int, str]]) -> Plan:
    """One plan from unframed lines; raises ``ValueError`` when no line is a node."""
    stack: list[tuple[int, dict[str, Any]]] = []
    root: dict[str, Any] | None = None
    for _, raw in lines:
        text = raw.strip()
        match = _LINE.match(text)
        if match is None:
            continue
        doc = _doc(match)
        indent = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].setdefault("inputs", []).append(doc)
        elif root is None:
            root = doc
        else:
            break  # a second tree: this reader takes one plan per paste
        stack.append((indent, doc))
    if root is None:
        raise ValueError("no MySQL plan node found")
    plan = parse_mysql(root, lines[0][0] if lines else None)
    plan.fmt = "mysql-text"
    return plan


def _doc(match: re.Match[str]) -> dict[str, Any]:
    op = match["op"]
    doc: dict[str, Any] = {"operation": op}
    for key, group in (("estimated_total_cost", "cost"), ("estimated_rows", "rows"),
                       ("actual_first_row_ms", "first"), ("actual_last_row_ms", "last"),
                       ("actual_rows", "ar"), ("actual_loops", "loops")):  # fmt: skip
        if match[group] is not None:
            doc[key] = float(match[group])
    if match["never"]:
        doc["actual_loops"] = 0
    if op.startswith("Filter: "):
        doc["condition"] = op[len("Filter: ") :]
    table = _TABLE.search(op)
    if table and not op.startswith(("Filter", "Sort", "Aggregate", "Group")):
        doc["table_name"] = table["alias"].strip("`")
        if table["index"]:
            doc["index_name"] = table["index"].strip("`")
        if table["cond"]:
            doc["lookup_condition"] = table["cond"]
    if "(select #" in op.lower() or op.startswith("Select #"):
        doc["subquery"] = True
    return doc
