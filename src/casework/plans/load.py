"""Plans and slow statements of a case, as analyzers see them (read through :class:`Case`).

Plans come from the ``plans`` table and from auto_explain records in
``events`` (the PostgreSQL log parser keeps a plan inside its message);
slow statements come from ``duration:`` messages and MySQL slow log events;
the endpoint that runs a statement comes from trace spans (``db.query.text``).
"""

from __future__ import annotations

import json
import weakref
from collections import Counter
from collections.abc import Iterator
from typing import Any

from casework.case import Case
from casework.formats import mysqlslow
from casework.plans import auto_explain, slowlog
from casework.plans.fingerprint import fingerprint
from casework.plans.node import STORE_COLUMNS, Plan
from casework.plans.read import from_rows

_PLAN_ROWS = f"SELECT {', '.join(STORE_COLUMNS)}, file, attrs FROM plans ORDER BY plan_id, node_id"
_LOGGED_PLANS = (
    "SELECT file, line, ts, message FROM events "
    "WHERE message LIKE '%duration:%' AND message LIKE '%plan:%' ORDER BY file, line"
)
# Two selects, not one with OR: each then filters on message or logger before DuckDB reads
# the other columns (with OR it read every event's attrs: 21 s at 10 GB).
_SLOW = (
    "SELECT * FROM (SELECT file, line, ts, message, attrs FROM events"
    " WHERE message LIKE '%duration:%' UNION ALL"
    " SELECT file, line, ts, message, attrs FROM events"
    f" WHERE logger = '{mysqlslow.LOGGER}' AND coalesce(message, '') NOT LIKE '%duration:%')"
    " ORDER BY ts NULLS LAST, file, line"
)

_LAST: dict[str, tuple[weakref.ref[Case], list[Plan]]] = {}


def case_plans(case: Case) -> list[Plan]:
    """Every plan in the case: stored plan files first, then auto_explain plans from logs.

    The plan analyzers run one after another on the same case, so the last
    case's plans are kept (weakly) instead of scanning ``events`` a dozen times.
    """
    cached = _LAST.get("case")
    if cached is not None and cached[0]() is case:
        return cached[1]
    plans = from_rows(case.rows(_PLAN_ROWS))
    known = {p.plan_id for p in plans}
    for plan in logged_plans(case):
        if plan.plan_id not in known:
            plans.append(plan)
    _LAST["case"] = (weakref.ref(case), plans)
    return plans


def logged_plans(case: Case) -> Iterator[Plan]:
    for file, line, ts, message in case.rows(_LOGGED_PLANS):
        plan = auto_explain.plan_from_message(str(message), int(line or 0))
        if plan is None:
            continue
        plan.plan_id = f"{file}:{line}"
        plan.file = str(file)
        plan.line = int(line or 0)
        plan.ts = ts
        yield plan


def slow_queries(case: Case) -> list[slowlog.SlowQuery]:
    """Slow statements from PostgreSQL ``duration:`` lines and MySQL slow log events."""
    out: list[slowlog.SlowQuery] = []
    for file, line, ts, message, raw in case.rows(_SLOW):
        text = str(message or "")
        query = slowlog.from_pg_message(text, str(file), int(line or 0), ts)
        if query is None:
            query = slowlog.from_mysql_event(text, _attrs(raw), str(file), int(line or 0), ts)
        if query is not None:
            out.append(query)
    return out


_ENDPOINTS = (
    "SELECT json_extract_string(s.attrs, '$.\"db.query.text\"'), r.service, r.name "
    "FROM spans s JOIN spans r ON r.trace_id = s.trace_id AND r.parent_id IS NULL "
    "WHERE json_extract_string(s.attrs, '$.\"db.query.text\"') IS NOT NULL LIMIT ?"
)
#: Database spans read to tie statements to endpoints (enough to name the callers).
MAX_DB_SPANS = 200_000


def statement_endpoints(case: Case) -> dict[str, Counter[str]]:
    """Statement fingerprint -> how often each endpoint (the trace's root span) ran it."""
    if case.count("spans") == 0:
        return {}
    out: dict[str, Counter[str]] = {}
    for statement, service, name in case.rows(_ENDPOINTS, (MAX_DB_SPANS,)):
        if statement:
            endpoint = f"{service}: {name}" if service else str(name)
            out.setdefault(fingerprint(str(statement)), Counter())[endpoint] += 1
    return out


def _attrs(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
