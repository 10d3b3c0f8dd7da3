"""Change points: when the failure rate, a template's rate or a route's latency shifted, with the time's uncertainty."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from casework.analyzers.quiet_failures import says_failed
from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window
from casework.shifts import Onset, describe, detect, template_patterns
from casework.timeline import evidence_strength, minute

MAX_FINDINGS = 20


@analyzer(key="changepoints", needs=())
def changepoints(case: Case) -> Iterator[Finding]:
    """Change points of failure, template and latency rates, each with a time interval."""
    onsets = detect(case)[:MAX_FINDINGS]
    patterns = template_patterns(case, onsets)
    # The same series from two sources (an access log and the app's own request log) would read
    # the same; then the title names the source.
    sources = Counter((o.kind, o.subject) for o in onsets)
    findings = [_finding(case, o, patterns, sources[o.kind, o.subject] > 1) for o in onsets]
    findings.sort(key=lambda f: (-f.score, f.subject))
    yield from findings


def _finding(
    case: Case, o: Onset, patterns: dict[str, tuple[str, str]], name_source: bool
) -> Finding:
    s = o.shift
    what = describe(o, patterns)
    named = f"{what} in {o.file}" if name_source else what
    verb = "rose" if s.increased else "fell"
    spread = (o.latest - o.earliest).total_seconds() / 60
    title = (
        f"At {minute(o.at)} ({between(o.at, o.earliest, o.latest)}),"
        f" the {named} {verb}"
        f" from {s.before_rate:.2%} to {s.after_rate:.2%} ({s.after_hits:,} of {s.after_total:,} after)"
    )
    failure = o.kind in ("5xx", "errors", "latency") or (
        o.kind == "template" and _failure_template(*patterns.get(o.subject, ("", "")))
    )
    strength = evidence_strength(s.p_value)
    # How large: the rise's ratio and the records beyond the rate before (a thousand-fold
    # rise, a thousand records), both: ten records that rose a hundredfold are one user's
    # retries, a tenth more of a busy message is traffic.
    ratio = min(1.0, math.log10(max(s.ratio if math.isfinite(s.ratio) else 1e4, 1.0)) / 3)
    excess = s.after_hits - s.before_rate * s.after_total
    size = math.sqrt(ratio * min(1.0, math.log10(max(excess, 1.0)) / 3))
    score = 0.5 * strength + 0.3 * size + (0.2 if failure and s.increased else 0.0)
    severity: Severity = (
        ("high" if s.after_hits >= 10 else "medium")
        if failure and s.increased
        else "medium"
        if s.increased
        else "low"
    )
    return Finding(
        key=f"CHANGEPOINT_{o.kind.upper()}",
        analyzer="changepoints",
        subject=f"{o.file}:{o.subject}",
        severity=severity,
        score=round(score, 4),
        title=title,
        summary=(
            f"In {o.file}, the {what} changed at {minute(o.at)}: {s.before_hits:,} of"
            f" {s.before_total:,} before, {s.after_hits:,} of {s.after_total:,} after"
            f" (two-sided Fisher p = {s.p_value:.2g}, corrected for the splits tried;"
            f" {s.bursts} burst bucket(s) set aside). Splits within the likelihood bound span"
            f" {minute(o.earliest)} to {minute(o.latest)} ({spread:.0f} min)."
        ),
        window=Window(o.earliest, o.latest),
        entities={
            "series": o.kind,
            "subject": o.subject,
            "what": what,
            "file": o.file,
            "onset": minute(o.at),
        },
        stats={
            "onset_epoch": o.at.timestamp(),
            "earliest_epoch": o.earliest.timestamp(),
            "latest_epoch": o.latest.timestamp(),
            "before_hits": s.before_hits,
            "before_total": s.before_total,
            "after_hits": s.after_hits,
            "after_total": s.after_total,
            "before_rate": s.before_rate,
            "after_rate": s.after_rate,
            "p_value": s.p_value,
            "increased": s.increased,
            # records beyond what the rate before would give: the shift's size in records
            "excess": round(excess, 1),
            "failure": failure,
        },
        evidence=_evidence(case, o),
        next_steps=(
            "Check the changes (releases, deploys, config) just before the onset.",
            "Refute: if the same shift shows in an unrelated source at the same time, look for a shared cause (clock, collector).",
        ),
    )


def _failure_template(pattern: str, level: str) -> bool:
    """A template of error level, or one whose records carry no level and whose text says
    something failed (sshd's "Failed password for root from <*>" has no level to count)."""
    if level in ("error", "fatal", "critical"):
        return True
    return not level and says_failed(pattern)


def between(at: datetime, earliest: datetime, latest: datetime) -> str:
    """``between 13:58 and 14:12`` around ``at``: a time drops its date when the one printed
    just before it (``at``, then ``earliest``) is on the same day."""
    return f"between {_short(earliest, at)} and {_short(latest, earliest)}"


def _short(ts: datetime, ref: datetime) -> str:
    return f"{ts:%H:%M}" if ts.date() == ref.date() else minute(ts)


def _evidence(case: Case, o: Onset) -> tuple[Evidence, ...]:
    text = (
        "message"
        if o.table == "events"
        else "coalesce(method, '') || ' ' || coalesce(route, '') || ' -> ' || status"
    )
    rows = case.rows(
        f"SELECT file, line, ts, {text} FROM {o.table} WHERE {o.where} AND {o.hit} AND ts >= ?"
        " ORDER BY ts LIMIT 2",
        (o.earliest,),
    )
    return tuple(
        Evidence(
            file=str(f),
            lines=(int(n), int(n)) if n is not None else None,
            excerpt=f"{minute(ts)} {str(t)[:300]}",
        )
        for f, n, ts, t in rows
    )
