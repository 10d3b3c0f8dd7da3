"""Jira issues: the CSV export and the REST search JSON (``{"issues": [...]}``)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from casework.queue.importers.generic import clean, when
from casework.queue.model import Ticket


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
        )


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
