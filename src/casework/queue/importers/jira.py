"""Jira issues: the CSV export and the REST search JSON (``{"issues": [...]}``)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from casework.queue.importers.generic import clean, when
from casework.queue.model import Ticket, TicketEvent

_DONE = {"done", "resolved", "closed"}


def is_json(doc: Any) -> bool:
    issues = doc.get("issues") if isinstance(doc, dict) else None
    first = issues[0] if isinstance(issues, list) and issues else doc
    return isinstance(first, dict) and "key" in first and isinstance(first.get("fields"), dict)


def _name(value: Any) -> str | None:
    return clean(value.get("name")) if isinstance(value, dict) else clean(value)


def _text(value: Any) -> str:
    """Jira Cloud's description is an Atlassian Document (ADF); Server's is plain text."""
    if isinstance(value, dict):
        return " ".join(_text(c) for c in value.get("content") or []) + (value.get("text") or "")
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value or "")


def from_json(doc: Any) -> Iterator[Ticket]:
    for issue in doc.get("issues", [doc]) if isinstance(doc, dict) else []:
        f = issue.get("fields") or {}
        events, reassigned, reopened = _history(issue.get("changelog"))
        yield Ticket(
            id=str(issue.get("key")),
            source="jira",
            title=str(f.get("summary") or ""),
            body=_text(f.get("description")),
            created=when(f.get("created")),
            resolved=when(f.get("resolutiondate")),
            status=_name(f.get("status")),
            priority=_name(f.get("priority")),
            label=_name(f.get("issuetype")),
            group=_name(f.get("project")),
            resolution=_name(f.get("resolution")),
            first_response=events[0].ts if events else None,
            reassignments=reassigned,
            reopens=reopened,
            events=events,
        )


def _history(changelog: Any) -> tuple[list[TicketEvent], int | None, int | None]:
    """Status changes, reassignments and reopens from ``expand=changelog``; counts are None without it.

    The first status change is the first response; a move out of Done,
    Resolved or Closed is a reopen; an assignee replacing another is a
    reassignment (the first assignment is not).
    """
    histories = changelog.get("histories") if isinstance(changelog, dict) else None
    if not isinstance(histories, list):
        return [], None, None
    dated = [(ts, h) for h in histories if isinstance(h, dict) and (ts := when(h.get("created")))]
    events: list[TicketEvent] = []
    assignee, reassigned, reopened = None, 0, 0
    for ts, h in sorted(dated, key=lambda d: d[0]):
        for item in h.get("items") or []:
            field = str(item.get("field") or "").lower() if isinstance(item, dict) else ""
            if field == "assignee":
                reassigned += assignee is not None or bool(item.get("fromString"))
                assignee = clean(item.get("toString"))
            elif field == "status":
                old, new = str(item.get("fromString") or ""), str(item.get("toString") or "")
                reopened += old.lower() in _DONE and new.lower() not in _DONE
                events.append(TicketEvent(ts, new, assignee))
    return events, reassigned, reopened


def is_csv(header: list[str]) -> bool:
    names = set(header)
    return "Summary" in names and ("Issue key" in names or "Issue id" in names)


def from_csv(rows: csv.DictReader[str]) -> Iterator[Ticket]:
    for row in rows:
        yield Ticket(
            id=row.get("Issue key") or row.get("Issue id") or "",
            source="jira",
            title=row.get("Summary") or "",
            body=row.get("Description") or "",
            created=when(row.get("Created")),
            resolved=when(row.get("Resolved")),
            status=clean(row.get("Status")),
            priority=clean(row.get("Priority")),
            label=clean(row.get("Issue Type")),
            group=clean(row.get("Project key") or row.get("Project name")),
            resolution=clean(row.get("Resolution")),
        )
