"""The findings contract (``casework.findings/1``): typed, frozen, numbers in fields.

An analyzer builds a :class:`Finding` with its numbers in ``stats`` and
``entities``; the title and summary are made from those numbers by the
analyzer in one place. Ranking fills ``rank`` later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

SCHEMA = "casework.findings/1"

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITY_WEIGHT: Mapping[str, float] = {
    "critical": 1.0,
    "high": 0.8,
    "medium": 0.55,
    "low": 0.3,
    "info": 0.1,
}

Stat = int | float | str | bool | None


@dataclass(frozen=True, slots=True)
class Window:
    """A time window, both ends UTC."""

    start: datetime
    end: datetime

    def to_json(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}


@dataclass(frozen=True, slots=True)
class Evidence:
    """A pointer to what supports a claim: lines of a file, spans, packets or plan nodes.

    ``lines`` is an inclusive ``(first, last)`` range of 1-based line numbers;
    ``refs`` names spans, frame numbers or plan node ids when lines do not apply.
    ``excerpt`` is redacted text.
    """

    file: str
    lines: tuple[int, int] | None = None
    excerpt: str = ""
    refs: tuple[str, ...] = ()
    kind: str = "lines"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file}
        if self.lines is not None:
            out["lines"] = list(self.lines)
        if self.refs:
            out["refs"] = list(self.refs)
            out["kind"] = self.kind
        out["excerpt"] = self.excerpt
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    """One testable hypothesis with its evidence.

    ``key`` is the stable kind of finding (``HTTP_5XX_ROUTE``); ``subject``
    distinguishes findings of one kind (the route, the template id) and with
    the analyzer makes the stable ``id``. ``incident`` groups findings that
    describe the same incident so ranking can merge them.
    """

    key: str
    analyzer: str
    subject: str
    severity: Severity
    score: float
    title: str
    summary: str
    window: Window | None = None
    entities: Mapping[str, str] = field(default_factory=dict)
    stats: Mapping[str, Stat] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    next_steps: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    rank: int | None = None

    @property
    def id(self) -> str:
        digest = hashlib.sha256(f"{self.key}\x00{self.subject}".encode()).hexdigest()[:6]
        return f"{self.analyzer}-{digest}"

    def ranked(self, rank: int, score: float | None = None) -> Finding:
        return replace(self, rank=rank, score=self.score if score is None else score)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rank": self.rank,
            "id": self.id,
            "key": self.key,
            "analyzer": self.analyzer,
            "severity": self.severity,
            "score": round(self.score, 4),
            "title": self.title,
            "summary": self.summary,
            "window": self.window.to_json() if self.window else None,
            "entities": dict(self.entities),
            "stats": {k: _json_stat(v) for k, v in self.stats.items()},
            "evidence": [e.to_json() for e in self.evidence],
            "next_steps": list(self.next_steps),
        }
        if self.related:
            out["related"] = list(self.related)
        return out


def rate_text(rate: float) -> str:
    """A failure rate to two significant digits at most: 45%, 4.5%, 0.27% (a 0.27% rate is
    not "0%")."""
    return f"{rate:.0%}" if rate >= 0.095 else f"{rate:.1%}" if rate >= 0.0095 else f"{rate:.2%}"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count_text(value: Stat) -> str:
    """``1,192``: a count as findings write it, with thousands separators (anything else as it is)."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, second precision unless sub-second matters."""
    text = ts.isoformat(timespec="milliseconds" if ts.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _json_stat(value: Stat) -> Stat:
    if isinstance(value, float):
        return round(value, 6)
    return value
