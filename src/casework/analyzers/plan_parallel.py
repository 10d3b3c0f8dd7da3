"""Parallel plans that launched fewer workers than planned."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_exec import parallel_workers
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_parallel", needs=())
def plan_parallel(case: Case) -> Iterator[Finding]:
    """Parallel plans that launched fewer workers than planned."""
    return plan_findings(case, "plan_parallel", [parallel_workers])
