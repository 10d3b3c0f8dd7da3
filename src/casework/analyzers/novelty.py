"""Novelty: log messages that appear for the first time or vanish, and fields whose format changes.

A template is new when its stream was writing long before it appeared:
with ``n`` records before its first occurrence and a rate ``r`` after, the
chance of seeing none by luck is ``(1 - r)^n``. Vanishing is the mirror
image. A field's format is its shape: digits become ``9``, letter runs
``a``, quotes and punctuation stay, so ``13:05.123Z`` and ``13:05.1234567Z``
differ and a number that starts arriving as a string (``"42"``) does too.
A shape that appears late in a field that had another shape before, in
numbers no luck explains (Fisher exact), is a change of format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from casework.case import Case
from casework.contrast import fisher_greater
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window
from casework.formats.httpfields import duration_unit
from casework.levels import ERROR_LEVELS
from casework.shifts import STREAM_SQL
from casework.timeline import minute

MIN_COUNT = 5
MARGIN = 0.05
P_NEW = 1e-6
SAMPLE_EVENTS = 60_000
#: A stream of at most this many records has its new formats counted over all of them (one
#: pass per format found); above it, the counts are the sample's and say so.
EXACT_EVENTS = 2_000_000
PROBE_EVENTS = 3_000
MAX_SHAPES_PER_KEY = 40
MAX_FINDINGS = 12
#: New formats that begin this close together are one change.
TOGETHER = timedelta(minutes=2)
#: Fields or messages a grouped finding names in its title.
MAX_NAMED = 4
#: Templates whose records before and after are counted in one pass over their stream.
COUNTS_PER_PASS = 100
#: A bare number's integer part is one ``#`` whatever its length: a counter passing 999 or a
#: duration passing 10 s grows, it does not change format (its fraction's digits still count).
SHAPE_SQL = (
    "left(regexp_replace(regexp_replace(regexp_replace(CAST(value AS VARCHAR),"
    " '^(-?)[0-9]+([.][0-9]+)?$', '\\1#\\2'), '[0-9]', '9', 'g'), '[A-Za-z]+', 'a', 'g'), 48)"
)


@analyzer(key="novelty", needs=("events",))
def novelty(case: Case) -> Iterator[Finding]:
    """New and vanished log messages, and fields whose value format changed."""
    window = case.window
    if window is None:
        return
    span = (window.end - window.start).total_seconds()
    try:
        found = list(_templates(case, window, span)) + list(_formats(case, window, span))
    finally:
        for table in ("_nov_sample", "_nov_vals"):
            case.con.execute(f"DROP TABLE IF EXISTS {table}")
    found.sort(key=lambda f: (-f.score, f.subject))
    yield from found[:MAX_FINDINGS]


def _templates(case: Case, window: Window, span: float) -> Iterator[Finding]:
    rows = _first_last(case, span)
    patterns = dict(case.rows("SELECT template_id, pattern FROM templates"))
    found: list[_Message] = []
    for s, tid, n, first, last, lvl, before, after, during in rows:
        rate = min(n / max(during, 1), 0.999999)
        p_new, p_gone = (1 - rate) ** before, (1 - rate) ** after
        text = str(patterns.get(tid, tid))[:120]
        if p_new < P_NEW or (p_gone < P_NEW and n >= 4 * MIN_COUNT):
            new = p_new < P_NEW
            other, p = (before, p_new) if new else (after, p_gone)
            level = str(lvl or "")
            found.append(
                _Message(str(s), str(tid), text, int(n), first, last, level, new, int(other), p)
            )
    for group in _together(found):
        if len(group) == 1:
            yield _template_finding(case, group[0])
        else:
            yield _messages_finding(case, group)


@dataclass(frozen=True, slots=True)
class _Message:
    """A template that appeared (``new``) or vanished in its stream, with the records of the
    stream on the other side of it (``other``) and the chance of none there by luck."""

    stream: str
    tid: str
    text: str
    n: int
    start: datetime
    last: datetime
    level: str
    new: bool
    other: int
    p: float

    @property
    def first(self) -> datetime:
        """When it changed: its first record if new, its last if it vanished."""
        return self.start if self.new else self.last

    @property
    def group(self) -> tuple[str, ...]:
        return (self.stream, str(self.new))


def _first_last(case: Case, span: float) -> list[tuple[Any, ...]]:
    """(stream, template, count, first, last, level, records before, after, between) of the
    templates that start or stop well inside their stream's span.

    Counts per template and per stream are plain GROUP BYs; only those few
    templates get "records before the first / after the last occurrence",
    counted by time in one pass per stream (no sort of every record).
    """
    streams = {
        str(s): (int(n), f0, f1)
        for s, n, f0, f1 in case.rows(
            f"SELECT {STREAM_SQL} s, sum(n), min(first_ts), max(last_ts) FROM event_counts"
            " WHERE second IS NOT NULL GROUP BY s"
        )
    }
    late: dict[str, list[tuple[Any, ...]]] = {}
    for s, tid, n, first, last, lvl in case.rows(
        f"SELECT {STREAM_SQL} s, template_id, sum(n), min(first_ts), max(last_ts),"
        " arg_max(lower(level), n) FROM event_counts"
        " WHERE second IS NOT NULL AND template_id IS NOT NULL GROUP BY s, template_id"
        " HAVING sum(n) >= ? ORDER BY s, template_id",
        (MIN_COUNT,),
    ):
        _, f0, f1 = streams[str(s)]
        if max((first - f0).total_seconds(), (f1 - last).total_seconds()) > MARGIN * span:
            late.setdefault(str(s), []).append((tid, n, first, last, lvl))
    out = []
    for s, found in late.items():
        for at in range(0, len(found), COUNTS_PER_PASS):
            items = found[at : at + COUNTS_PER_PASS]
            counts = ", ".join(
                "count(*) FILTER (WHERE ts < ?), count(*) FILTER (WHERE ts > ?)" for _ in items
            )
            row = case.one(
                f"SELECT {counts} FROM events WHERE ts IS NOT NULL AND {STREAM_SQL} = ?",
                (*(t for it in items for t in (it[2], it[3])), s),
            )
            if row is None:
                continue
            total = streams[s][0]
            for i, (tid, n, first, last, lvl) in enumerate(items):
                before, after = int(row[2 * i]), int(row[2 * i + 1])
                out.append((s, tid, n, first, last, lvl, before, after, total - before - after))
    return out


def _template_finding(case: Case, m: _Message) -> Finding:
    stream, tid, text, n, first, last, level, new, other, p = (
        m.stream, m.tid, m.text, m.n, m.start, m.last, m.level, m.new, m.other, m.p
    )  # fmt: skip
    key = "NEW_TEMPLATE" if new else "VANISHED_TEMPLATE"
    error = level in ERROR_LEVELS
    if new:
        title = f'New log message since {minute(first)}: "{text}" ×{n:,} in {stream}, never in the {other:,} records before'
    else:
        title = f'Log message stopped at {minute(last)}: "{text}" ×{n:,} in {stream}, absent from the {other:,} records after'
    severity: Severity = (
        ("high" if error else "medium") if new else ("medium" if not error else "low")
    )
    return Finding(
        key=key,
        analyzer="novelty",
        subject=f"{stream}:{tid}",
        severity=severity,
        score=round(0.55 + (0.35 if new and error else 0.15 if new else 0.1), 4),
        title=title,
        summary=(
            f"{'Appeared' if new else 'Vanished'} in {stream}: at its own rate, {other:,} records without it"
            f" {'before' if new else 'after'} would happen by chance with probability {p:.1g}."
        ),
        window=Window(first, last),
        entities={"template": text, "template_id": tid, "file": stream, "level": level},
        stats={
            "count": n,
            "onset_epoch": (first if new else last).timestamp(),
            "p_value": p,
            "new": new,
            "other_records": other,
        },
        evidence=_evidence(case, f"template_id = '{_q(tid)}'", first if new else last),
        next_steps=(
            (
                "Find the change that introduced this message (release, config, upstream) just before it appeared.",
            )
            if new
            else (
                "Check whether the job or component that wrote this message stopped or lost its logging.",
            )
        ),
    )


def _messages_finding(case: Case, group: list[_Message]) -> Finding:
    """One finding for the messages that appeared (or vanished) together in one stream: led by
    those at error level, then the most frequent."""
    lead, *rest = sorted(group, key=lambda m: (m.level not in ERROR_LEVELS, -m.n, m.tid))
    new, stream, first = lead.new, lead.stream, group[0].first
    shown = [lead, *rest][:MAX_NAMED]
    named = ", ".join(f'"{m.text}" ×{m.n:,}' for m in shown)
    more = len(group) - len(shown)
    other = min(m.other for m in group)
    total = sum(m.n for m in group)
    title = (
        f"{len(group)} new log messages in {stream} since {minute(first)}, together: {named}"
        f"{f' and {more} more' if more else ''}; none in the {other:,} or more records before"
        if new
        else f"{len(group)} log messages stopped in {stream} at {minute(group[-1].first)},"
        f" together: {named}{f' and {more} more' if more else ''}; none in the {other:,} or"
        " more records after"
    )
    error = any(m.level in ERROR_LEVELS for m in group)
    finding = _template_finding(case, lead)
    return replace(
        finding,
        subject=f"{stream}:{','.join(sorted(m.tid for m in group))}",
        title=title,
        summary=(
            f"{len(group)} templates ({total:,} records) {'began' if new else 'ended'} between"
            f" {minute(first)} and {minute(group[-1].first)}, each within"
            f" {TOGETHER.total_seconds():.0f} s of the one before"
            f"{', some at error level' if error else ''}; the least likely by chance has"
            f" p = {max(m.p for m in group):.1g}. Messages that {'appear' if new else 'stop'}"
            f" together are one change: a {'start or restart' if new else 'stop'} of what writes"
            " them, a release, or a component switched "
            f"{'on' if new else 'off'}."
        ),
        window=Window(group[0].start, max(m.last for m in group)),
        stats={
            **finding.stats,
            "onset_epoch": first.timestamp(),
            "templates": len(group),
            "records": total,
        },
        next_steps=(
            f"Find what {'started' if new else 'stopped'} at {minute(first)} in {stream}: a"
            " restart or boot (its first messages say which), a release, or a configuration"
            " change.",
        ),
    )


def _formats(case: Case, window: Window, span: float) -> Iterator[Finding]:
    events = max(case.count("events"), 1)
    # Row by row: sampling whole vectors would pick runs of neighbouring (same-time) lines,
    # and "first seen in the sample" would then mean nothing. The sample is drawn over row ids
    # alone, then its rows are read: sampling the rows read every record's attrs first (10.5 s
    # against 3 s on 77M events, the same rows).
    rate = min(100.0, 100.0 * SAMPLE_EVENTS / events)
    case.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _nov_sample AS SELECT {STREAM_SQL} s, ts, attrs"
        " FROM events WHERE rowid IN"
        f" (SELECT rowid FROM events USING SAMPLE {rate:.4f}% (bernoulli, 11))"
        " AND ts IS NOT NULL AND attrs IS NOT NULL"
    )
    # Free-text and id fields have a shape per value; a small part of the sample rules them out.
    # A MAP of JSON values keeps the quotes of strings (so "42" and 42 differ).
    probe = min(100.0, 100.0 * PROBE_EVENTS / SAMPLE_EVENTS)
    keys = [
        str(r[0])
        for r in case.rows(
            "SELECT k FROM (SELECT unnest(map_keys(m)) k, unnest(map_values(m)) AS value FROM"
            " (SELECT json_transform(attrs, '\"MAP(VARCHAR, JSON)\"') m FROM _nov_sample"
            f" USING SAMPLE {probe:.4f}% (bernoulli, 11))) GROUP BY k"
            f" HAVING count(DISTINCT {SHAPE_SQL}) <= ? ORDER BY k",
            (MAX_SHAPES_PER_KEY // 2,),
        )
        if '"' not in str(r[0]) and "\\" not in str(r[0])
    ]
    if not keys:
        return
    # Only those keys, all in one parse per record (a list of paths); JSON text keeps the quotes.
    case.con.execute(
        "CREATE OR REPLACE TEMP TABLE _nov_vals AS SELECT * FROM (SELECT s, ts,"
        " unnest(?::VARCHAR[]) k, CAST(unnest(json_extract(attrs, ?::VARCHAR[])) AS VARCHAR) value"
        " FROM _nov_sample) WHERE value IS NOT NULL",
        [keys, [f'$."{k}"' for k in keys]],
    )
    # Shapes per distinct value: far fewer regular expressions than one per sampled value.
    rows = case.rows(
        f"WITH vals AS (SELECT s, k, value, count(*) n, min(ts) first, {SHAPE_SQL} shape"
        "  FROM _nov_vals GROUP BY s, k, value),"
        " per AS (SELECT s, k, shape, sum(n) n, min(first) first,"
        "  arg_min(left(value, 80), first) ex, count(*) distinct_values FROM vals GROUP BY ALL),"
        " keyed AS (SELECT s, k, min(first) k0, sum(n) total FROM vals GROUP BY s, k"
        "  HAVING count(DISTINCT shape) <= ?)"
        " SELECT per.s, per.k, per.shape, per.n, per.first, per.ex, keyed.total, per.distinct_values"
        " FROM per JOIN keyed USING (s, k) WHERE per.n >= ? AND epoch(per.first) - epoch(keyed.k0) > ?"
        " ORDER BY per.s, per.k, per.shape",
        (MAX_SHAPES_PER_KEY, MIN_COUNT, MARGIN * span),
    )
    counted = []
    found: list[_NewFormat] = []
    for s, k, shape, n, first, example, total, distinct in rows:
        if distinct == 1 and duration_unit(str(k)) is not None:
            # One duration from then on (elapsed_ms 10000 ×129) is a limit the failures ran
            # to, a timeout: a new value, not a new way of writing values.
            continue
        # Only the few late shapes get the count of their key's values before them.
        row = case.one(
            "SELECT count(*) FROM _nov_vals WHERE s = ? AND k = ? AND ts < ?", (s, k, first)
        )
        before = int(row[0]) if row else 0
        counted.append(
            (s, k, shape, int(n), first, example, before, int(total) - before, int(distinct))
        )
    streams = dict(case.rows(f"SELECT {STREAM_SQL} s, count(*) FROM events GROUP BY s"))
    for s, k, shape, n, first, example, before, after, distinct in counted:
        p = fisher_greater(int(n), int(after) - int(n), 0, int(before))
        if before < 20 or p >= P_NEW:
            continue
        prior = case.one(
            f"SELECT {SHAPE_SQL} shape FROM _nov_vals WHERE s = ? AND k = ? AND ts < ?"
            " GROUP BY shape ORDER BY count(*) DESC, shape LIMIT 1",
            (s, k, first),
        )
        old = prior[0] if prior else "?"
        if _magnitude(str(old), str(shape), distinct):
            continue
        if _hex_digits(str(old), str(example)) and n < HEX_TAKEOVER * after:
            # Hex ids whose digits happen to hold a letter, among others that do not: the
            # same way of writing them (ids that all turn hex from a moment on are new).
            continue
        sampled = int(streams.get(s, 0)) > EXACT_EVENTS
        if events > SAMPLE_EVENTS and not sampled:
            n, first, example, before = _exact(case, s, k, shape)
        found.append(
            _NewFormat(
                str(s), str(k), str(shape), str(old), (n, first, example, before), p, sampled
            )
        )
    for group in _together(found):
        if len(group) == 1:
            yield _format_finding(case, group[0], window)
        else:
            yield _formats_finding(case, group, window)


@dataclass(frozen=True, slots=True)
class _NewFormat:
    """A field's new shape in one stream: (count, first time, first value, values before)."""

    stream: str
    key: str
    shape: str
    old: str
    seen: tuple[int, datetime, str, int]
    p: float
    sampled: bool

    @property
    def first(self) -> datetime:
        return self.seen[1]

    @property
    def group(self) -> tuple[str, ...]:
        return ()


