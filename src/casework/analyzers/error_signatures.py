"""Error and warning signatures: which error/warn messages occur, how often, and since when.

Records at error or warning level are grouped by their mined template when the
miner set one, otherwise by the first line of the message with variable parts
(numbers, hex, UUIDs, secret placeholders) masked. Each group is counted per
time bucket against all records of its files, over the time those files cover
(files close in time form one group), and its share in the first half of that
window is tested against the second half and at its best change point, so an
error that was always there ranks low and one that started mid-window ranks high.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window, clip
from casework.levels import ERROR_LEVELS, WARN_LEVELS
from casework.signature_sql import normalized_sql
from casework.timegroups import time_groups, window_table
from casework.timeline import (
    FELL_MEANING,
    bucket_count,
    bucket_index_sql,
    bucket_seconds,
    bucket_start,
    change_before,
    evidence_strength,
    fall_phrase,
    fall_stats,
    halves,
    label_seconds,
    minute,
    onset,
    relation,
    rose,
)

#: Signatures examined (most frequent first) and findings kept (best first).
MAX_SIGNATURES = 200
MAX_FINDINGS = 25
EVIDENCE_PER_SIGNATURE = 3
EXCERPT_LINES = 6
# A Java stack frame ("at com.example.Foo.bar(Foo.java:12)") or a Python traceback start.
_FRAME = re.compile(r"\s+at [\w$.<>/]+\(|\s+Traceback \(most recent call last\)")


@dataclass(frozen=True, slots=True)
class _Signature:
    klass: str
    sig: str
    template_id: str | None
    count: int
    first: datetime | None
    last: datetime | None
    files: int
    #: The file it occurs in, when it is one.
    file: str | None


@analyzer(key="error_signatures", needs=("events",))
def error_signatures(case: Case) -> Iterator[Finding]:
    """Error and warning signatures counted over time: count, share, first/last seen, peak."""
    # A signature's share is of the records of the files it occurs in (an access log's
    # 2,000 lines beside a service log's 2,000 do not halve the service log's error rate).
    per_file: dict[str, int] = {}
    spans: dict[str, Window] = {}
    for f, n, first, last in case.rows(
        "SELECT file, sum(n), min(first_ts), max(last_ts) FROM event_counts GROUP BY file"
    ):
        per_file[str(f)] = int(n)
        if first is not None and last is not None:
            spans[str(f)] = Window(first, last)
    levels = ", ".join(f"'{lv}'" for lv in ERROR_LEVELS + WARN_LEVELS)
    errors = ", ".join(f"'{lv}'" for lv in ERROR_LEVELS)
    case.con.execute(
        "CREATE OR REPLACE TEMP TABLE _sig_events AS SELECT file, line, end_line, ts, message,"
        f" CASE WHEN lower(level) IN ({errors}) THEN 'error' ELSE 'warn' END AS klass,"
        f" template_id, coalesce(template_id, {normalized_sql('message')}) AS sig"
        f" FROM events WHERE lower(level) IN ({levels})"
    )
    rows = case.rows(
        "SELECT klass, sig, any_value(template_id), count(*), min(ts), max(ts),"
        " list(DISTINCT file) FROM _sig_events GROUP BY klass, sig"
        " ORDER BY count(*) DESC, klass, sig LIMIT ?",
        (MAX_SIGNATURES,),
    )
    sigs = [
        _Signature(
            r[0], r[1], r[2], r[3], r[4], r[5], len(r[6]), str(r[6][0]) if len(r[6]) == 1 else None
        )
        for r in rows
    ]
    scopes = [sum(per_file.get(str(f), 0) for f in row[6]) for row in rows]
    if not sigs:
        return
    patterns = _patterns(case, [s.template_id for s in sigs if s.template_id])
    # Each signature is counted over the time its files' group covers, so a month-old log
    # or a capture from years before does not widen the buckets of today's errors.
    groups = time_groups(spans, [[str(f) for f in row[6]] for row in rows])
    series = _series(case, groups) if groups else {}
    made = []
    for s, total, row in zip(sigs, scopes, rows, strict=True):
        span = next((groups[str(f)] for f in row[6] if str(f) in groups), None)
        hits, totals = series.get((s.klass, s.sig), ([], []))
        made.append((_finding(case, s, max(total, s.count), patterns, hits, totals, span), s))
    made.sort(key=lambda x: (-x[0].score, x[0].subject))
    for f, s in made[:MAX_FINDINGS]:
        yield replace(f, evidence=_evidence(case, s))


def _patterns(case: Case, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = case.rows(
        "SELECT template_id, pattern FROM templates WHERE template_id IN (SELECT unnest(?))",
        (ids,),
    )
    return {str(r[0]): str(r[1]) for r in rows}


def _series(
    case: Case, groups: dict[str, Window]
) -> dict[tuple[str, str], tuple[list[int], list[int]]]:
    """Per signature: its counts per bucket and all records per bucket of the files it occurs in.

    Buckets follow the window of the signature's file group (``time_groups``), counted for
    every group in one pass per table. The denominator is limited to the signature's files
    so that a log which starts late in the window (one service's file covers only the last
    hours) does not make its steady messages look new.
    """
    widths = window_table(case.con, "_sig_groups", groups)
    shape = {w: (width, bucket_count(w, width)) for w, width in widths.items()}
    per_file: dict[str, list[int]] = {}
    for file, b, c in case.rows(
        f"SELECT t.file, {bucket_index_sql('t.second', 'g.origin', 'g.width')} b, sum(t.n)"
        " FROM event_counts t JOIN _sig_groups g USING (file)"
        " WHERE t.second IS NOT NULL GROUP BY t.file, b"
    ):
        n = shape[groups[str(file)]][1]
        if 0 <= b < n:
            per_file.setdefault(str(file), [0] * n)[b] = int(c)
    hits: dict[tuple[str, str], list[int]] = {}
    files: dict[tuple[str, str], set[str]] = {}
    bucket = bucket_index_sql("t.ts", "g.origin", "g.width")  # each file's own window
    for klass, sig, file, b, c in case.rows(
        f"SELECT t.klass, t.sig, t.file, {bucket} b, count(*)"
        " FROM _sig_events t JOIN _sig_groups g USING (file)"
        " WHERE t.ts IS NOT NULL GROUP BY t.klass, t.sig, t.file, b"
    ):
        key = (str(klass), str(sig))
        files.setdefault(key, set()).add(str(file))
        n = shape[groups[str(file)]][1]
        if 0 <= b < n:
            hits.setdefault(key, [0] * n)[b] += int(c)
    case.con.execute("DROP TABLE _sig_groups")
    out: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    for key, names in files.items():
        n = shape[groups[next(iter(names))]][1]
        totals = [sum(col) for col in zip(*(per_file.get(f, [0] * n) for f in names), strict=True)]
        out[key] = (hits.get(key, [0] * n), totals)
    return out


def _evidence(case: Case, s: _Signature) -> tuple[Evidence, ...]:
    rows = case.rows(
        "SELECT file, line, coalesce(end_line, line), message FROM _sig_events"
        " WHERE klass = ? AND sig = ? ORDER BY ts NULLS LAST, file, line LIMIT ?",
        (s.klass, s.sig, EVIDENCE_PER_SIGNATURE),
    )
    out = []
    for file, line, end, message in rows:
        excerpt = "\n".join(str(message).splitlines()[:EXCERPT_LINES])
        lines = (int(line), int(end)) if line is not None else None
        out.append(Evidence(file=str(file), lines=lines, excerpt=excerpt[:1200]))
    return tuple(out)


def _finding(
    case: Case,
    s: _Signature,
    total: int,
    patterns: dict[str, str],
    hits: list[int],
    totals: list[int],
    window: Window | None,
) -> Finding:
    text = patterns.get(s.template_id or "", s.sig)
    width = bucket_seconds(window)
    half = halves(hits, totals) if totals else None
    change = onset(hits, totals) if totals else None
    new = rose(half) or rose(change)
    fall = {} if new else fall_stats(half, change, window, width)
    fewer = bool(fall)
    p = min(half.p_value if half else 1.0, change.p_value if change else 1.0)
    peak = max(hits) if hits else s.count
    strength = evidence_strength(p) if new else 0.0
    volume = min(1.0, math.log10(s.count + 1) / 3.0)
    weight = 1.0 if s.klass == "error" else 0.6
    # Capped below 1: a signature has no failure rate to show how much traffic it
    # hurts, so a route finding with the same evidence ranks above it.
    score = weight * (0.5 * strength + 0.3 * volume)
    severity = _severity(s, new)
    stats: dict[str, int | float | str | bool | None] = {
        "count": s.count,
        "share": s.count / total,
        "files": s.files,
        "peak_per_bucket": peak,
        "bucket_seconds": width,
        "first_half": half.before_hits if half else None,
        "second_half": half.after_hits if half else None,
        "p_halves": half.p_value if half else None,
        "new": new,
        "fell": fewer,
        **fall,
    }
    since = ""
    if new and rose(change) and window:
        onset_ts = bucket_start(window, width, change.split)
        stats.update(onset=minute(onset_ts), onset_epoch=onset_ts.timestamp(),
                     before=change.before_hits, after=change.after_hits)  # fmt: skip
        stats["p_onset"] = change.p_value
        near = change_before(case, onset_ts, width)
        after = ""
        if near is not None:
            stats.update(change=near[1], change_at=minute(near[0]))
            after = f", {relation(onset_ts, near, width)}"
        since = (
            f" since {minute(onset_ts)}{after} ({change.before_hits} before,"
            f" {change.after_hits} after)"
        )
    label = "ERROR" if s.klass == "error" else "WARN"
    trend = ""
    if fewer:
        trend = (
            f", fell within the window ({fall_phrase(stats, 'records in its files')};"
            f" last {minute(s.last)})"
        )
    elif not new:
        trend = f", steady over the window ({s.count / total:.1%} of records in its files)"
    title = (
        f'{label} "{_short(text)}" ×{s.count:,}{since}{trend};'
        f" peak {peak} per {label_seconds(width)}"
    )
    summary = _summary(s, label, new, fewer, p, total, width, peak)
    return Finding(
        key=f"{label}_SIGNATURE",
        analyzer="error_signatures",
        subject=f"{s.klass}:{s.sig}",
        severity=severity,
        score=round(score, 4),
        title=title,
        summary=summary,
        window=Window(s.first, s.last) if s.first and s.last else None,
        entities={"signature": text, "level": s.klass}
        | ({"template_id": s.template_id} if s.template_id else {})
        | ({"file": s.file} if s.file else {}),
        stats=stats,
        next_steps=_next_steps(new),
    )


def _severity(s: _Signature, new: bool) -> Severity:
    if s.klass == "error":
        return ("high" if s.count >= 10 else "medium") if new else "low"
    return "medium" if new else "info"


def _summary(
    s: _Signature, label: str, new: bool, fewer: bool, p: float, total: int, width: int, peak: int
) -> str:
    seen = (
        f"first seen {minute(s.first)}, last seen {minute(s.last)}" if s.first else "no timestamps"
    )
    if new:
        trend = f"Its share of records rose within the window (one-sided Fisher p = {p:.2g})."
    elif fewer:
        trend = f"Its share of records fell within the window ({FELL_MEANING})."
    else:
        trend = "Its share of records did not rise within the window: likely background."
    return (
        f"{s.count:,} {label} records ({s.count / total:.2%} of {total:,}) in {s.files} file(s), "
        f"{seen}, at most {peak} per {label_seconds(width)} bucket. {trend} "
        "Confirm by checking whether the affected requests or jobs coincide with these records."
    )


def _next_steps(new: bool) -> tuple[str, ...]:
    if new:
        return (
            "Compare the onset with the changes table (releases, deploys, config).",
            "Open the first evidence lines and follow the request or job they belong to.",
        )
    return ("Check whether this signature also occurs in a healthy period before dismissing it.",)


def _short(text: str, limit: int = 160) -> str:
    """The signature for a title: stack frames cut off (they add nothing there), then length."""
    frame = _FRAME.search(text)
    if frame:
        text = text[: frame.start()].rstrip()
    return clip(text, limit)
