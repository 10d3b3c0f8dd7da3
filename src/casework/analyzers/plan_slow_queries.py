"""Slow statements by fingerprint (count, total, p50/p95) from PostgreSQL and MySQL logs, linked to a plan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window
from casework.plans.diagnose import fmt_ms
from casework.plans.fingerprint import fingerprint, tables
from casework.plans.load import case_plans, slow_queries, statement_endpoints
from casework.plans.node import Plan
from casework.plans.slowlog import FingerprintStats, aggregate
from casework.timeline import minute

#: Most fingerprints reported: the heaviest by total time.
TOP = 10
#: A fingerprint must account for this share of all slow-statement time, or run this often.
MIN_SHARE = 0.05
MIN_COUNT = 5


@analyzer(key="plan_slow_queries", needs=("events",))
def plan_slow_queries(case: Case) -> Iterator[Finding]:
    """Slow statements grouped by fingerprint, heaviest first, each linked to its plan when present."""
    groups = aggregate(slow_queries(case))
    if not groups:
        return
    grand = sum(g.total_ms for g in groups) or 1.0
    plans = case_plans(case)
    endpoints = statement_endpoints(case)
    for rank, stats in enumerate(groups[:TOP]):
        part = stats.total_ms / grand
        if rank > 0 and part < MIN_SHARE and stats.count < MIN_COUNT:
            continue
        callers = endpoints.get(stats.fingerprint, Counter())
        yield _finding(stats, part, _linked_plan(stats, plans), callers)


def _linked_plan(stats: FingerprintStats, plans: list[Plan]) -> tuple[Plan, str] | None:
    """The plan of the same statement; else, a plan over exactly the statement's tables. Of
    several, the slowest: slow executions ran the slow plan of a before/after pair, not the
    fast one."""
    how = "same statement"
    linked = [p for p in plans if p.query and fingerprint(p.query) == stats.fingerprint]
    wanted = tables(stats.example.statement)
    if not linked and wanted:
        how = "same tables"
        linked = [p for p in plans if p.relations() and p.relations() == wanted]
    if not linked:
        return None
    return max(linked, key=lambda p: (p.total_ms or 0.0, p.plan_id)), how


def _finding(
    stats: FingerprintStats,
    part: float,
    linked: tuple[Plan, str] | None,
    callers: Counter[str],
) -> Finding:
    p50, p95 = stats.percentile(50), stats.percentile(95)
    example = stats.example
    text = stats.normalized if len(stats.normalized) <= 120 else stats.normalized[:117] + "…"
    plan_note = ""
    evidence = [
        Evidence(
            file=example.file,
            lines=(example.line, example.line),
            excerpt=f"{fmt_ms(example.duration_ms)}: {example.statement[:300]}",
        )
    ]
    steps = []
    if linked is not None:
        plan, how = linked
        plan_note = f" Its plan is {plan.plan_id} ({how}); see the plan findings for it."
        evidence.append(
            Evidence(
                file=plan.file,
                lines=(plan.line, plan.line) if plan.line else None,
                excerpt=plan.root.label(),
                refs=(plan.plan_id,),
                kind="plan",
            )
        )
    else:
        steps.append(
            "Capture its plan: EXPLAIN (ANALYZE, BUFFERS) with a slow example's values, "
            "or enable auto_explain (log_min_duration) for it."
        )
    steps.append(
        "Check pg_stat_statements (or performance_schema digests) for its calls and "
        "mean time outside the slow log."
    )
    window = (
        Window(stats.first_ts, stats.last_ts)
        if stats.first_ts is not None and stats.last_ts is not None
        else None
    )
    severity: Severity = (
        "high" if part >= 0.5 and stats.total_ms >= 10_000 else "medium" if part >= 0.2 else "low"
    )
    return Finding(
        key="SLOW_QUERY_FINGERPRINT",
        analyzer="plan_slow_queries",
        subject=stats.fingerprint,
        severity=severity,
        score=min(0.3 + 0.6 * part, 0.9),
        title=(
            f"{stats.count} slow executions of `{text}`"
            f"{f' from {minute(window.start)} to {minute(window.end)}' if window else ''}:"
            f" {fmt_ms(stats.total_ms)} in total ({part:.0%} of slow-query time),"
            f" p50 {fmt_ms(p50)}, p95 {fmt_ms(p95)}"
        ),
        summary=(
            f"The statement fingerprint {stats.fingerprint} ({example.source}) ran slow "
            f"{stats.count} time(s), worst {fmt_ms(example.duration_ms)}.{plan_note}"
            f"{_caller_note(callers)}"
        ),
        window=window,
        entities={
            "fingerprint": stats.fingerprint,
            "statement": stats.normalized[:300],
            "source": example.source,
            **({"plan": linked[0].plan_id} if linked else {}),
            **({"endpoint": callers.most_common(1)[0][0]} if callers else {}),
        },
        stats={
            "count": stats.count,
            "total_ms": stats.total_ms,
            "p50_ms": p50,
            "p95_ms": p95,
            "max_ms": example.duration_ms,
            "share": part,
            "rows_examined": stats.rows_examined or None,
        },
        evidence=tuple(evidence),
        next_steps=tuple(steps),
    )


def _caller_note(callers: Counter[str]) -> str:
    """Which endpoints run the statement, from the traces in the bundle."""
    if not callers:
        return ""
    top = ", ".join(
        f"{name} ({n} span{'s' if n != 1 else ''})" for name, n in callers.most_common(3)
    )
    return f" Traces show it run by {top}."
