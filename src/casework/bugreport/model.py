"""The typed bug report: built only from findings.json and facts queried from the case store.

Nothing here is free text invented for the occasion: every sentence is made
from a finding's fields or from a :class:`Number` whose query is kept with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casework.findings import Evidence, Stat, Window


@dataclass(frozen=True, slots=True)
class FindingFacts:
    """One finding as findings.json states it (the ``casework.findings/1`` contract)."""

    id: str
    key: str
    analyzer: str
    severity: str
    title: str
    summary: str
    rank: int | None = None
    window: Window | None = None
    entities: Mapping[str, str] = field(default_factory=dict)
    stats: Mapping[str, Stat] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    next_steps: tuple[str, ...] = ()
    related: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FindingFacts:
        window = doc.get("window")
        return cls(
            id=str(doc["id"]),
            key=str(doc.get("key", "")),
            analyzer=str(doc.get("analyzer", "")),
            severity=str(doc.get("severity", "info")),
            title=str(doc.get("title", "")),
            summary=str(doc.get("summary", "")),
            rank=doc.get("rank"),
            window=Window(_ts(window["start"]), _ts(window["end"])) if window else None,
            entities={str(k): str(v) for k, v in (doc.get("entities") or {}).items()},
            stats=dict(doc.get("stats") or {}),
            evidence=tuple(_evidence(e) for e in doc.get("evidence") or ()),
            next_steps=tuple(str(s) for s in doc.get("next_steps") or ()),
            related=tuple(str(r) for r in doc.get("related") or ()),
        )

    def stat(self, name: str) -> Stat:
        return self.stats.get(name)


@dataclass(frozen=True, slots=True)
class Number:
    """One impact number with what it means and the DuckDB query that produced it."""

    name: str
    value: Stat
    meaning: str
    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Impact:
    """The impact of a finding in numbers; ``scope`` says which records were counted."""

    scope: str
    numbers: tuple[Number, ...] = ()
    note: str = ""
    #: Failing records per bucket over the evidence window (for a small chart), and the bucket size.
    series: tuple[int, ...] = ()
    bucket_minutes: int = 0

    def get(self, name: str) -> Stat:
        for n in self.numbers:
            if n.name == name:
                return n.value
        return None

    def incident(self) -> tuple[Stat, Stat, Stat, Stat]:
        """(failures, records in scope, their share, since when): from the finding's onset when
        the scope also failed before it, else from the first failure."""
        failing = self.get("failing_since_onset")
        if failing:
            volume = self.get("volume_since_onset")
            share = float(failing) / float(volume) if isinstance(volume, int) and volume else None
            return failing, volume, share, self.get("onset")
        return (
            self.get("failing"),
            self.get("volume_since_first_failure"),
            self.get("share_since_first_failure"),
            self.get("first_failure"),
        )


@dataclass(frozen=True, slots=True)
class Fact:
    """An environment fact (a version, a region, a client) and where it was read."""

    name: str
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class Moment:
    """One line of the timeline."""

    ts: datetime
    what: str
    source: str


@dataclass(frozen=True, slots=True)
class ReproFiles:
    """The reproduction written for the report: paths relative to the case directory."""

    script_sh: str
    script_py: str
    curl: str
    request: str
    status: int
    secrets: tuple[str, ...]
    minimal: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BugReport:
    """A bug report engineering can act on, for one finding."""

    finding: FindingFacts
    #: The finding whose route or log template the numbers count (``finding`` or one it merged).
    counted: FindingFacts
    title: str
    summary: str
    impact: Impact
    environment: tuple[Fact, ...]
    steps: tuple[str, ...]
    expected: str
    actual: str
    cohort: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    corroborating: tuple[FindingFacts, ...]
    timeline: tuple[Moment, ...]
    hypothesis: str
    confirm: tuple[str, ...]
    workaround: tuple[str, ...]
    repro: ReproFiles | None = None
    #: The case description's first paragraphs (redacted), as the reporter wrote them.
    reported: tuple[str, ...] = ()
    #: What the evidence does not show of what the description reports (``described.GAP_KEYS``).
    caveats: tuple[str, ...] = ()


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _evidence(doc: Mapping[str, Any]) -> Evidence:
    lines = doc.get("lines")
    return Evidence(
        file=str(doc.get("file", "")),
        lines=(int(lines[0]), int(lines[-1])) if lines else None,
        excerpt=str(doc.get("excerpt", "")),
        refs=tuple(str(r) for r in doc.get("refs") or ()),
        kind=str(doc.get("kind", "lines")),
    )
