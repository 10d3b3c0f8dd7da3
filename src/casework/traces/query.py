"""SQL helpers over the ``spans`` table that several trace analyzers share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from casework.case import Case

#: Spans with no parent: the requests traces are about.
ROOTS = "parent_id IS NULL AND start IS NOT NULL AND duration_ms IS NOT NULL"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A kind of request: the root span's service and operation, and how many traces have it."""

    service: str
    name: str
    traces: int

    @property
    def label(self) -> str:
        return f"{self.service} {self.name}"


def endpoints(case: Case, min_traces: int = 1, limit: int = 20) -> list[Endpoint]:
    """Busiest endpoints first."""
    rows = case.rows(
        "SELECT service, name, count(DISTINCT trace_id) n"
        f" FROM spans WHERE {ROOTS} GROUP BY service, name HAVING n >= ?"
        " ORDER BY n DESC, service, name LIMIT ?",
        (min_traces, limit),
    )
    return [Endpoint(str(s), str(n), int(t)) for s, n, t in rows]


def sample_clause(limit: int) -> str:
    """An SQL condition keeping at most ``limit`` traces, the same ones on every run."""
    return (
        "trace_id IN (SELECT trace_id FROM (SELECT DISTINCT trace_id FROM spans)"
        f" ORDER BY hash(trace_id) LIMIT {int(limit)})"
    )


def attrs_of(case: Case, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The attrs (and file) of the given ``(trace_id, span_id)`` spans."""
    wanted = sorted({f"{t}\x00{s}" for t, s in keys})
    if not wanted:
        return {}
    rows = case.rows(
        "SELECT trace_id, span_id, attrs, file FROM spans"
        " WHERE trace_id || chr(0) || span_id IN (SELECT unnest(?::VARCHAR[]))",
        (wanted,),
    )
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for tid, sid, attrs, file in rows:
        found = orjson.loads(attrs) if attrs else {}
        found = found if isinstance(found, dict) else {}
        found["_file"] = file
        out.setdefault((tid, sid), found)
    return out


def peer(attrs: dict[str, Any]) -> str | None:
    """What a client span talked to, by the most specific attribute present."""
    for key in ("peer.service", "db.system", "messaging.system", "rpc.service", "server.address"):
        if attrs.get(key):
            return str(attrs[key])
    return None


def file_of(case: Case, trace_id: str) -> str:
    """The file a trace was read from (the first, when it spans several)."""
    row = case.one("SELECT min(file) FROM spans WHERE trace_id = ?", (trace_id,))
    return str(row[0]) if row and row[0] else "spans"
