"""Diagnostics of memory: sorts, hashes and hash aggregates that spilled to disk past work_mem."""

from __future__ import annotations

from collections.abc import Iterator

from casework.plans.diagnose import Diagnosis, fmt_ms, fmt_n, rate, top, where, work_mem_for
from casework.plans.node import Plan, PlanNode

#: An in-memory sort takes roughly this many times the space its external sort wrote to disk.
SORT_MEMORY_PER_DISK = 2.0


def _sort_spill(node: PlanNode) -> tuple[float, str] | None:
    disk = node.sort_space_kb if node.sort_space_type == "Disk" else None
    method = (node.sort_method or "").lower()
    if disk is None and not method.startswith("external"):
        return None
    disk = disk or 0.0
    return disk * SORT_MEMORY_PER_DISK, f"{node.sort_method} with {fmt_n(disk)} kB on disk"


def _hash_spill(node: PlanNode) -> tuple[float, str] | None:
    batches = node.hash_batches or 0.0
    if node.kind == "hash" and batches > 1 and node.peak_memory_kb is not None:
        orig = node.original_hash_batches
        grew = f" (planned {fmt_n(orig)})" if orig and orig != batches else ""
        return (
            node.peak_memory_kb * batches,
            f"{fmt_n(batches)} batches{grew} of {fmt_n(node.peak_memory_kb)} kB",
        )
    if node.kind == "aggregate" and node.disk_usage_kb:
        need = (node.peak_memory_kb or 0.0) + node.disk_usage_kb * SORT_MEMORY_PER_DISK
        return need, f"{fmt_n(batches)} batches, {fmt_n(node.disk_usage_kb)} kB on disk"
    return None


def spills(plan: Plan) -> Iterator[Diagnosis]:
    """Every node that wrote to temporary files because work_mem was too small for it."""
    found = []
    current = plan.settings.get("work_mem")
    for node in plan.nodes:
        spill = _sort_spill(node) if node.kind == "sort" else _hash_spill(node)
        if spill is None:
            continue
        need_kb, detail = spill
        need = work_mem_for(need_kb)
        ms = node.exclusive_ms if node.kind != "hash" else node.inclusive_ms
        severity, score = rate(plan, ms, floor=0.3)
        what = "sort" if node.kind == "sort" else "hash"
        parallel = (
            " Each parallel worker gets its own work_mem, so the total is that value per process."
            if node.parallel_aware or (node.loops or 1) > 1
            else ""
        )
        key_text = f" by {node.sort_key}" if node.sort_key else ""
        temp = node.buffers.get("temp_written")
        found.append(
            Diagnosis(
                key="PLAN_SPILL",
                plan=plan,
                node=node,
                severity=severity,
                score=score,
                title=(
                    f"{node.node_type}{key_text} spilled to disk ({detail}): it needs work_mem "
                    f"of about {need}{f', has {current}' if current else ''}"
                ),
                summary=(
                    f"{where(plan, node)} did not fit in work_mem and {what}ed through temporary "
                    f"files{f' ({fmt_n(temp)} temp blocks written)' if temp else ''}, taking "
                    f"{fmt_ms(ms)}.{parallel}"
                ),
                next_steps=_steps(need, need_kb, what),
                entities={
                    "node": node.label(),
                    **({"table": node.relation} if node.relation else {}),
                },
                stats={
                    "work_mem_needed": need,
                    "needed_kb": need_kb,
                    "disk_kb": node.sort_space_kb if node.kind == "sort" else node.disk_usage_kb,
                    "batches": node.hash_batches,
                    "ms": ms,
                    "work_mem": current,
                },
            )
        )
    yield from top(found)


#: Past this, memory is not the answer: the input to sort or hash should shrink.
TOO_BIG_KB = 1024.0 * 1024.0


def _steps(need: str, need_kb: float, what: str) -> tuple[str, ...]:
    setting = (
        f"SET work_mem = '{need}'; in the session (or ALTER ROLE … SET work_mem) for this "
        "query rather than raising it server-wide."
    )
    if what == "hash":
        setting += " For hashes, hash_mem_multiplier (PostgreSQL 13+) raises their share alone."
    shrink = (
        f"Reduce what is {what}ed: select fewer columns, filter earlier, or an index that "
        "returns rows in the needed order."
    )
    return (shrink, setting) if need_kb > TOO_BIG_KB else (setting, shrink)