_Change = TypeVar("_Change", "_NewFormat", "_Message")


def _together(found: Sequence[_Change]) -> list[list[_Change]]:
    """Changes of one kind (``group``) that began within ``TOGETHER`` of the one before, as one
    group. A new client or job writes every field of its records its own way (its id, user,
    agent, paths), a release changes several fields at once, and a host that boots writes a
    score of messages never seen before. Seen one at a time, one such event filled the
    findings (16 for a batch job on a gateway's four logs, 12 for a node's boot)."""
    groups: dict[tuple[str, ...], list[list[_Change]]] = {}
    for f in sorted(found, key=lambda f: (f.first, str(f))):
        runs = groups.setdefault(f.group, [])
        if runs and f.first - runs[-1][-1].first <= TOGETHER:
            runs[-1].append(f)
        else:
            runs.append([f])
    return [run for runs in groups.values() for run in runs]


#: A whole number written as text, as SHAPE_SQL shows it ("9999").
_DIGITS = re.compile(r'"?9+"?')


#: Distinct values of a whole number's shorter shape that make it smaller numbers, not a way.
MANY_VALUES = 10


def _magnitude(old: str, new: str, distinct: int) -> bool:
    """A whole number written with another count of digits because it is larger or smaller,
    not written another way: a process id or a counter past 9999 (more digits), process ids
    after a reboot (fewer digits, many of them). One short value repeated ("26" where "2026"
    was written) is a new way of writing."""
    if not (_DIGITS.fullmatch(old) and _DIGITS.fullmatch(new)) or old[0] != new[0]:
        return False
    return len(new) > len(old) or (len(new) < len(old) and distinct >= MANY_VALUES)


