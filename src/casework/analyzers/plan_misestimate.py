"""Row estimates off by 10x or more where the error starts, with ANALYZE or extended statistics."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_rows import misestimates
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_misestimate", needs=())
def plan_misestimate(case: Case) -> Iterator[Finding]:
    """Row estimates off by 10x or more where the error starts, with ANALYZE or extended statistics."""
    return plan_findings(case, "plan_misestimate", [misestimates])
