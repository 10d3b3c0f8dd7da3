"""Failure cohort: which attribute values, thresholds and combinations the failing requests (or error records) share.

Failing requests (HTTP 5xx) are contrasted with the rest of the same source
on every attribute by the shared engine (:mod:`casework.contrast`), one
source at a time so an access log and the application log of the same
traffic are not mixed; the logs of peer instances (failing records with 80%
of their fields in common) are one source. Sources without requests contrast
error-level records with the others. The cohort states for whom it fails:
``route = POST /v1/refunds and account_created >= 2026-02-15``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from casework.case import Case
from casework.contrast import Split, contrast
from casework.contrast_tables import TableRows
from casework.contrast_terms import estimated
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Stat, Window, rate_text
from casework.levels import ERROR_SQL
from casework.shifts import STREAM_SQL
from casework.timeline import (
    RateChange,
    bucket_count,
    bucket_seconds,
    bucket_sql,
    evidence_strength,
    fall_phrase,
    fall_stats,
    fell,
    halves,
    minute,
    onset,
    rose,
)

MIN_FAILING = 8
MAX_SOURCES = 6
PER_SOURCE = 2
REQUEST_FAILURE = "status BETWEEN 500 AND 599"
EVENT_FAILURE = f"lower(level) IN {ERROR_SQL}"


@analyzer(key="cohort", needs=())
def cohort(case: Case) -> Iterator[Finding]:
    """Failure cohorts: the attribute values (and thresholds) failing records share."""
    found: list[Finding] = []
    request_files = {str(r[0]) for r in case.rows(f"SELECT DISTINCT {STREAM_SQL} FROM requests")}
    # One contrast per stream (or peers) and status code: a 500 and a 504 rarely share a cause.
    for files, code in _failure_groups(case):
        listed = ", ".join(f"'{_q(f)}'" for f in files)
        source = TableRows("requests", f"{STREAM_SQL} IN ({listed})")
        failing = f"status = {int(code)}"
        splits = contrast(
            case.con,
            source,
            failing,
            columns=("method", "route", "host", "client"),
            outcome=("status", "duration_ms", "bytes"),
            # Keys only error responses carry (an error text, a Retry-After) are symptoms.
            symptom_of="status >= 400",
        )
        found += [
            _finding(case, "requests", files, s, f"HTTP {int(code)}", failing)
            for s in splits[:PER_SOURCE]
        ]
    for (file,) in case.rows(
        f"SELECT {STREAM_SQL} f FROM events GROUP BY f"
        f" HAVING count(*) FILTER (WHERE {EVENT_FAILURE}) >= ? ORDER BY count(*) DESC LIMIT ?",
        (MIN_FAILING, MAX_SOURCES),
    ):
        if file in request_files:
            continue
        source = TableRows("events", f"{STREAM_SQL} = '{_q(file)}'")
        splits = contrast(
            case.con,
            source,
            EVENT_FAILURE,
            columns=("service", "logger"),
            outcome=("level", "template_id"),
            exclude=("message",),
            writers=("logger",),
        )
        found += [
            _finding(
                case,
                "events",
                (str(file),),
                s,
                "error records",
                EVENT_FAILURE,
                background=_background(case, str(file), s),
            )
            for s in splits[:PER_SOURCE]
        ]
    found = [f for f in found if f.stats.get("significant")]
    found.sort(key=lambda f: (-f.score, f.subject))
    yield from found


def _failure_groups(case: Case) -> list[tuple[tuple[str, ...], int]]:
    """(streams, status) groups worth a contrast; of two logs of the same traffic, the richer one.

    Instances of one service behind a balancer each write a log of the same fields: their
    failures of one status are one population (contrasted one log at a time, a cohort of 381
    failures read as four of about 95). An access log and the application's request log often
    record the same failures; the one whose records carry more attributes says more.
    """
    rows = case.rows(
        f"SELECT {STREAM_SQL} f, status, count(*) n,"
        " avg(json_array_length(json_keys(attrs))),"
        " list_sort(list_distinct(flatten(list(json_keys(attrs))))) FROM requests"
        f" WHERE {REQUEST_FAILURE} GROUP BY f, status HAVING count(*) >= ?"
        " ORDER BY n DESC, f",
        (MIN_FAILING,),
    )
    # Peers: the same status, and fields in common (a rollout may rename one or two).
    peers: list[tuple[int, set[str], list[tuple[str, int, float]]]] = []
    for f, code, n, keys, names in rows:
        fields = set(names or ())
        group = next((g for g in peers if g[0] == code and _alike(g[1], fields)), None)
        if group is None:
            peers.append((int(code), fields, [(str(f), int(n), float(keys or 0))]))
        else:
            group[1].update(fields)
            group[2].append((str(f), int(n), float(keys or 0)))
    groups = [
        (tuple(sorted(f for f, _, _ in members)), code, sum(n for _, n, _ in members), keys)
        for code, _, members in peers
        for keys in [max(k for _, _, k in members)]
    ]
    kept: list[tuple[tuple[str, ...], int, int, float]] = []
    for files, code, n, keys in sorted(groups, key=lambda r: (-r[3], r[0])):
        twin = any(c == code and abs(m - n) <= 0.1 * max(m, n) for _, c, m, _ in kept)
        if not twin:
            kept.append((files, code, n, keys))
    kept.sort(key=lambda r: (-r[2], r[0]))
    return [(f, c) for f, c, _, _ in kept[:MAX_SOURCES]]


#: Logs whose failing records share this part of their fields (Jaccard) are peers.
PEER_FIELDS = 0.8


def _alike(a: set[str], b: set[str]) -> bool:
    return bool(a | b) and len(a & b) / len(a | b) >= PEER_FIELDS


def _finding(
    case: Case,
    table: str,
    files: tuple[str, ...],
    s: Split,
    what: str,
    failing: str,
    background: _Background | None = None,
) -> Finding:
    """The finding of one cohort in ``files`` (a stream, or peers' streams); a ``background``
    one (steady, or an episode that ended) is low and said so."""
    file = ", ".join(files)
    since = next((t for t in s.terms if t.kind == "time" and t.op == ">="), None)
    until = next((t for t in s.terms if t.kind == "time" and t.op == "<"), None)
    who = [t for t in s.terms if t.kind != "time"]
    cohort_text = " and ".join(t.label for t in who)
    when = f"Since {since.value_text}, " if since else ""
    if until is not None:
        when = f"{'Between ' + since.value_text if since else 'Before'} and {until.value_text}, "
        when = when.replace("Before and", "Before")
    about = estimated(s.sample)
    title = (
        f"{when}{rate_text(s.rate)} of {table}{' where ' + cohort_text if who else ''} fail ({what}:"
        f" {about}{s.failing_in:,} of {about}{s.total_in:,}) vs {s.baseline_rate:.2%} elsewhere;"
        f" {s.coverage:.0%} of all failures" + (background.suffix() if background else "")
    )
    symptoms = [a.name for a in s.attributes if a.kind == "symptom"]
    summary = (
        f"In {file}, {about}{s.failing_in:,} of {s.failing_all:,} failing {table} ({s.coverage:.0%}) fall"
        f" in the cohort {s.describe()}, where the failure rate is {s.rate:.1%} against"
        f" {s.baseline_rate:.2%} outside it (lift {s.lift:.1f}, one-sided Fisher p = {s.p_value:.2g},"
        " corrected for the candidates tested)."
        + (f" Fields present only on failures: {', '.join(symptoms[:4])}." if symptoms else "")
        + (
            f" The counts are estimated from a weighted sample of {s.sample:,} of the"
            f" {s.total_all:,} {table}."
            if s.sample
            else ""
        )
        + f" It is a correlation: confirm by {_compare[table]}."
        + (background.sentence() if background else "")
        + (
            " Its window is time alone, and closed inside the evidence: a past episode, which"
            " says nothing of whom the failures hit."
            if until is not None and not who
            else ""
        )
    )
    stats: dict[str, Stat] = {
        "failing": s.failing_in,
        "total": s.total_in,
        "failing_all": s.failing_all,
        "rate": s.rate,
        "baseline_rate": s.baseline_rate,
        "lift": s.lift,
        "coverage": s.coverage,
        "p_value": s.p_value,
        "significant": s.significant,
        "terms": len(s.terms),
    }
    if s.sample:  # the rows the counts were estimated from; exact counts carry no sample
        stats["sample"] = s.sample
    recent = None
    if since is not None and since.threshold is not None:
        stats.update(since_epoch=since.threshold, since_low=since.lo, since_high=since.hi)
        recent = _coverage_since(case, table, files, s, failing, since.threshold)
        stats["coverage_since"] = recent
    cut = next((t for t in who if t.threshold is not None), None)
    if cut is not None:
        # The data only say the cut lies between the last value on one side and the first on the other.
        stats.update(cut_attr=cut.attr, cut_low=cut.lo, cut_high=cut.hi)
    if background:
        stats.update(
            steady=not background.fell,
            first_half=background.half.before_hits,
            second_half=background.half.after_hits,
            **background.fall,
        )
        if background.last is not None:
            stats["ended"] = minute(background.last)
    entities = {
        t.attr: (t.value_text if t.op in ("=", "in") else f"{t.op} {t.value_text}") for t in s.terms
    }
    entities["file"] = file
    entities["failure"] = what
    # As for a steady error signature, a background cohort's contrast is no evidence of anything new.
    strength = 0.0 if background else evidence_strength(s.p_value)
    score = 0.45 * strength + 0.3 * math.sqrt(min(1.0, s.rate)) + 0.25 * s.coverage
    return Finding(
        key="FAILURE_COHORT",
        analyzer="cohort",
        subject=f"{file}:{what}:{s.describe()}",
        severity="low" if background else _severity(s, recent),
        score=round(score, 4),
        title=title,
        summary=summary,
        window=_window(case, table, files, s, failing),
        entities=entities,
        stats=stats,
        evidence=_evidence(case, table, files, s, failing),
        next_steps=(
            f"Confirm by {_compare[table]} ({s.describe()}).",
            "Look for what these records have in common upstream (a data migration, a new client, a flag).",
            "Refute: if failures outside the cohort rise at the same time, the cohort is a symptom.",
        ),
    )


#: How to check a cohort, per table: a request can be replayed, a log record only read.
_compare = {
    "requests": "replaying a failing request of the cohort and one just outside it",
    "events": "reading a failing record of the cohort beside one just outside it, in their files",
}


@dataclass(frozen=True, slots=True)
class _Background:
    """An error-record cohort whose failures did not rise: at one rate all along, or fewer
    later (``fall``: ``timeline.fall_stats``), maybe none at all after ``last`` (its last
    failure, when they stopped); the halves' counts and the message most of them are."""

    half: RateChange
    common: tuple[str, int] | None
    fall: dict[str, float | str | None] = field(default_factory=dict)
    last: datetime | None = None

    @property
    def fell(self) -> bool:
        return bool(self.fall)

    def suffix(self) -> str:
        if self.last is not None:
            return f"; none after {minute(self.last)}"
        if not self.fell:
            return "; steady over the window"
        at = self.fall["fell_at"]
        return f"; fewer after {at}" if at else "; fewer in the window's second half"

    def sentence(self) -> str:
        common = (
            f', most often "{self.common[0][:160]}" ({self.common[1]:,})' if self.common else ""
        )
        counts = (
            f"{self.half.before_hits:,} in the first half of the window,"
            f" {self.half.after_hits:,} in the second"
        )
        if self.last is not None:
            return (
                f" Its failures stopped ({counts}), the last at {minute(self.last)}{common}:"
                " a past episode, not what fails at the end of the evidence."
            )
        if self.fell:
            return (
                f" Its failures fell within the window ({fall_phrase(self.fall, 'its records')})"
                f"{common}: an episode that eased, not a new failure."
            )
        return (
            f" Its failures come at the same rate from start to end ({counts}){common}:"
            " a background error of this component, not a new failure."
        )


def _background(case: Case, file: str, s: Split) -> _Background | None:
    """For an error-record cohort with no time term: its failures' series when their rate
    does not rise across the stream's window, else None.

    A job that writes only when it fails (logrotate's "exited abnormally", every night)
    makes a cohort where 100% fail; so does a burst of errors while a cluster starts and
    its peers are not up yet. Each restates a background error or a past episode, and says
    nothing of whom a new failure hits.
    """
    if any(t.kind == "time" for t in s.terms):
        return None
    span = case.one(
        f"SELECT min(second), max(second) FROM event_counts WHERE {STREAM_SQL} = ?", (file,)
    )
    if not span or span[0] is None:
        return None
    window = Window(span[0], span[1])
    width = bucket_seconds(window)
    n = bucket_count(window, width)
    hits, totals = [0] * n, [0] * n
    for b, c in case.rows(
        f"SELECT {bucket_sql('second', window, width)} b, sum(n) FROM event_counts"
        f" WHERE {STREAM_SQL} = ? GROUP BY b",
        (file,),
    ):
        totals[int(b)] = int(c)
    failures = f"{STREAM_SQL} = ? AND ({s.where}) AND ({EVENT_FAILURE})"
    for b, c in case.rows(
        f"SELECT {bucket_sql('ts', window, width)} b, count(*) FROM events WHERE {failures}"
        " GROUP BY b",
        (file,),
    ):
        if 0 <= int(b) < n:
            hits[int(b)] = int(c)
    half, change = halves(hits, totals), onset(hits, totals)
    if rose(half) or rose(change):
        return None
    fall = fall_stats(half, change, window, width)
    last = None
    # Stopped: none at all after a split where the rate fell.
    if fall and any(c is not None and c.after_hits == 0 and fell(c) for c in (half, change)):
        found = case.one(f"SELECT max(ts) FROM events WHERE {failures}", (file,))
        last = found[0] if found and found[0] is not None else None
    top = case.one(
        "SELECT t.pattern, c.n FROM (SELECT template_id, count(*) n FROM events"
        f" WHERE {failures} GROUP BY template_id)"
        " c JOIN templates t USING (template_id) ORDER BY c.n DESC, t.pattern LIMIT 1",
        (file,),
    )
    return _Background(half, (str(top[0]), int(top[1])) if top else None, fall, last)


def _coverage_since(
    case: Case, table: str, files: tuple[str, ...], s: Split, failing: str, since: float
) -> float | None:
    """The cohort's share of the stream's failures from its onset on.

    Unrelated errors before the onset (a daily burst of timeouts) dilute the
    cohort's share of all failures; from its onset on, it is what fails.
    """
    row = case.one(
        f"SELECT count(*) FILTER (WHERE {s.where}), count(*) FROM {table}"
        f" WHERE list_contains(?, {STREAM_SQL}) AND ({failing}) AND epoch(ts) >= ?",
        (list(files), since),
    )
    return int(row[0]) / int(row[1]) if row and row[1] else None


def _severity(s: Split, coverage_since: float | None = None) -> Severity:
    # A window of time where everything fails is an outage the change points already state;
    # a cohort says for whom, and only then is it the lead hypothesis.
    whom = any(t.kind != "time" for t in s.terms)
    # One that also ended inside the evidence (a closed time window) is a past episode.
    ended = any(t.kind == "time" and t.op == "<" for t in s.terms)
    if ended and not whom:
        return "low"
    if (
        whom
        and not ended
        and s.significant
        and s.rate >= 0.2
        and s.failing_in >= 10
        and max(s.coverage, coverage_since or 0.0) >= 0.3
    ):
        return "high"
    return "medium" if s.significant and s.lift >= 3 else "low"


def _window(
    case: Case, table: str, files: tuple[str, ...], s: Split, failing: str
) -> Window | None:
    row = case.one(
        f"SELECT min(ts), max(ts) FROM {table} WHERE list_contains(?, {STREAM_SQL})"
        f" AND ({s.where}) AND ({failing})",
        (list(files),),
    )
    return Window(row[0], row[1]) if row and row[0] is not None else None


def _evidence(
    case: Case, table: str, files: tuple[str, ...], s: Split, failing: str
) -> tuple[Evidence, ...]:
    cols = (
        "coalesce(method, '') || ' ' || coalesce(route, url, '') || ' -> ' || status"
        if table == "requests"
        else "message"
    )
    rows = case.rows(
        f"SELECT file, line, ts, {cols}, attrs FROM {table} WHERE list_contains(?, {STREAM_SQL})"
        f" AND ({s.where}) AND ({failing}) ORDER BY ts LIMIT 3",
        (list(files),),
    )
    keys = [t.key for t in s.terms if t.key and not t.key.startswith(("\x01", "\x02"))]
    out = []
    for path, line, ts, text, attrs in rows:
        extra = ""
        if keys and attrs:
            values = orjson.loads(attrs)
            extra = " " + " ".join(f"{k}={values.get(k)}" for k in keys if k in values)
        lines = (int(line), int(line)) if line is not None else None
        out.append(
            Evidence(file=str(path), lines=lines, excerpt=f"{minute(ts)} {text}{extra}"[:500])
        )
    return tuple(out)


def _q(text: str) -> str:
    return str(text).replace("'", "''")