#: A hex-looking new shape that took this share of the values after it is a new format.
HEX_TAKEOVER = 0.9
#: A run of hexadecimal digits, as ids and counters write them.
_HEX = re.compile(r"(?<![0-9a-z])[0-9a-f]{6,}(?![0-9a-z])")


def _hex_digits(old: str, example: str) -> bool:
    """A hexadecimal id or counter (``req-0000a00`` after ``req-0009f00``… or after a run of
    all-decimal ``req-0000999``) whose digits happen to include a letter: written the old way
    with its hex digits as digits, it has the old shape."""
    as_digits = _HEX.sub(lambda m: "9" * len(m.group()), example.lower())
    if as_digits == example.lower():
        return False
    return re.sub(r"[A-Za-z]+", "a", re.sub(r"[0-9]", "9", as_digits)) == old


def _values(stream: str, key: str) -> str:
    """A relation of (file, line, ts, message, value) for one key's values in one stream."""
    return (
        f"(SELECT file, line, ts, message, CAST(json_extract(attrs, '$.\"{_q(key)}\"') AS VARCHAR)"
        f" value FROM events WHERE {STREAM_SQL} = '{_q(stream)}' AND ts IS NOT NULL"
        " AND attrs IS NOT NULL)"
    )


def _exact(case: Case, stream: str, key: str, shape: str) -> tuple[int, datetime, str, int]:
    """Over every record of the stream, not the sample: the new shape's count, first time and
    first value, and the values of other shapes before it."""
    row = case.one(
        f"SELECT count(*), min(ts), arg_min(left(value, 80), ts) FROM {_values(stream, key)}"
        f" WHERE value IS NOT NULL AND {SHAPE_SQL} = ?",
        (shape,),
    )
    assert row is not None and row[1] is not None  # the sample drew some of them
    before = case.one(
        f"SELECT count(*) FROM {_values(stream, key)} WHERE value IS NOT NULL AND ts < ?",
        (row[1],),
    )
    return int(row[0]), row[1], str(row[2]), int(before[0]) if before else 0


