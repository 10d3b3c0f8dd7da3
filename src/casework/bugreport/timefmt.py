"""Times and shares as the bug report and the customer update print them."""

from __future__ import annotations

from datetime import datetime

from casework.findings import Stat


def when(value: Stat) -> str:
    """``2026-11-20 13:04 UTC`` from an ISO timestamp (minutes are enough for people)."""
    ts = dt(value)
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "—"


def percent(value: Stat) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "—"


def dt(value: Stat) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.removeprefix(">= ").replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
