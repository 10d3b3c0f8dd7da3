"""Full table scans whose filter discards most rows, with the column(s) to index."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_scan import seqscan_filter
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_seqscan", needs=())
def plan_seqscan(case: Case) -> Iterator[Finding]:
    """Full table scans whose filter discards most rows, with the column(s) to index."""
    return plan_findings(case, "plan_seqscan", [seqscan_filter])
