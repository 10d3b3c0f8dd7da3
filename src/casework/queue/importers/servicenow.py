"""ServiceNow incidents: the CSV export, and the event-log shape (one row per update of an incident).

In the event-log shape the rows of one ``number`` are its history: state
changes give the first response (the first move out of ``New``) and the
resolution; the last row carries the final reassignment and reopen counts
and whether the SLA was made.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from casework.queue.importers.generic import clean, flag, number, when
from casework.queue.model import Ticket, TicketEvent

_OPEN_STATES = {"new", ""}


def is_csv(header: list[str]) -> bool:
    names = set(header)
    return (
        "number" in names
        and ("incident_state" in names or "state" in names)
        and "opened_at" in names
    )


def from_csv(rows: csv.DictReader[str]) -> Iterator[Ticket]:
    current: Ticket | None = None
    for row in rows:
        number_ = (row.get("number") or "").strip()
        if current is not None and current.id != number_:
            yield _finish(current)
            current = None
        state = clean(row.get("incident_state") or row.get("state")) or ""
        updated = when(row.get("sys_updated_at")) or when(row.get("opened_at"))
        if current is None:
            current = Ticket(
                id=number_, source="servicenow",
                title=row.get("short_description") or " / ".join(
                    v for v in (clean(row.get("category")), clean(row.get("subcategory")), clean(row.get("u_symptom"))) if v
                ),
                body=row.get("description") or "",
                created=when(row.get("opened_at")),
                priority=clean(row.get("priority")),
                label=clean(row.get("category")),
                group=clean(row.get("assignment_group")),
            )  # fmt: skip
        if updated is not None:
            current.events.append(TicketEvent(updated, state, clean(row.get("assigned_to"))))
        current.status = state
        current.priority = clean(row.get("priority")) or current.priority
        current.group = clean(row.get("assignment_group")) or current.group
        current.reassignments = number(row.get("reassignment_count"))
        current.reopens = number(row.get("reopen_count"))
        current.sla_met = flag(row.get("made_sla"))
        current.resolved = when(row.get("resolved_at")) or current.resolved
        current.resolution = (
            clean(row.get("close_notes") or row.get("closed_code") or row.get("close_code"))
            or current.resolution
        )
    if current is not None:
        yield _finish(current)


def _finish(ticket: Ticket) -> Ticket:
    ticket.events.sort(key=lambda e: e.ts)
    for event in ticket.events:
        if event.state.lower() not in _OPEN_STATES:
            ticket.first_response = event.ts
            break
    return ticket
