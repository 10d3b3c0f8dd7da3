"""ServiceNow incidents: the CSV export, and the event-log shape (one row per update of an incident).

In the event-log shape the rows of one ``number`` are its history. They are
ordered by update time and then ``sys_mod_count`` (the instance's update
counter), because exports are not always in that order. State changes give
the first response (the first move out of ``New``); the last update carries
the final reassignment and reopen counts, whether the SLA was made, and the
resolution time. A plain incident export is the same with one row each.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from casework.queue.importers.generic import clean, flag, number, when
from casework.queue.model import Ticket, TicketEvent

_OPEN_STATES = {"new", ""}
#: Coded fields that stand in for text in an anonymised log with no description.
_CODED = ("category", "subcategory", "u_symptom", "cmdb_ci", "contact_type")
_EPOCH = datetime.min


def is_csv(header: list[str]) -> bool:
    names = set(header)
    return (
        "number" in names
        and ("incident_state" in names or "state" in names)
        and "opened_at" in names
    )


def from_csv(rows: csv.DictReader[str]) -> Iterator[Ticket]:
    history: dict[str, list[tuple[datetime | None, int, dict[str, str]]]] = {}
    for row in rows:
        key = (row.get("number") or "").strip()
        if key:
            updated = when(row.get("sys_updated_at")) or when(row.get("opened_at"))
            history.setdefault(key, []).append(
                (updated, number(row.get("sys_mod_count")) or 0, row)
            )
    for key, updates in history.items():
        updates.sort(key=lambda u: (u[0].replace(tzinfo=None) if u[0] else _EPOCH, u[1]))
        yield _ticket(key, updates)


def _ticket(key: str, updates: list[tuple[datetime | None, int, dict[str, str]]]) -> Ticket:
    first, last = updates[0][2], updates[-1][2]
    coded = [f"{c}_{v.split()[-1]}" for c in _CODED if (v := clean(last.get(c)))]
    events = [
        TicketEvent(ts, clean(r.get("incident_state") or r.get("state")) or "", clean(r.get("assigned_to")))
        for ts, _, r in updates
        if ts is not None
    ]  # fmt: skip
    ticket = Ticket(
        id=key,
        source="servicenow",
        title=clean(last.get("short_description"))
        or " / ".join(
            v for c in ("category", "subcategory", "u_symptom") if (v := clean(last.get(c)))
        ),
        body=clean(last.get("description")) or " ".join(coded),
        created=when(first.get("opened_at")),
        resolved=when(last.get("resolved_at")) or when(last.get("closed_at")),
        status=clean(last.get("incident_state") or last.get("state")),
        priority=clean(last.get("priority")),
        label=clean(last.get("category")),
        group=clean(last.get("assignment_group")),
        resolution=clean(
            last.get("close_notes") or last.get("closed_code") or last.get("close_code")
        ),
        reassignments=number(last.get("reassignment_count")),
        reopens=number(last.get("reopen_count")),
        sla_met=flag(last.get("made_sla")),
        events=events,
    )
    ticket.first_response = next(
        (e.ts for e in events if e.state.lower() not in _OPEN_STATES), None
    )
    return ticket
