"""Query plan nodes that take most of the plan's time themselves (exclusive time), per plan."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_exec import slow_nodes
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_slow_nodes", needs=())
def plan_slow_nodes(case: Case) -> Iterator[Finding]:
    """Query plan nodes that take most of the plan's time themselves (exclusive time), per plan."""
    return plan_findings(case, "plan_slow_nodes", [slow_nodes])