def _format_finding(case: Case, f: _NewFormat, window: Window) -> Finding:
    stream, key, shape, old, p, sampled = f.stream, f.key, f.shape, f.old, f.p, f.sampled
    n, first, example, before = f.seen
    counted = f"×{n:,} in the sample" if sampled else f"×{n:,}"
    title = (
        f'Field "{key}" in {stream} has a new format since {minute(first)}: {shape} ({counted},'
        f" e.g. {example}); before, {before:,} values had other formats (mostly {old})"
    )
    return Finding(
        key="FIELD_FORMAT",
        analyzer="novelty",
        subject=f"{stream}:{key}:{shape}",
        severity="medium",
        score=0.7,
        title=title,
        summary=(
            f"A change of format is a change: {n:,} {'sampled ' if sampled else ''}values of"
            f" {key} since {minute(first)} have the shape {shape}, none of the {before:,} before"
            f" (Fisher p = {p:.1g}{', on a sample' if sampled else ''}). Parsers downstream may"
            " reject it."
        ),
        window=Window(first, window.end),
        entities={"field": key, "file": stream, "shape": shape, "previous_shape": old},
        stats={
            "count" if not sampled else "count_in_sample": n,
            "before": before,
            "onset_epoch": first.timestamp(),
            "p_value": p,
            "new": True,
        },
        evidence=_format_evidence(case, f),
        next_steps=(
            f"Check which producer writes {key} in the new format and since which release.",
            "Confirm by parsing one new-format value with the consumer's parser.",
        ),
    )


