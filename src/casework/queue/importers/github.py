"""GitHub issues as the REST API returns them (a list, one object per line, or one issue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from casework.queue.importers.generic import when
from casework.queue.model import Ticket


def is_json(doc: Any) -> bool:
    first = doc[0] if isinstance(doc, list) and doc else doc
    return (
        isinstance(first, dict) and "number" in first and ("html_url" in first or "labels" in first)
    )


def from_json(doc: Any) -> Iterator[Ticket]:
    for issue in doc if isinstance(doc, list) else [doc]:
        if not isinstance(issue, dict) or "pull_request" in issue:
            continue
        labels = [
            lb.get("name") if isinstance(lb, dict) else str(lb) for lb in issue.get("labels") or []
        ]
        repo = str(issue.get("repository_url") or "").rsplit("/repos/", 1)[-1] or None
        yield Ticket(
            id=f"{repo}#{issue['number']}" if repo else str(issue["number"]),
            source="github",
            title=str(issue.get("title") or ""),
            body=str(issue.get("body") or ""),
            created=when(issue.get("created_at")),
            resolved=when(issue.get("closed_at")),
            status=issue.get("state"),
            label=next((lb for lb in labels if lb), None),
            group=repo,
            resolution=issue.get("state_reason"),
        )
