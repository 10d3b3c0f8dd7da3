"""Change points: when the failure rate, a template's rate or a route's latency shifted, with the time's uncertainty."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

from casework.analyzers.quiet_failures import says_failed
from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window
from casework.shifts import Onset, describe, detect, template_patterns
from casework.timeline import evidence_strength, minute

MAX_FINDINGS = 20
#: A template's records from its onset that one HTTP status must hold to be named.
MIX_SHARE = 0.8
#: What a rise's records are like is read from this long after its onset.
MIX_AFTER = timedelta(minutes=30)


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
        f" from {s.before_rate:.2%} to {s.after_rate:.2%} ({s.after_hits:,} of {s.after_total:,} after"
        f"{_detail(case, o) if s.increased else ''})"
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


def _detail(case: Case, o: Onset) -> str:
    """What the records of a rise are, beyond their count: a template's HTTP status, a slow
    route's durations."""
    if o.kind == "template":
        return _status_mix(case, o)
    if o.kind == "latency":
        return _durations(case, o)
    return ""


def _durations(case: Case, o: Onset) -> str:
    """The median duration of the slow requests in ``MIX_AFTER`` from the onset, and of all the
    route's requests before it (a pool that times out after 30 s makes its slow requests 30 s)."""
    row = case.one(
        f"SELECT median(duration_ms) FILTER (WHERE ({o.hit}) AND ts >= ? AND ts < ?),"
        f" median(duration_ms) FILTER (WHERE ts < ?) FROM {o.table} WHERE ({o.where})"
        " AND ts IS NOT NULL",
        [o.at, o.at + MIX_AFTER, o.at],
    )
    if row is None or row[0] is None:
        return ""
    minutes = int(MIX_AFTER.total_seconds() // 60)
    text = f"; the slow ones' median {row[0]:,.0f} ms in the first {minutes} minutes"
    return text + (f", all requests' {row[1]:,.0f} ms before" if row[1] is not None else "")


def _status_mix(case: Case, o: Onset) -> str:
    """For a template whose records carry more than one HTTP status: the status most of its
    records in ``MIX_AFTER`` from the onset have (what began then, before anything later joins
    it), when it is ``MIX_SHARE`` of them, with its share before. A gateway's "request rejected"
    is a 401 on one box and a partner's 429 on the others."""
    if o.kind != "template":
        return ""
    rows = case.rows(
        "SELECT json_extract_string(attrs, '$.\"http.status\"') s, count(*) FILTER (WHERE ts < ?),"
        f" count(*) FILTER (WHERE ts >= ? AND ts < ?) FROM {o.table} WHERE ({o.where}) AND"
        f" ({o.hit}) AND ts IS NOT NULL GROUP BY s",
        [o.at, o.at, o.at + MIX_AFTER],
    )
    coded = [(str(code), before, after) for code, before, after in rows if code]
    before_all, after_all = sum(r[1] for r in rows), sum(r[2] for r in rows)
    if len(coded) < 2 or not after_all:
        return ""
    code, before, after = max(coded, key=lambda r: (r[2], r[0]))
    if after < MIX_SHARE * after_all:
        return ""
    was = f"{before / before_all:.0%} before" if before_all else "none before"
    minutes = int(MIX_AFTER.total_seconds() // 60)
    return f"; {after / after_all:.0%} HTTP {code} in the first {minutes} minutes, {was}"


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
