"""Bitmap heap scans gone lossy for lack of work_mem, with the work_mem that keeps them exact."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_scan import lossy_bitmap
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_lossy_bitmap", needs=())
def plan_lossy_bitmap(case: Case) -> Iterator[Finding]:
    """Bitmap heap scans gone lossy for lack of work_mem, with the work_mem that keeps them exact."""
    return plan_findings(case, "plan_lossy_bitmap", [lossy_bitmap])
