"""Index scans that fetch rows only for a filter to discard most: the composite index to try."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_scan import index_filter
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_index_filter", needs=())
def plan_index_filter(case: Case) -> Iterator[Finding]:
    """Index scans that fetch rows only for a filter to discard most: the composite index to try."""
    return plan_findings(case, "plan_index_filter", [index_filter])
