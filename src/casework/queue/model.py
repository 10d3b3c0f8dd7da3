"""A ticket as casework keeps it, whatever system exported it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class TicketEvent:
    """A state change of a ticket (ServiceNow's event log; Jira/Zendesk status history)."""

    ts: datetime
    state: str
    assignee: str | None = None


@dataclass(slots=True)
class Ticket:
    """One support ticket or issue.

    ``label`` is its type or category (bug/feature/question, a ServiceNow
    category); ``group`` the project, repository or assignment group;
    ``resolution`` the resolution text or close code.
    """

    id: str
    source: str
    title: str
    body: str = ""
    created: datetime | None = None
    resolved: datetime | None = None
    status: str | None = None
    priority: str | None = None
    label: str | None = None
    group: str | None = None
    resolution: str | None = None
    first_response: datetime | None = None
    reassignments: int | None = None
    reopens: int | None = None
    sla_met: bool | None = None
    events: list[TicketEvent] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}".strip()
