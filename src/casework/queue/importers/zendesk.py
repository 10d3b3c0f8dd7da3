"""Zendesk tickets: the JSON export (``{"tickets": [...]}`` or one ticket per line) and the CSV view export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from casework.queue.importers.generic import clean, number, when
from casework.queue.model import Ticket

_DONE = {"solved", "closed"}


def is_json(doc: Any) -> bool:
    if isinstance(doc, dict) and isinstance(doc.get("tickets"), list):
        return True
    return (
        isinstance(doc, dict)
        and "subject" in doc
        and "id" in doc
        and ("via" in doc or "requester_id" in doc)
    )


def from_json(doc: Any) -> Iterator[Ticket]:
    for t in doc["tickets"] if isinstance(doc, dict) and "tickets" in doc else [doc]:
        if not isinstance(t, dict):
            continue
        metrics = t.get("metric_set") or {}
        yield Ticket(
            id=f"ZD-{t.get('id')}",
            source="zendesk",
            title=str(t.get("subject") or t.get("raw_subject") or ""),
            body=str(t.get("description") or ""),
            created=when(t.get("created_at")),
            resolved=when(
                metrics.get("solved_at")
                or (t.get("updated_at") if t.get("status") in _DONE else None)
            ),
            status=t.get("status"),
            priority=t.get("priority"),
            label=t.get("type") or next(iter(t.get("tags") or []), None),
            group=str(t.get("group_id")) if t.get("group_id") else None,
            reassignments=number(metrics.get("group_stations")),
            reopens=number(metrics.get("reopens")),
        )


def is_csv(header: list[str]) -> bool:
    names = {h.lower() for h in header}
    return "subject" in names and (
        "requested" in names or "requester" in names or "ticket id" in names
    )


def from_csv(rows: csv.DictReader[str]) -> Iterator[Ticket]:
    for row in rows:
        r = {k.strip().lower(): v for k, v in row.items() if k}
        yield Ticket(
            id=f"ZD-{r.get('id') or r.get('ticket id')}",
            source="zendesk",
            title=r.get("subject") or "",
            body=r.get("description") or "",
            created=when(r.get("requested") or r.get("created")),
            # A view export rarely has a "Solved" column; a solved ticket's last update is then when.
            resolved=when(r.get("solved"))
            or (when(r.get("updated")) if (r.get("status") or "").lower() in _DONE else None),
            status=clean(r.get("status")),
            priority=clean(r.get("priority")),
            label=clean(r.get("type")),
            group=clean(r.get("group")),
        )
