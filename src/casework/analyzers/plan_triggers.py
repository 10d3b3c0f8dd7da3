"""Triggers (foreign-key checks above all) that take most of a DML statement's time."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.plans.diag_exec import triggers
from casework.plans.finding import plan_findings


# Plans also come from auto_explain records in ``events``, so no table is required up front.
@analyzer(key="plan_triggers", needs=())
def plan_triggers(case: Case) -> Iterator[Finding]:
    """Triggers (foreign-key checks above all) that take most of a DML statement's time."""
    return plan_findings(case, "plan_triggers", [triggers])
