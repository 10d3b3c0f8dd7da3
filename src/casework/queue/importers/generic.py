"""Shared reading helpers, and the generic CSV with a column mapping."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from casework.queue.model import Ticket
from casework.timeparse import parse_ts

#: Ticket systems' CSV date shapes that are not ISO 8601 (day-first where the system writes so).
_FORMATS = (
    "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M",
)  # fmt: skip


def when(value: object) -> datetime | None:
    """A ticket timestamp in UTC, or None for empty or unreadable values (``?``, ``null``)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        parsed = parse_ts(value)
        return parsed[0] if parsed else None
    text = str(value).strip()
    if not text or text in {"?", "-", "null", "None", "NULL"}:
        return None
    parsed = parse_ts(text)
    if parsed:
        return parsed[0]
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def number(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def flag(value: object) -> bool | None:
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "y"}:
        return True
    if text in {"false", "no", "0", "n"}:
        return False
    return None


def clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in {"", "?", "null", "None"} else text


@dataclass(frozen=True, slots=True)
class Mapping:
    """Which columns of a CSV hold the id, the text (joined), the time, the label and the group."""

    text: tuple[str, ...]
    id: str | None = None
    time: str | None = None
    label: str | None = None
    group: str | None = None
    resolution: str | None = None

    def columns(self) -> list[str]:
        named = [self.id, self.time, self.label, self.group, self.resolution]
        return [*self.text, *(c for c in named if c)]


def generic_csv(rows: csv.DictReader[str], mapping: Mapping, name: str = "csv") -> Iterator[Ticket]:
    """Tickets of a mapped CSV; without an id column a ticket is ``<name>:<row>`` (file name, row)."""
    for number_, row in enumerate(rows, start=1):
        parts = [row.get(c) or "" for c in mapping.text]
        title, body = parts[0].strip(), "\n".join(p.strip() for p in parts[1:])
        yield Ticket(
            id=(row.get(mapping.id) or "").strip() if mapping.id else f"{name}:{number_}",
            source="csv",
            title=title,
            body=body,
            created=when(row.get(mapping.time)) if mapping.time else None,
            label=clean(row.get(mapping.label)) if mapping.label else None,
            group=clean(row.get(mapping.group)) if mapping.group else None,
            resolution=clean(row.get(mapping.resolution)) if mapping.resolution else None,
        )
