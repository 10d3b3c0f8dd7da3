"""How a story reads: what fails, for whom, how much and when, in the words of its title."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from casework.contrast_terms import estimated
from casework.findings import Finding, Stat, count_text, rate_text
from casework.timeline import gap_text as timeline_gap


def what_fails(anchor: Finding, cp: Finding | None) -> str:
    """What fails: ``HTTP 500 on POST /v1/refunds``, or the rising series."""
    text = anchor.title if cp is None else cp.title
    m = re.search(r"HTTP \d{3}", anchor.title) or re.search(r"HTTP \d{3}", text)
    route = next((v for k, v in anchor.entities.items() if "/" in str(v) and k != "file"), None)
    if cp is not None and cp.entities.get("series") == "5xx":
        # The change point names the method too ("POST /v1/refunds" for a cohort's "/v1/refunds").
        named = str(cp.entities.get("subject", ""))
        if route is None or (named.endswith(" " + route) and not route.startswith("HTTP")):
            route = named or route
    if m and route:
        return route if route.startswith("HTTP") else f"{m.group(0)} on {route}"
    if m:
        return m.group(0)
    if cp is not None:
        return f"Rise in the {cp.entities.get('what', cp.entities.get('subject', 'failures'))}"
    return "Failures"


def who(cohort: Finding) -> str:
    """For whom: the cohort's terms, ``plan = pro and created >= 2026-03-01``."""
    terms = [
        f"{k} {v}"
        if str(v).startswith((">", "<"))
        else f"{k} in {v}"
        if str(v).startswith("{")
        else f"{k} = {v}"
        for k, v in cohort.entities.items()
        if k not in ("file", "time", "failure") and "/" not in str(v)
    ]
    return " and ".join(terms)


def how_much(cohort: Finding | None, cp: Finding | None, onset: float | None = None) -> str:
    """How much: the cohort's failure rate against elsewhere, or the rate before and after.

    The cohort counts from its own onset; when the story's headline gives another minute
    (a change point's), the counts say from when they are.
    """
    s: Mapping[str, Stat] = cohort.stats if cohort else cp.stats if cp else {}
    if cohort is not None:
        about = estimated(s.get("sample"))
        since = s.get("since_epoch")
        counted = (
            f" counted since {minute_text(float(since))}"
            if isinstance(since, int | float)
            and (onset is None or minute_text(float(since)) != minute_text(onset))
            else ""
        )
        return (
            f"{_rate(s.get('rate'))} of them fail ({about}{count_text(s.get('failing'))} of"
            f" {about}{count_text(s.get('total'))}{counted}, {_pct(s.get('baseline_rate'), 2)}"
            " elsewhere)"
        )
    if cp is not None:
        return f"{_pct(s.get('before_rate'), 2)} → {_pct(s.get('after_rate'), 2)}"
    return ""


def _rate(value: Stat) -> str:
    """A cohort's failure rate to two significant digits (0.27%, not "0%"), ``?`` when missing."""
    return rate_text(float(value)) if isinstance(value, int | float) else "?"


def _pct(value: Stat, digits: int) -> str:
    """A rate as a percentage, ``?`` when it is missing."""
    return f"{float(value):.{digits}%}" if isinstance(value, int | float) else "?"


def gap_text(seconds: Stat) -> str:
    """``timeline.gap_text`` of a finding's stat; a missing one reads ``after``."""
    return timeline_gap(float(seconds)) if isinstance(seconds, int | float) else "after"


def minute_text(epoch: float) -> str:
    """An epoch second as ``2026-03-02 14:24 UTC``."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