def _format_evidence(case: Case, f: _NewFormat) -> tuple[Evidence, ...]:
    """The first records of the stream whose field has the new shape, with its value."""
    where = f"value IS NOT NULL AND {SHAPE_SQL} = '{_q(f.shape)}'"
    return _evidence(case, where, f.first, _values(f.stream, f.key), f.key)


def _formats_finding(case: Case, group: list[_NewFormat], window: Window) -> Finding:
    """One finding for the fields whose new formats began together, in one file or several."""
    first = group[0].first
    by_key: dict[str, _NewFormat] = {}
    for f in sorted(group, key=lambda f: (-f.seen[0], f.first, f.stream)):
        by_key.setdefault(f.key, f)
    files = sorted({f.stream for f in group})
    largest = max(group, key=lambda f: (f.seen[0], -f.first.timestamp()))
    n, before = largest.seen[0], largest.seen[3]
    sampled = any(f.sampled for f in group)
    shown = list(by_key.values())[:MAX_NAMED]
    named = ", ".join(f"{f.key} = {f.seen[2]}" for f in shown)
    more = len(by_key) - len(shown)
    where = files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more file(s)"
    what = f'Field "{largest.key}"' if len(by_key) == 1 else f"{len(by_key)} fields"
    title = (
        f"{what} in {where} {'has a new format' if len(by_key) == 1 else 'have new formats'}"
        f" since {minute(first)}: {named}{f' and {more} more' if more else ''}; up to {n:,}"
        f" values{' in the sample' if sampled else ''} of a new format, where the {before:,}"
        f" values of {largest.key} before were {largest.old}"
    )
    return Finding(
        key="FIELD_FORMAT",
        analyzer="novelty",
        subject=f"{files[0]}:{','.join(by_key)}",
        severity="medium",
        score=0.7,
        title=title,
        summary=(
            f"{len(group)} new formats of {len(by_key)} fields began between {minute(first)}"
            f" and {minute(group[-1].first)}, each within {TOGETHER.total_seconds():.0f} s of"
            f" the one before, in {len(files)} file(s)"
            f" ({', '.join(files)}); each alone is unlikely by chance (the weakest Fisher p ="
            f" {max(f.p for f in group):.1g}). Fields changing together are one change: a new"
            " client or job writing its records its own way, or a release of their producer."
        ),
        window=Window(first, window.end),
        entities={
            "field": ", ".join(by_key),
            "file": ", ".join(files),
            "shape": largest.shape,
            "previous_shape": largest.old,
        },
        stats={
            "count" if not sampled else "count_in_sample": n,
            "before": before,
            "onset_epoch": first.timestamp(),
            "p_value": max(f.p for f in group),
            "new": True,
            "fields": len(by_key),
            "files": len(files),
        },
        evidence=tuple(
            e
            for f in [next(g for g in group if g.stream == file) for file in files[:3]]
            for e in _format_evidence(case, f)[:1]
        ),
        next_steps=(
            f"Find what began writing {', '.join(by_key)} at {minute(first)}: a new client or"
            " job (its records' ids and user agent say which) or a release of their producer.",
            "Confirm by parsing one new-format value with the consumer's parser.",
        ),
    )


def _evidence(
    case: Case, where: str, since: datetime, source: str = "events", field: str | None = None
) -> tuple[Evidence, ...]:
    """The first two records of ``source`` where ``where`` holds from ``since`` on (one is at
    ``since`` itself: an hour from it bounds the scan of a large stream); with ``field``, the
    excerpt shows its value (``source`` then has a ``value`` column)."""
    rows = case.rows(
        f"SELECT file, line, ts, message, {'value' if field else 'NULL'} FROM {source}"
        f" WHERE {where} AND ts >= ? AND ts < ? ORDER BY ts, line LIMIT 2",
        (since, since + timedelta(hours=1)),
    )
    return tuple(
        Evidence(
            file=str(f),
            lines=(int(n), int(n)) if n is not None else None,
            excerpt=f"{minute(ts)} {str(m)[:300]}"
            if field is None
            else f"{minute(ts)} {str(m)[:200]} ({field} = {str(v)[:100]})",
        )
        for f, n, ts, m, v in rows
    )


def _q(text: str) -> str:
    return text.replace("'", "''")
