"""Time buckets and rate-change tests shared by the analyzers and the charts.

One bucket width per window (so counts from different analyzers and the
charts line up), chosen from a list of round widths so that a window holds
between roughly 60 and 200 buckets. Rate changes are tested two ways: the
first against the second half of the window (one unbiased Fisher exact test),
and at the best single change point of a binomial series (the onset, with a
Bonferroni correction for the number of candidate splits).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeGuard

from scipy.stats import fisher_exact

from casework.case import Case
from casework.findings import Window

#: Round bucket widths in seconds, smallest first.
WIDTHS: tuple[int, ...] = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400, 172800, 604800,
)  # fmt: skip
MAX_BUCKETS = 200


def bucket_seconds(window: Window | None) -> int:
    """The smallest round width that cuts ``window`` into at most ``MAX_BUCKETS`` buckets."""
    if window is None:
        return 60
    span = max((window.end - window.start).total_seconds(), 1.0)
    for width in WIDTHS:
        if span / width <= MAX_BUCKETS:
            return width
    return WIDTHS[-1]


def origin(window: Window) -> datetime:
    """Where a window's first bucket starts: its start on the whole second, so a bucket is a
    run of whole seconds and counts kept per second (the ``event_counts`` aggregate) add up to
    exactly the counts of the records."""
    return window.start.replace(microsecond=0)


def bucket_count(window: Window, width: int) -> int:
    """How many buckets of ``width`` seconds cover ``window`` (both ends included)."""
    return int((window.end - origin(window)).total_seconds() // width) + 1


def bucket_sql(column: str, window: Window, width: int) -> str:
    """A SQL expression giving the 0-based bucket index of ``column`` for ``window``.

    The origin is inlined as epoch microseconds, so the expression needs no
    parameters and works inside GROUP BY.
    """
    return bucket_index_sql(column, str(origin_us(window)), str(width * 1_000_000))


def origin_us(window: Window) -> int:
    """``origin`` in epoch microseconds, for SQL."""
    return int(origin(window).timestamp()) * 1_000_000


def bucket_index_sql(column: str, origin_us: str, width_us: str) -> str:
    """The bucket index of ``column`` given SQL for the origin and width in microseconds
    (constants, or columns when each row's file has its own window)."""
    return f"CAST(floor((epoch_us({column}) - {origin_us}) / {width_us}) AS BIGINT)"


def bucket_start(window: Window, width: int, index: int) -> datetime:
    return origin(window) + timedelta(seconds=width * index)


def label_seconds(seconds: int) -> str:
    """``90`` -> ``1m30s``; ``3600`` -> ``1h``: bucket widths in titles."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


@dataclass(frozen=True, slots=True)
class RateChange:
    """Two sides of a binomial series: hits out of totals before and after a split."""

    split: int
    before_hits: int
    before_total: int
    after_hits: int
    after_total: int
    p_value: float
    #: what ``p_value`` was multiplied by (the candidate splits looked at)
    corrections: int = 1

    @property
    def before_rate(self) -> float:
        return self.before_hits / self.before_total if self.before_total else 0.0

    @property
    def after_rate(self) -> float:
        return self.after_hits / self.after_total if self.after_total else 0.0

    @property
    def increased(self) -> bool:
        return self.after_rate > self.before_rate


def fisher_increase(before: tuple[int, int], after: tuple[int, int]) -> float:
    """One-sided Fisher exact p-value that the hit rate after is higher than before.

    Each side is ``(hits, total)``. An empty side carries no evidence: p = 1.
    """
    (bh, bt), (ah, at) = before, after
    if bt <= 0 or at <= 0:
        return 1.0
    table = [[ah, at - ah], [bh, bt - bh]]
    result = fisher_exact(table, alternative="greater")
    return float(result.pvalue)


#: The significance level a rate change must reach to count as a rise.
ALPHA = 0.01


def rose(change: RateChange | None) -> TypeGuard[RateChange]:
    """The rate went up after the split, significantly (a new failure, not a steady one)."""
    return change is not None and change.increased and change.p_value < ALPHA


#: A fall counts when the rate after is at most this share of the rate before: with millions
#: of records, a 1% dip is significant and still means "steady".
FELL_TO = 0.5


def fell(change: RateChange | None) -> TypeGuard[RateChange]:
    """The rate went down after the split, significantly and at least by half (an episode that
    ended or eased)."""
    if change is None or change.after_rate > FELL_TO * change.before_rate:
        return False
    before, after = (
        (change.before_hits, change.before_total),
        (change.after_hits, change.after_total),
    )
    return fisher_increase(after, before) * change.corrections < ALPHA


#: What a rate that ``fell`` means, for a finding's summary.
FELL_MEANING = (
    "one-sided Fisher p < 0.01, corrected for the splits tried: an episode that ended or"
    " eased, not what fails at the end of the evidence"
)


def fall_stats(
    half: RateChange | None, change: RateChange | None, window: Window | None, width: int
) -> dict[str, float | str | None]:
    """Where a rate fell and from what to what, for a finding's stats: the halves of the
    window when they show the fall (``fell_at`` None), else the two sides of the change
    point; empty when neither fell. A title must name the split that fell: the halves of a
    series that fell at its change point can hold more hits in the second half."""
    if fell(half):
        return {"fell_from": half.before_rate, "fell_to": half.after_rate, "fell_at": None}
    if fell(change) and window is not None:
        at = minute(bucket_start(window, width, change.split))
        return {"fell_from": change.before_rate, "fell_to": change.after_rate, "fell_at": at}
    return {}


def fall_phrase(stats: Mapping[str, object], of: str) -> str:
    """``fall_stats`` in words: "5.3% of <of> before 16:14, 1.2% after"."""
    start, end, at = stats["fell_from"], stats["fell_to"], stats["fell_at"]
    assert isinstance(start, float) and isinstance(end, float)
    if at is None:
        return f"{start:.1%} of {of} in the window's first half, {end:.1%} in its second"
    return f"{start:.1%} of {of} before {at}, {end:.1%} after"


def halves(hits: Sequence[int], totals: Sequence[int]) -> RateChange:
    """Compare the first and the second half of the series (split at the middle bucket)."""
    mid = len(totals) // 2
    return _change(hits, totals, mid, corrections=1)


def onset(hits: Sequence[int], totals: Sequence[int], min_side: int = 20) -> RateChange | None:
    """The single split where the rate changes most (binomial likelihood ratio).

    The p-value is Fisher's, multiplied by the number of candidate splits
    (Bonferroni), because the split was chosen by looking at the data.
    Returns ``None`` when no split leaves ``min_side`` trials on both sides.
    """
    n_hits, n_total = sum(hits), sum(totals)
    best, best_ll, candidates = -1, -math.inf, 0
    cum_h = cum_t = 0
    for k in range(1, len(totals)):
        cum_h += hits[k - 1]
        cum_t += totals[k - 1]
        if cum_t < min_side or n_total - cum_t < min_side:
            continue
        candidates += 1
        ll = _loglik(cum_h, cum_t) + _loglik(n_hits - cum_h, n_total - cum_t)
        if ll > best_ll:
            best, best_ll = k, ll
    if best < 0:
        return None
    return _change(hits, totals, best, corrections=candidates)


def _change(hits: Sequence[int], totals: Sequence[int], split: int, corrections: int) -> RateChange:
    bh, bt = sum(hits[:split]), sum(totals[:split])
    ah, at = sum(hits[split:]), sum(totals[split:])
    p = min(1.0, fisher_increase((bh, bt), (ah, at)) * corrections)
    return RateChange(split, bh, bt, ah, at, p, corrections)


def _loglik(hits: int, total: int) -> float:
    if total == 0 or hits in (0, total):
        return 0.0
    p = hits / total
    return hits * math.log(p) + (total - hits) * math.log(1 - p)


def evidence_strength(p_value: float) -> float:
    """Map a p-value to [0, 1]: 0 at p >= 0.01, 1 at p <= 1e-12 (log scale)."""
    if p_value >= 0.01:
        return 0.0
    return min(1.0, (-math.log10(max(p_value, 1e-300)) - 2.0) / 10.0)


def gap_text(seconds: float, bare: bool = False) -> str:
    """A time between two moments: ``40 s after``, ``12 minutes after``, ``2.5 hours before``,
    ``3.0 days`` (``bare``: the length alone)."""
    if seconds < 0:
        return _gap_length(-seconds) if bare else f"{_gap_length(-seconds)} before"
    return _gap_length(seconds) if bare else f"{_gap_length(seconds)} after"


def _gap_length(seconds: float) -> str:
    minutes = seconds / 60
    if seconds < 90:
        return f"{seconds:.0f} s"
    if minutes < 90:
        return f"{minutes:.0f} minute{'' if round(minutes) == 1 else 's'}"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} hours"
    return f"{minutes / 1440:.1f} days"


def minute(ts: datetime | None) -> str:
    """A UTC time for titles: ``2026-11-20 14:06 UTC``."""
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "?"


#: How far before an onset a change may lie and still be named as "just before" it.
CHANGE_LOOKBACK = timedelta(minutes=30)


def relation(onset_ts: datetime, change: tuple[datetime, str], width: int) -> str:
    """How a change stands to an onset known to a bucket, for a title.

    ``just after the release ...`` when it came before the bucket began; ``in the 6h bucket
    of the release ...`` when it fell inside it (the onset may be before or after it there).
    """
    at, label = change
    if at <= onset_ts:
        return f"just after the {label}"
    return f"in the {label_seconds(width)} bucket of the {label}"


def change_before(case: Case, onset_ts: datetime, width: int) -> tuple[datetime, str] | None:
    """The latest change (release, deploy, restart) shortly before an onset, with a label, of
    something the evidence names (``names_change``).

    An onset is only known to a bucket, so a change up to one bucket after its
    start still counts.
    """
    rows = case.rows(
        "SELECT ts, kind, coalesce(what, ''), coalesce(version, ''), coalesce(source, '')"
        " FROM changes WHERE ts BETWEEN ? AND ?"
        # A release or deploy says more than the restart it causes.
        " ORDER BY kind = 'restart', ts DESC, what",
        (onset_ts - CHANGE_LOOKBACK, onset_ts + timedelta(seconds=width)),
    )
    for ts, kind, what, version, source in rows:
        if names_change(case, str(kind), str(what), str(source)):
            return ts, f"{change_label(str(kind), str(what), str(version))} at {ts:%H:%M:%S} UTC"
    return None


def change_label(kind: str, what: str, version: str) -> str:
    """A change as a sentence names it after "the": ``deploy of payments 2.14.3``; a flag's
    state says what happened to it (``flag pricing.tiered_discounts enabled for plan=pro``)."""
    named = " ".join(p for p in (what, version) if p)
    return f"flag {named}" if kind == "flag" else f"{kind} of {named}"


def names_change(case: Case, kind: str, what: str, source: str) -> bool:
    """Whether the evidence names a changed thing beyond the list of changes it is in: a file's
    path, a record's service or logger, a request's host or route holds a word of its name (a
    deploy of notifications-svc explains little of a bundle that never mentions it; one of
    refund-service does explain /v1/refunds). A restart a service logged is named by its log;
    a repository's owner is dropped (``acme/payments`` is payments)."""
    words = [
        w
        for w in re.split(r"[^a-z0-9]+", what.lower().rsplit("/", 1)[-1])
        if len(w) >= 4 and w not in _GENERIC
    ]
    if not words or kind == "restart":
        return True

    def named() -> bool:  # every onset asks of the same changes: one pass over the names each
        names = case.memo(("timeline.evidence_names",), lambda: _evidence_names(case))
        return any(w in n for n in names if n != source.lower() for w in words)

    return case.memo(("timeline.names_change", what, source), named)


#: Words in service names that name no service of their own.
_GENERIC = frozenset(("service", "server", "worker", "deploy", "release", "prod", "main"))


def _evidence_names(case: Case) -> list[str]:
    """What the evidence names, lower-cased: its files' paths, its records' services and
    loggers, its requests' hosts and routes (each distinct value once)."""
    rows = case.rows(
        "SELECT lower(path) FROM files UNION SELECT DISTINCT lower(service) FROM events"
        " UNION SELECT DISTINCT lower(logger) FROM events UNION SELECT DISTINCT lower(host)"
        " FROM requests UNION SELECT DISTINCT lower(route) FROM requests"
    )
    return [str(r[0]) for r in rows if r[0]]
