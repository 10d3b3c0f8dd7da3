"""What changed: the release, deploy, config change or restart that most nearly precedes each change point.

For each significant rise (from :func:`casework.shifts.detect`) the change in
the ``changes`` table nearest its likeliest minute, up to its latest candidate
time, is named with its gap ("14 minutes after release 2.14.3"). How telling
the alignment is depends on how often things change: the chance that a random
moment falls that near some change is about |gap| / (typical spacing of
changes), reported as ``chance``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Window
from casework.shifts import Onset, describe, detect, template_patterns
from casework.timeline import gap_text, minute, names_change

HORIZON = timedelta(hours=24)
MAX_ONSETS = 6
#: A restart this soon after a release of the same version is that release rolling out.
SAME_ROLLOUT = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class _Change:
    ts: datetime
    kind: str
    what: str
    version: str | None
    source: str
    line: int | None

    @property
    def name(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{self.kind} {self.what}{version}".strip()


@analyzer(key="what_changed", needs=("changes",))
def what_changed(case: Case) -> Iterator[Finding]:
    """The change (release, deploy, config, restart) right before each change point, with the gap."""
    changes = [
        _Change(ts, str(kind or "change"), str(what or ""), version, str(source or "?"), line)
        for ts, kind, what, version, source, line in case.rows(
            "SELECT ts, kind, what, version, source, line FROM changes WHERE ts IS NOT NULL ORDER BY ts"
        )
    ]
    if not changes:
        return
    spacing = _spacing(changes, case)
    onsets = [o for o in detect(case) if o.increased][:MAX_ONSETS]
    patterns = template_patterns(case, onsets)
    seen: set[tuple[str, datetime]] = set()
    for o in onsets:
        # The evidence's own things first: a deploy of a service nothing names, a minute before
        # the rise, does not hide the deploy of the failing one three minutes before it.
        named = [c for c in changes if _named(case, c, o)]
        change = _preceding(named, o) or _preceding(changes, o)
        if change is None or (change.name, change.ts) in seen:
            continue
        seen.add((change.name, change.ts))
        yield _finding(o, change, spacing, describe(o, patterns), change in named)


def _spacing(changes: list[_Change], case: Case) -> float:
    """Typical seconds between changes (the window length when there is only one)."""
    # A release announced, deployed and restarted within minutes is one rollout, not three changes.
    gaps = [(b.ts - a.ts).total_seconds() for a, b in pairwise(changes)]
    gaps = [g for g in gaps if g > SAME_ROLLOUT.total_seconds() / 2]
    if gaps:
        return float(median(gaps))
    w = case.window
    return max((w.end - w.start).total_seconds(), 1.0) if w else 86400.0


def _preceding(changes: list[_Change], o: Onset) -> _Change | None:
    """The change nearest the onset: the last one before it, or one after its likeliest minute
    that is still among its candidate times and nearer (a deploy 30 s after the bucket the rise
    is dated to, not one 20 minutes on that a wide interval happens to reach). A restart of a
    version names the release of it instead."""
    candidates = [c for c in changes if o.at - HORIZON <= c.ts <= o.latest]
    if not candidates:
        return None
    last = min(candidates, key=lambda c: (abs((o.at - c.ts).total_seconds()), c.ts))
    before = [c for c in candidates if c.ts <= last.ts]
    if last.version:
        same = [
            c
            for c in before
            if c.version
            and _bare(c.version) == _bare(last.version)
            and (last.ts - c.ts) <= SAME_ROLLOUT
        ]
        announced = [c for c in same if c.kind != "restart"]
        return (announced or same)[0]
    return last


def _bare(version: str) -> str:
    return version.lower().removeprefix("v")


def _named(case: Case, c: _Change, o: Onset) -> bool:
    """Whether the evidence names the changed thing (``timeline.names_change``); a change read
    from the file of the rise is named by it."""
    return c.source == o.file or names_change(case, c.kind, c.what, c.source)


def _finding(o: Onset, c: _Change, spacing: float, what: str, named: bool) -> Finding:
    """``what``: the series in words (``describe``); ``named``: whether the evidence names the
    changed thing (see ``_named``)."""
    gap = (o.at - c.ts).total_seconds()
    chance = min(1.0, max(abs(gap), 60.0) / spacing)
    when = gap_text(gap)
    s = o.shift
    title = (
        f"The {what} rose at {minute(o.at)}, {when} {c.name}"
        f" ({s.before_rate:.2%} → {s.after_rate:.2%})"
    )
    inside = o.earliest <= c.ts <= o.latest
    return Finding(
        key="CHANGE_BEFORE_ONSET",
        analyzer="what_changed",
        subject=f"{o.file}:{o.kind}:{o.subject}:{c.name}",
        severity="high" if chance < 0.2 and named else "medium",
        score=round((0.5 + 0.5 * (1 - chance)) * (1.0 if named else 0.7), 4),
        title=title,
        summary=(
            f"{c.name} (at {minute(c.ts)}, from {c.source}) is the change nearest the onset of"
            f" the {what} at {minute(o.at)}; the onset's candidate times span {minute(o.earliest)}"
            f" to {minute(o.latest)}{', which includes the change' if inside else ''}. Changes"
            f" happen about every {gap_text(spacing, bare=True)} here, so a chance alignment this"
            f" close has probability about {chance:.2f}."
            + ("" if named else f" The evidence names {c.what} nowhere else: a weaker link.")
        ),
        window=Window(min(c.ts, o.earliest), o.latest),
        entities={
            "change": c.name,
            "change_kind": c.kind,
            "version": c.version or "",
            "subject": o.subject,
            "file": o.file,
            "onset": minute(o.at),
        },
        stats={
            "gap_seconds": gap,
            "chance": chance,
            "change_epoch": c.ts.timestamp(),
            "onset_epoch": o.at.timestamp(),
            # The onset's candidate interval, so a cohort's sharper onset inside it can join.
            "earliest_epoch": o.earliest.timestamp(),
            "latest_epoch": o.latest.timestamp(),
            "spacing_seconds": spacing,
            "named": named,
        },
        evidence=(
            Evidence(
                file=c.source,
                lines=(c.line, c.line) if c.line else None,
                excerpt=f"{minute(c.ts)} {c.name}",
            ),
        ),
        next_steps=(
            f"Roll back {c.name} (or disable it behind its flag) in one place and watch the rate.",
            f"Diff {c.name} against the previous version for the code path of {o.subject}.",
            "Refute: if the rate rose before the change reached this service, the change is not the cause.",
        ),
    )
