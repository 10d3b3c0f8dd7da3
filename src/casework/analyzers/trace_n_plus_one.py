"""N+1 queries: one span issuing many sequential, identical database calls.

Database spans are grouped per trace by parent, service and statement shape
(literals masked). A group of at least ``MIN_REPEATS`` calls whose summed
time fits in its wall-clock extent ran one after the other, which is the
N+1 pattern (a loop issuing one query per item instead of one query for
all). Calls that overlap ran in parallel and are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, clip
from casework.traces import query

MIN_REPEATS = 10
#: Sequential when the summed durations are at most this factor of the wall-clock extent.
SEQUENTIAL_FACTOR = 1.2
MAX_FINDINGS = 10

_DB = (
    "(json_extract_string(attrs, '$.\"db.system\"') IS NOT NULL"
    " OR json_extract_string(attrs, '$.\"db.query.text\"') IS NOT NULL)"
)
_STATEMENT = (
    "regexp_replace(regexp_replace(coalesce(json_extract_string(attrs, '$.\"db.query.text\"'), name),"
    " '''[^'']*''', '?', 'g'), '\\b\\d+(\\.\\d+)?\\b', '?', 'g')"
)

N_PLUS_ONE_SQL = f"""
WITH db AS (
  SELECT trace_id, parent_id, service, name, file, {_STATEMENT} AS stmt, duration_ms,
         epoch_us(start) AS t0, epoch_us(start) + duration_ms * 1000 AS t1
  FROM spans
  WHERE parent_id IS NOT NULL AND start IS NOT NULL AND duration_ms IS NOT NULL AND {_DB}
), loops AS (
  SELECT trace_id, parent_id, service, name, stmt, any_value(file) AS file, count(*) AS n,
         sum(duration_ms) AS total_ms, (max(t1) - min(t0)) / 1000 AS wall_ms
  FROM db GROUP BY trace_id, parent_id, service, name, stmt HAVING count(*) >= ?
)
SELECT l.service, l.name, l.stmt, r.service, r.name, count(DISTINCT l.trace_id) AS traces,
       median(l.n), max(l.n), median(l.total_ms), median(l.total_ms / nullif(r.duration_ms, 0)),
       min(l.trace_id), min(l.file)
FROM loops l JOIN spans r ON r.trace_id = l.trace_id AND r.parent_id IS NULL
WHERE l.total_ms <= l.wall_ms * {SEQUENTIAL_FACTOR} + 0.001
GROUP BY l.service, l.name, l.stmt, r.service, r.name
ORDER BY traces DESC, l.service, l.stmt
LIMIT {MAX_FINDINGS}
"""


@analyzer(key="trace_n_plus_one", needs=("spans",))
def trace_n_plus_one(case: Case) -> Iterator[Finding]:
    """Many sequential identical database calls under one span (N+1 queries)."""
    rows = case.rows(N_PLUS_ONE_SQL, (MIN_REPEATS,))
    if not rows:
        return
    totals = {(e.service, e.name): e.traces for e in query.endpoints(case, limit=1000)}
    for (
        svc,
        op,
        stmt,
        root_svc,
        root_op,
        traces,
        med_n,
        max_n,
        med_ms,
        med_share,
        tid,
        file,
    ) in rows:
        endpoint_traces = totals.get((root_svc, root_op), int(traces))
        share = float(med_share or 0.0)
        title = (
            f"N+1 queries: in {traces} of {endpoint_traces} `{root_op}` traces, {svc} issues a median "
            f"{med_n:.0f} sequential `{_short(stmt)}` ({float(med_ms):.0f} ms, {share:.0%} of the request)"
        )
        summary = (
            f"Under one parent span, {svc} runs the same statement shape `{_short(stmt, 160)}` "
            f"{med_n:.0f} times one after another (at most {max_n}) in {traces} traces of "
            f"`{root_svc} {root_op}`. Together the calls take a median {float(med_ms):.1f} ms, "
            f"{share:.0%} of the request. One query for all items (IN list, join, batch loader) "
            "would remove the round trips; refute if the statements differ in more than literals."
        )
        severity: Severity = "medium" if share >= 0.2 else "low"
        yield Finding(
            key="TRACE_N_PLUS_ONE",
            analyzer="trace_n_plus_one",
            subject=f"{svc}\x00{op}\x00{stmt}\x00{root_svc}\x00{root_op}",
            severity=severity,
            score=(0.55 if severity == "medium" else 0.35) * (0.6 + 0.4 * min(1.0, share * 2)),
            title=title,
            summary=summary,
            window=case.window,
            entities={
                "endpoint": f"{root_svc} {root_op}",
                "service": svc,
                "operation": op,
                "statement": stmt,
            },
            stats={
                "traces": int(traces),
                "endpoint_traces": endpoint_traces,
                "median_calls": float(med_n),
                "max_calls": int(max_n),
                "median_ms": float(med_ms),
                "share_of_request": share,
            },
            evidence=(
                Evidence(
                    file=str(file), refs=(f"trace {tid}",), kind="spans", excerpt=_short(stmt, 200)
                ),
            ),
            next_steps=(f"Find the loop in {svc} around `{op}` and batch the query.",),
        )


def _short(text: str, limit: int = 60) -> str:
    return clip(" ".join(str(text).split()), limit)
