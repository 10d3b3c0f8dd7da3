"""Find plans that PostgreSQL's ``auto_explain`` wrote into the server log.

The PostgreSQL log parser keeps a multi-line record as one message, so a
record reads ``duration: 1503.1 ms  plan:`` followed by ``Query Text: …``
and the plan (text or JSON). :func:`plan_from_message` turns one such
message into a :class:`Plan`; the ingest step or an analyzer calls it on
the ``events`` rows whose message contains ``plan:``.
"""

from __future__ import annotations

import json
import re

from casework.plans import pg_json, pg_text
from casework.plans.framing import unframe
from casework.plans.node import Plan

_HEAD = re.compile(r"duration: (?P<ms>[\d.]+) ms\s+plan:[ \t]*\r?\n?", re.I)
_QUERY = re.compile(r"^\s*Query Text:\s?(?P<sql>.*)$")
_PARAMS = re.compile(r"^\s*Query Parameters:")


def has_plan(message: str) -> bool:
    return _HEAD.search(message) is not None


def plan_from_message(message: str, line: int = 0) -> Plan | None:
    """The plan inside an auto_explain log message, or None when there is none or it is broken."""
    head = _HEAD.search(message)
    if head is None:
        return None
    body = message[head.end() :]
    stripped = body.lstrip()
    try:
        if stripped.startswith("{"):
            return _json_plan(stripped, float(head["ms"]), line)
        return _text_plan(body, float(head["ms"]), line)
    except (ValueError, KeyError, IndexError):
        return None


def _json_plan(body: str, duration: float, line: int) -> Plan | None:
    end = body.rfind("}")
    data = json.loads(body[: end + 1])
    if not pg_json.looks_like(data):
        return None
    plans = pg_json.parse_json(data, line)
    if not plans:
        return None
    plan = plans[0]
    plan.execution_ms = plan.execution_ms if plan.execution_ms is not None else duration
    return plan


def _text_plan(body: str, duration: float, line: int) -> Plan | None:
    rows = body.splitlines()
    query: list[str] = []
    start = 0
    for i, row in enumerate(rows):
        if pg_text.is_node_line(row):
            start = i
            break
        match = _QUERY.match(row)
        if match:
            query = [match["sql"]]
        elif query and not _PARAMS.match(row):
            query.append(row.strip())
    else:
        return None
    plan_lines = [(line + i, text.replace("\t", "    ")) for i, text in enumerate(rows[start:])]
    plans = pg_text.parse_text(unframe(plan_lines))
    if not plans:
        return None
    plan = plans[0]
    if query:
        plan.query = "\n".join(query).strip()
    plan.execution_ms = plan.execution_ms if plan.execution_ms is not None else duration
    return plan
