"""JIT compilation that takes most of a query's execution time."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_exec import jit
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_jit", needs=())
def plan_jit(case: Case) -> Iterator[Finding]:
    """JIT compilation that takes most of a query's execution time."""
    return plan_findings(case, "plan_jit", [jit])
