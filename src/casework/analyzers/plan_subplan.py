"""Correlated subqueries executed once per outer row."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_exec import subplans
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_subplan", needs=())
def plan_subplan(case: Case) -> Iterator[Finding]:
    """Correlated subqueries executed once per outer row."""
    return plan_findings(case, "plan_subplan", [subplans])
