"""Turn plan diagnoses into findings, with the plan node as evidence; shared by the plan analyzers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from casework.case import Case
from casework.findings import Evidence, Finding
from casework.plans import diagnose as diagnose_all
from casework.plans.diagnose import Diagnosis, Diagnostic
from casework.plans.fingerprint import fingerprint
from casework.plans.load import case_plans, statement_endpoints
from casework.plans.node import Plan

Endpoints = dict[str, Counter[str]]

#: Most findings one plan analyzer reports for a case (the highest scores).
MAX_FINDINGS = 20
#: The analyzer that reports each diagnosis key, so related findings can be named by id.
ANALYZER_OF = {
    "PLAN_SLOW_NODE": "plan_slow_nodes",
    "PLAN_SEQSCAN_FILTER": "plan_seqscan",
    "PLAN_INDEX_FILTER": "plan_index_filter",
    "PLAN_HEAP_FETCHES": "plan_heap_fetches",
    "PLAN_LOSSY_BITMAP": "plan_lossy_bitmap",
    "PLAN_ROW_MISESTIMATE": "plan_misestimate",
    "PLAN_NESTED_LOOP_MISESTIMATE": "plan_nested_loop",
    "PLAN_JOIN_FILTER": "plan_nested_loop",
    "PLAN_SPILL": "plan_spill",
    "PLAN_SUBPLAN_PER_ROW": "plan_subplan",
    "PLAN_WORKERS_NOT_LAUNCHED": "plan_parallel",
    "PLAN_JIT_DOMINATES": "plan_jit",
    "PLAN_TRIGGERS_DOMINATE": "plan_triggers",
}


def evidence(plan: Plan, diag: Diagnosis) -> Evidence:
    node = diag.node
    facts = [node.label()] if node else [plan.plan_id]
    if node is not None:
        if node.est_rows is not None or node.actual_rows is not None:
            facts.append(f"rows est={node.est_rows} actual={node.actual_rows} loops={node.loops}")
        for name in ("filter", "index_cond", "recheck_cond", "sort_method"):
            value = getattr(node, name)
            if value:
                facts.append(f"{name}: {value}")
        if node.exclusive_ms is not None:
            facts.append(f"self {node.exclusive_ms:.3f} ms of {plan.total_ms or 0:.3f} ms")
    line = (node.line if node else None) or plan.line
    return Evidence(
        file=plan.file,
        lines=(line, line) if line else None,
        excerpt="; ".join(facts)[:500],
        refs=(f"{plan.plan_id}#node{node.node_id if node else 0}",),
        kind="plan",
    )


def _subject(diag: Diagnosis) -> str:
    return f"{diag.plan.plan_id}:{diag.node.node_id if diag.node else 0}"


def related(diag: Diagnosis) -> tuple[str, ...]:
    """Ids of the other findings about the same node (why a hot node is hot), and for a
    misestimate, of the nested loop it led to."""
    if diag.node is None:
        return ()
    targets = {diag.node.node_id}
    loop = diag.stats.get("nested_loop_node")
    if isinstance(loop, int):
        targets.add(loop)
    out = []
    for other in diagnose_all(diag.plan):
        if other.key == diag.key or other.node is None or other.node.node_id not in targets:
            continue
        probe = Finding(
            other.key, ANALYZER_OF.get(other.key, "plan"), _subject(other), "info", 0.0, "", ""
        )
        out.append(probe.id)
    return tuple(dict.fromkeys(out))


def to_finding(diag: Diagnosis, analyzer: str, endpoints: Endpoints | None = None) -> Finding:
    plan = diag.plan
    entities = {"plan": plan.plan_id, "engine": plan.engine, **diag.entities}
    if plan.query:
        entities["query"] = plan.query[:300]
        callers = (endpoints or {}).get(fingerprint(plan.query))
        if callers:
            entities["endpoint"] = callers.most_common(1)[0][0]
    return Finding(
        key=diag.key,
        analyzer=analyzer,
        subject=_subject(diag),
        severity=diag.severity,
        score=diag.score,
        title=diag.title,
        summary=diag.summary,
        entities=entities,
        stats=diag.stats,
        evidence=(evidence(plan, diag),),
        next_steps=diag.next_steps,
        related=related(diag),
    )


def plan_findings(
    case: Case, analyzer: str, diagnostics: Sequence[Diagnostic]
) -> Iterator[Finding]:
    """Run diagnostics over every plan of the case; the best ``MAX_FINDINGS`` become findings."""
    found = [
        d for plan in case_plans(case) if plan.nodes for diag in diagnostics for d in diag(plan)
    ]
    found.sort(key=lambda d: d.score, reverse=True)
    endpoints = statement_endpoints(case) if found else {}
    for diag in found[:MAX_FINDINGS]:
        yield to_finding(diag, analyzer, endpoints)
