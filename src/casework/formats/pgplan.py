"""PostgreSQL ``EXPLAIN`` output (JSON or text, psql/pgAdmin/DBeaver framing) → one row per plan node.

>>> import io
>>> plan = b"Seq Scan on t  (cost=0.00..35.50 rows=10 width=4) (actual time=0.01..0.20 rows=3 loops=1)\\n"
>>> sniff(plan) >= 0.9
True
>>> [(r.node_type, r.relation, r.est_rows, r.actual_rows) for r in parse(io.BytesIO(plan), ParseContext("p.txt"))]
[('Seq Scan', 't', 10.0, 3.0)]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import BinaryIO

from casework.formats.base import Format, ParseContext, iter_lines
from casework.model import PlanNodeRecord
from casework.plans.read import read_plans, to_records

_NODE_LINE = re.compile(
    r"\((?:cost=\d+\.\d+\.\.\d+\.\d+ rows=\d+ width=\d+|actual (?:time=[\d.]+\.\.[\d.]+ )?rows=[\d.]+ loops=\d+)\)"
)
_LOG_LINE = re.compile(r"(?:LOG|ERROR|STATEMENT):\s+")


def sniff(head: bytes) -> float:
    """``"Node Type"`` keys, or lines with ``(cost=…)`` / ``(actual …)``, outside a server log."""
    text = head.decode("utf-8", "replace")
    if len(_LOG_LINE.findall(text)) >= 2 or ("duration:" in text and "plan:" in text):
        return 0.3  # a server log carrying auto_explain output: the log parser owns it
    if '"Node Type"' in text and '"Plan' in text:
        return 0.97
    hits = len(_NODE_LINE.findall(text))
    if hits >= 1:
        return 0.95
    if "QUERY PLAN" in text and re.search(r"^\W*\s*->\s+\w", text, re.M):
        return 0.85
    return 0.0


#: Plan files larger than this are not plans a person pasted; they are counted as bad.
MAX_PLAN_BYTES = 64 << 20


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[PlanNodeRecord]:
    """The ``plans`` rows of a plan file: one per node, ``plan_id`` = path (``#n`` when several)."""
    lines: list[tuple[int, str]] = []
    size = 0
    for number, text in iter_lines(stream, ctx):
        size += len(text) + 1
        if size > MAX_PLAN_BYTES:
            ctx.bad(number, "plan file too large")
            return
        lines.append((number, text))
    try:
        plans = read_plans(lines)
    except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
        # the reason names the problem, never the file's content
        reason = (
            str(exc)
            if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError)
            else f"not a readable plan ({type(exc).__name__})"
        )
        ctx.bad(lines[0][0] if lines else 0, reason)
        return
    for i, plan in enumerate(plans, 1):
        plan.plan_id = ctx.path if len(plans) == 1 else f"{ctx.path}#{i}"
        plan.file = ctx.path
        yield from to_records(plan)


FORMAT = Format(
    kind="pg-plan",
    category="plan",
    sniff=sniff,
    parse=parse,
    description="PostgreSQL EXPLAIN plan (JSON or text, with or without ANALYZE/BUFFERS)",
)
