"""Sorts, hashes and hash aggregates that spilled to disk, with the work_mem they needed."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_memory import spills
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_spill", needs=())
def plan_spill(case: Case) -> Iterator[Finding]:
    """Sorts, hashes and hash aggregates that spilled to disk, with the work_mem they needed."""
    return plan_findings(case, "plan_spill", [spills])
