"""SLA and flow: time to first response and to resolution by priority, breaches, reassignments, reopens, backlog.

Times come from the tickets' own fields (created, first response,
resolved); ``made_sla`` is the source system's verdict where it has one.
The backlog on a day counts tickets created on or before it and not yet
resolved by its end.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from casework.queue.model import Ticket


@dataclass(frozen=True, slots=True)
class PrioritySla:
    priority: str
    tickets: int
    first_response_p50_h: float | None
    first_response_p90_h: float | None
    resolution_p50_h: float | None
    resolution_p90_h: float | None
    breaches: int
    sla_known: int
    reassigned: int
    mean_reassignments: float
    reopened: int


def _hours(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None or b < a:
        return None
    return (b - a).total_seconds() / 3600


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def by_priority(tickets: list[Ticket]) -> list[PrioritySla]:
    groups: dict[str, list[Ticket]] = defaultdict(list)
    for t in tickets:
        groups[t.priority or "(none)"].append(t)
    out = []
    for priority in sorted(groups):
        ts = groups[priority]
        first = [h for t in ts if (h := _hours(t.created, t.first_response)) is not None]
        resolution = [h for t in ts if (h := _hours(t.created, t.resolved)) is not None]
        known = [t for t in ts if t.sla_met is not None]
        reassignments = [t.reassignments or 0 for t in ts]
        out.append(PrioritySla(
            priority, len(ts), _pct(first, 50), _pct(first, 90), _pct(resolution, 50), _pct(resolution, 90),
            sum(1 for t in known if t.sla_met is False), len(known), sum(1 for r in reassignments if r > 0),
            round(sum(reassignments) / len(ts), 3), sum(1 for t in ts if (t.reopens or 0) > 0),
        ))  # fmt: skip
    return out


def backlog(tickets: list[Ticket]) -> list[tuple[datetime, int]]:
    """Open tickets at the end of each day from the first creation to the last event.

    One sweep over sorted creations and resolutions: a queue of years and
    tens of thousands of tickets would otherwise be days x tickets steps.
    """
    created = sorted(t.created for t in tickets if t.created is not None)
    if not created:
        return []
    # A resolution stamped before the creation (clock skew) closes the ticket when it opened.
    resolved = sorted(
        max(t.resolved, t.created)
        for t in tickets
        if t.created is not None and t.resolved is not None
    )
    day = created[0].replace(hour=0, minute=0, second=0, microsecond=0)
    end = max(created[-1], resolved[-1]) if resolved else created[-1]
    out = []
    while day <= end:
        close = day + timedelta(days=1)
        out.append((day, bisect_left(created, close) - bisect_left(resolved, close)))
        day = close
    return out
