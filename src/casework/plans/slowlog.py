"""Slow statements from PostgreSQL ``duration:`` lines and the MySQL slow query log, by fingerprint.

PostgreSQL writes ``duration: 1503.1 ms  statement: SELECT …`` (or
``execute <name>: …``) when ``log_min_duration_statement`` is met; the
MySQL slow log parser (``formats/mysqlslow.py``) stores each entry as an
event whose attrs carry ``slow_query`` and ``duration_ms``, under its own
logger name, which is how they are found (another log's events with such
attrs are not slow-log entries). Both become
:class:`SlowQuery` and aggregate into :class:`FingerprintStats`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casework.plans.fingerprint import fingerprint, normalize

_PG_DURATION = re.compile(
    r"duration: (?P<ms>[\d.]+) ms\s+(?P<kind>statement|execute|parse|bind)(?:\s+[^:\n]*)?:\s*"
    r"(?P<sql>.+)",
    re.S,
)


@dataclass(frozen=True, slots=True)
class SlowQuery:
    """One logged execution of a statement that crossed the slow threshold."""

    duration_ms: float
    statement: str
    file: str
    line: int
    ts: datetime | None = None
    source: str = "postgresql"
    rows_examined: float | None = None


@dataclass(slots=True)
class FingerprintStats:
    """Executions of one normalized statement: how many, how long in total and at p50/p95."""

    fingerprint: str
    normalized: str
    example: SlowQuery
    durations: list[float] = field(default_factory=list)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    rows_examined: float = 0.0

    @property
    def count(self) -> int:
        return len(self.durations)

    @property
    def total_ms(self) -> float:
        return sum(self.durations)

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the durations (``q`` in 0..100)."""
        ordered = sorted(self.durations)
        rank = max(math.ceil(q / 100.0 * len(ordered)), 1)
        return ordered[rank - 1]


def from_pg_message(message: str, file: str, line: int, ts: datetime | None) -> SlowQuery | None:
    """A ``duration: … statement: …`` log message; ``None`` for any other message."""
    match = _PG_DURATION.search(message)
    if match is None or match["kind"] in ("parse", "bind"):
        # parse and bind durations are phases of an execute that is logged on its own
        return None
    sql = match["sql"].split("\nDETAIL:", 1)[0].strip()
    return SlowQuery(float(match["ms"]), sql, file, line, ts)


def from_mysql_event(
    message: str, attrs: dict[str, Any], file: str, line: int, ts: datetime | None
) -> SlowQuery | None:
    """An event written by the MySQL slow log parser."""
    duration = attrs.get("duration_ms")
    if not attrs.get("slow_query") or not isinstance(duration, int | float):
        return None
    examined = attrs.get("rows_examined")
    return SlowQuery(
        float(duration),
        message,
        file,
        line,
        ts,
        "mysql",
        float(examined) if isinstance(examined, int | float) else None,
    )


def aggregate(queries: Iterable[SlowQuery]) -> list[FingerprintStats]:
    """Group by fingerprint, heaviest total time first."""
    groups: dict[str, FingerprintStats] = {}
    for query in queries:
        key = fingerprint(query.statement)
        stats = groups.get(key)
        if stats is None:
            stats = groups[key] = FingerprintStats(key, normalize(query.statement), query)
        stats.durations.append(query.duration_ms)
        stats.rows_examined += query.rows_examined or 0.0
        if query.duration_ms > stats.example.duration_ms:
            stats.example = query
        if query.ts is not None:
            stats.first_ts = query.ts if stats.first_ts is None else min(stats.first_ts, query.ts)
            stats.last_ts = query.ts if stats.last_ts is None else max(stats.last_ts, query.ts)
    return sorted(groups.values(), key=lambda s: s.total_ms, reverse=True)
