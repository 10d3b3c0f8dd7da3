"""Query plans: read PostgreSQL, MySQL and MariaDB EXPLAIN output and diagnose it.

``summary(path)`` gives the facts and diagnoses of one plan file (for
``casework inspect``); the analyzers ``casework.analyzers.plan_*`` run the
same diagnostics over every plan of a case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casework.plans import diag_exec, diag_memory, diag_rows, diag_scan
from casework.plans.diagnose import Diagnosis, Diagnostic
from casework.plans.node import Plan, PlanNode
from casework.plans.read import read_plans

#: Every per-plan diagnostic, in the order a person reads a plan: time, access, rows, memory.
DIAGNOSTICS: tuple[Diagnostic, ...] = (
    diag_exec.slow_nodes,
    diag_scan.seqscan_filter,
    diag_scan.index_filter,
    diag_scan.heap_fetches,
    diag_scan.lossy_bitmap,
    diag_rows.misestimates,
    diag_rows.bad_nested_loops,
    diag_rows.join_filter_waste,
    diag_memory.spills,
    diag_exec.subplans,
    diag_exec.parallel_workers,
    diag_exec.jit,
    diag_exec.triggers,
)
MAX_SUMMARY_BYTES = 64 << 20


def diagnose(plan: Plan) -> list[Diagnosis]:
    """All diagnoses of one plan, most costly first."""
    found = [d for diagnostic in DIAGNOSTICS for d in diagnostic(plan)]
    return sorted(found, key=lambda d: d.score, reverse=True)


def summary(path: str | Path) -> dict[str, Any]:
    """Facts and diagnoses of a plan file; ``{"error": …}`` when it holds no readable plan."""
    file = Path(path)
    with file.open("rb") as handle:
        raw = handle.read(MAX_SUMMARY_BYTES)
    lines = list(enumerate(raw.decode("utf-8", "replace").splitlines(), 1))
    try:
        plans = read_plans(lines)
    except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
        return {
            "path": str(file),
            "plans": [],
            "error": f"not a readable plan ({type(exc).__name__})",
        }
    out = []
    for i, plan in enumerate(plans, 1):
        plan.plan_id = file.name if len(plans) == 1 else f"{file.name}#{i}"
        plan.file = str(file)
        out.append(_plan_summary(plan))
    return {"path": str(file), "plans": out}


def _plan_summary(plan: Plan) -> dict[str, Any]:
    timed = sorted(
        (n for n in plan.nodes if n.exclusive_ms is not None),
        key=lambda n: n.exclusive_ms or 0.0,
        reverse=True,
    )
    return {
        "plan_id": plan.plan_id,
        "engine": plan.engine,
        "format": plan.fmt,
        "analyzed": plan.analyzed,
        "nodes": len(plan.nodes),
        "tables": sorted(plan.relations()),
        "execution_ms": plan.execution_ms,
        "planning_ms": plan.planning_ms,
        "total_ms": plan.total_ms,
        "query": plan.query,
        "slowest": [_node(n) for n in timed[:5]],
        "diagnoses": [
            {
                "key": d.key,
                "severity": d.severity,
                "title": d.title,
                "node": d.node.label() if d.node else None,
                "next_steps": list(d.next_steps),
            }
            for d in diagnose(plan)
        ],
    }


def _node(node: PlanNode) -> dict[str, Any]:
    return {
        "node": node.label(),
        "exclusive_ms": node.exclusive_ms,
        "inclusive_ms": node.inclusive_ms,
        "est_rows": node.est_rows,
        "actual_rows": node.actual_rows,
        "loops": node.loops,
    }


__all__ = ["DIAGNOSTICS", "Diagnosis", "Plan", "PlanNode", "diagnose", "read_plans", "summary"]
