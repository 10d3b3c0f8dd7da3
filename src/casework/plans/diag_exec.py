"""Diagnostics of where execution time goes: hot nodes, per-row subplans, workers, JIT, triggers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from casework.plans.diagnose import Diagnosis, fmt_ms, fmt_n, rate, share, top, where
from casework.plans.node import Plan, PlanNode, Trigger

#: A node must take this share of the plan's time to be called its hot spot.
HOT_SHARE = 0.3
#: Subplans run at least this many times are per-row work.
MIN_SUBPLAN_LOOPS = 100
#: JIT and triggers are called dominant past this share of the execution time.
JIT_DOMINANT = 0.3
TRIGGERS_DOMINANT = 0.3
#: JIT under this many milliseconds is not worth a finding, whatever its share.
MIN_JIT_MS = 10.0
#: A subplan run fewer times than MIN_SUBPLAN_LOOPS still counts past this share of the plan.
SUBPLAN_SHARE = 0.3
#: A hot node must take at least this long to be worth a finding.
MIN_HOT_MS = 1.0


def slow_nodes(plan: Plan) -> Iterator[Diagnosis]:
    """The nodes that take the most time of their own (exclusive time), hottest first."""
    timed = [n for n in plan.nodes if n.exclusive_ms is not None]
    total = plan.total_ms
    if not timed or not total:
        return
    ranked = sorted(timed, key=lambda n: n.exclusive_ms or 0.0, reverse=True)
    hot = ranked[0]
    hot_share = share(plan, hot.exclusive_ms)
    if hot_share < HOT_SHARE or (hot.exclusive_ms or 0.0) < MIN_HOT_MS:
        return
    severity, score = rate(plan, hot.exclusive_ms)
    rest = "; ".join(f"{n.label()} {fmt_ms(n.exclusive_ms)}" for n in ranked[1:3])
    yield Diagnosis(
        key="PLAN_SLOW_NODE",
        plan=plan,
        node=hot,
        severity=severity,
        score=score,
        title=(
            f"{hot.label()} takes {fmt_ms(hot.exclusive_ms)} of its own, {hot_share:.0%} of "
            f"the {fmt_ms(total)} plan{f' on {hot.relation}' if hot.relation and hot.relation not in hot.label() else ''}"
        ),
        summary=(
            f"In {where(plan)} the most time is spent in {hot.label()} itself "
            f"({fmt_n(hot.total_rows)} rows over {fmt_n(hot.loops)} loop(s)). Next: {rest or 'none'}."
        ),
        next_steps=("Start with this node: the other plan findings on it say why it is slow.",),
        entities={"node": hot.label(), **({"table": hot.relation} if hot.relation else {})},
        stats={
            "exclusive_ms": hot.exclusive_ms,
            "share": hot_share,
            "plan_ms": total,
            "rows": hot.total_rows,
            "loops": hot.loops,
        },
    )


def subplans(plan: Plan) -> Iterator[Diagnosis]:
    """Correlated subqueries run once per outer row."""
    found = []
    for node in plan.nodes:
        if node.relationship != "SubPlan" or (node.loops or 0) < 2:
            continue
        if (node.loops or 0) < MIN_SUBPLAN_LOOPS and share(plan, node.inclusive_ms) < SUBPLAN_SHARE:
            continue
        ms = node.inclusive_ms
        severity, score = rate(plan, ms)
        tables = sorted({d.relation for d in _subtree(plan, node.node_id) if d.relation})
        found.append(
            Diagnosis(
                key="PLAN_SUBPLAN_PER_ROW",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"{node.subplan_name or 'Subquery'} runs once per row: {fmt_n(node.loops)} times, "
                    f"{fmt_ms(ms)} ({share(plan, ms):.0%} of the plan)"
                ),
                summary=(
                    f"{where(plan, node)} is a correlated subquery over "
                    f"{', '.join(tables) or 'its tables'} executed for every outer row."
                ),
                next_steps=(
                    "Rewrite it as a JOIN (or LEFT JOIN LATERAL / a grouped derived table) so it runs once.",
                    "If it must stay, index the correlated column it looks up by.",
                ),
                entities={
                    "node": node.label(),
                    "subplan": node.subplan_name or "",
                    **({"table": tables[0]} if tables else {}),
                },
                stats={"loops": node.loops, "inclusive_ms": ms, "share": share(plan, ms)},
            )
        )
    yield from top(found)


def _subtree(plan: Plan, node_id: int) -> list[PlanNode]:
    out: list[PlanNode] = []
    stack = [node_id]
    while stack:
        node = plan.nodes[stack.pop()]
        out.append(node)
        stack.extend(node.children)
    return out


def parallel_workers(plan: Plan) -> Iterator[Diagnosis]:
    """Gather nodes that launched fewer workers than planned."""
    for node in plan.nodes:
        planned, launched = node.workers_planned, node.workers_launched
        if planned is None or launched is None or launched >= planned:
            continue
        ms = node.inclusive_ms
        severity, score = rate(plan, ms, floor=0.35)
        yield Diagnosis(
            key="PLAN_WORKERS_NOT_LAUNCHED",
            plan=plan,
            node=node,
            severity=severity,
            score=score,
            title=(
                f"{node.node_type} planned {planned} parallel workers but launched {launched} "
                f"({fmt_ms(ms)})"
            ),
            summary=(
                f"{where(plan, node)} ran with {launched + 1} of {planned + 1} processes: the "
                "server's pool of parallel workers was exhausted when the query started, so "
                "it ran slower than planned."
            ),
            next_steps=(
                "Compare max_parallel_workers and max_worker_processes with the concurrent "
                "parallel queries (pg_stat_activity where backend_type = 'parallel worker').",
                "Raise max_parallel_workers (bounded by max_worker_processes, which needs a restart) "
                "or lower max_parallel_workers_per_gather so more queries get some.",
            ),
            entities={"node": node.label()},
            stats={"workers_planned": planned, "workers_launched": launched, "inclusive_ms": ms},
        )


def jit(plan: Plan) -> Iterator[Diagnosis]:
    """JIT compilation that costs more than the query it compiles."""
    jit_ms = plan.jit.get("total_ms")
    total = plan.execution_ms
    if not jit_ms or not total or jit_ms < JIT_DOMINANT * total or jit_ms < MIN_JIT_MS:
        return
    severity, score = rate(plan, jit_ms, floor=0.35)
    cost = plan.root.total_cost
    yield Diagnosis(
        key="PLAN_JIT_DOMINATES",
        plan=plan,
        node=plan.root,
        severity=severity,
        score=score,
        title=(
            f"JIT compilation takes {fmt_ms(jit_ms)}, {jit_ms / total:.0%} of the "
            f"{fmt_ms(total)} execution"
        ),
        summary=(
            f"In {where(plan)} the planner's cost estimate ({fmt_n(cost)}) passed the JIT "
            f"thresholds, and compiling {fmt_n(plan.jit.get('functions'))} functions cost "
            "more than running the query."
        ),
        next_steps=(
            f"Raise jit_above_cost above this plan's cost ({fmt_n(cost)}), or SET jit = off for "
            "this workload (ALTER ROLE … SET jit = off for OLTP roles).",
            "If the cost estimate is inflated by a misestimate, fix that first.",
        ),
        entities={"node": plan.root.label()},
        stats={
            "jit_ms": jit_ms,
            "execution_ms": total,
            "share": jit_ms / total,
            "functions": plan.jit.get("functions"),
            "plan_cost": cost,
        },
    )


_RI = re.compile(r"RI_ConstraintTrigger", re.I)


def triggers(plan: Plan) -> Iterator[Diagnosis]:
    """Triggers (often foreign-key checks) that take most of a DML statement's time."""
    total = plan.execution_ms
    if not plan.triggers or not total:
        return
    spent = sum(t.time_ms for t in plan.triggers)
    if spent < TRIGGERS_DOMINANT * total:
        return
    worst = max(plan.triggers, key=lambda t: t.time_ms)
    severity, score = rate(plan, spent, floor=0.35)
    fk = worst.constraint or (_RI.search(worst.name) and worst.name)
    steps: tuple[str, ...]
    if worst.constraint:
        steps = (
            f"Index the referencing column(s) of constraint {worst.constraint}: find them with "
            f"SELECT conrelid::regclass, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
            f"conname = '{worst.constraint}'; then CREATE INDEX CONCURRENTLY ON <that table> (<those columns>);",
            "Each deleted or updated key scans the referencing table once per row without it.",
        )
    else:
        steps = (
            f"Profile trigger {worst.name}: what does it query per row? Index those lookups or "
            "make it a statement-level trigger with transition tables.",
        )
    yield Diagnosis(
        key="PLAN_TRIGGERS_DOMINATE",
        plan=plan,
        node=plan.root,
        severity=severity,
        score=score,
        title=(
            f"Triggers take {fmt_ms(spent)} of the {fmt_ms(total)} statement ({spent / total:.0%}); "
            f"the worst is {_trigger_name(worst)} at {fmt_ms(worst.time_ms)} over "
            f"{fmt_n(worst.calls)} calls"
        ),
        summary=(
            f"In {where(plan)} the {plan.root.node_type} itself is not the cost: "
            f"{len(plan.triggers)} trigger(s) ran per row"
            f"{', including a foreign-key check without a usable index' if fk else ''}."
        ),
        next_steps=steps,
        entities={
            "trigger": worst.name,
            **({"constraint": worst.constraint} if worst.constraint else {}),
            **({"fired_on": worst.relation} if worst.relation else {}),
        },
        stats={
            "trigger_ms": spent,
            "execution_ms": total,
            "share": spent / total,
            "worst_ms": worst.time_ms,
            "worst_calls": worst.calls,
            "per_call_ms": worst.time_ms / worst.calls if worst.calls else None,
        },
    )


def _trigger_name(trigger: Trigger) -> str:
    if trigger.constraint:
        return f"the foreign-key trigger of {trigger.constraint}"
    return trigger.name
