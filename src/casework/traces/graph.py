"""Service graph: who calls whom, how often, how often it fails and how long it takes.

An edge is a parent span in one service with a child span in another (a
client calling an instrumented server), or a CLIENT/PRODUCER span with no
child at all, whose peer is named by its attributes (a database, a cache, a
broker, an uninstrumented service). Computed in SQL over the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.case import Case

_PEER = (
    "coalesce(json_extract_string(c.attrs, '$.\"peer.service\"'),"
    " json_extract_string(c.attrs, '$.\"db.system\"'),"
    " json_extract_string(c.attrs, '$.\"messaging.system\"'),"
    " json_extract_string(c.attrs, '$.\"rpc.service\"'),"
    " json_extract_string(c.attrs, '$.\"server.address\"'))"
)

GRAPH_SQL = f"""
WITH calls AS (
  SELECT p.service AS caller, c.service AS callee, c.error, c.duration_ms
  FROM spans c JOIN spans p ON c.trace_id = p.trace_id AND c.parent_id = p.span_id
  WHERE c.service <> p.service
  UNION ALL
  SELECT service, peer, error, duration_ms FROM (
    SELECT c.service, {_PEER} AS peer, c.error, c.duration_ms
    FROM spans c ANTI JOIN spans k ON k.trace_id = c.trace_id AND k.parent_id = c.span_id
    WHERE c.kind IN ('CLIENT', 'PRODUCER')
  ) WHERE peer IS NOT NULL AND peer <> service
)
SELECT caller, callee, count(*) AS calls, count(*) FILTER (WHERE error) AS errors,
       quantile_cont(duration_ms, 0.5) AS p50_ms, quantile_cont(duration_ms, 0.95) AS p95_ms
FROM calls GROUP BY caller, callee ORDER BY calls DESC, caller, callee
"""


@dataclass(frozen=True, slots=True)
class Edge:
    caller: str
    callee: str
    calls: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def service_graph(case: Case) -> list[Edge]:
    """Every caller -> callee edge of the case, busiest first."""
    return [
        Edge(str(a), str(b), int(n), int(e), _num(p50), _num(p95))
        for a, b, n, e, p50, p95 in case.rows(GRAPH_SQL)
    ]


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
