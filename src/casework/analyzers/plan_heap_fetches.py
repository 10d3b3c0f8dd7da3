"""Index-only scans that still visit the heap for many rows: a stale visibility map."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_scan import heap_fetches
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_heap_fetches", needs=())
def plan_heap_fetches(case: Case) -> Iterator[Finding]:
    """Index-only scans that still visit the heap for many rows: a stale visibility map."""
    return plan_findings(case, "plan_heap_fetches", [heap_fetches])
