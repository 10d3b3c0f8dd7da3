"""How a plan node record is redacted and stored in ``plans`` (registered in ``casework.sinks``)."""

from __future__ import annotations

from casework.model import PlanNodeRecord
from casework.redact import Redactor
from casework.store import RowBuffer


def plan_node(out: RowBuffer, r: Redactor, rec: PlanNodeRecord, file: str) -> None:
    # Filters and query text quote literal values: they go through the redactor like log text.
    out.add(
        "plans",
        (
            r.text(rec.plan_id),
            rec.node_id,
            rec.parent,
            rec.node_type,
            r.text(rec.relation) if rec.relation else None,
            rec.est_rows,
            rec.actual_rows,
            rec.loops,
            rec.total_ms,
            file,
            r.json(rec.attrs),
        ),
    )
