"""Nested loops chosen on a misestimate, and joins that test row pairs a filter mostly rejects."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_rows import bad_nested_loops, join_filter_waste
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_nested_loop", needs=())
def plan_nested_loop(case: Case) -> Iterator[Finding]:
    """Nested loops chosen on a misestimate, and joins that test row pairs a filter mostly rejects."""
    return plan_findings(case, "plan_nested_loop", [bad_nested_loops, join_filter_waste])
