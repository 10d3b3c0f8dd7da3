"""Cluster sizes over time: weekly counts, growing clusters and spikes.

Growth compares a cluster's share of the queue in the last ``RECENT_WEEKS``
with its share before, with a one-sided binomial test (the queue's own
volume changes are accounted for by using shares, not counts). A spike is a
week whose count exceeds the cluster's weekly median by a Poisson tail
probability below ``SPIKE_P`` (Bonferroni-corrected over weeks).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from scipy.stats import binomtest, poisson

RECENT_WEEKS = 4
ALPHA = 0.01
SPIKE_P = 0.001


@dataclass(frozen=True, slots=True)
class Trend:
    cluster: int
    weekly: dict[datetime, int]
    recent: int
    recent_share: float
    before_share: float
    growing: bool
    p_value: float
    spikes: tuple[datetime, ...]


def week_of(ts: datetime) -> datetime:
    day = ts.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def trends(created: list[datetime | None], assignment: list[int]) -> dict[int, Trend]:
    dated = [(week_of(t), c) for t, c in zip(created, assignment, strict=True) if t is not None]
    if not dated:
        return {}
    last = max(w for w, _ in dated)
    cutoff = last - timedelta(weeks=RECENT_WEEKS - 1)
    total_recent = sum(1 for w, _ in dated if w >= cutoff)
    total_before = len(dated) - total_recent
    weeks = sorted({w for w, _ in dated})
    by_cluster: dict[int, Counter[datetime]] = {cid: Counter() for cid in set(assignment)}
    for w, c in dated:
        by_cluster[c][w] += 1
    out: dict[int, Trend] = {}
    for cid in sorted(by_cluster):
        weekly = by_cluster[cid]
        recent = sum(n for w, n in weekly.items() if w >= cutoff)
        before = sum(weekly.values()) - recent
        recent_share = recent / total_recent if total_recent else 0.0
        before_share = before / total_before if total_before else 0.0
        p = 1.0
        if total_recent and total_before and recent:
            p = float(
                binomtest(
                    recent,
                    total_recent,
                    max(before_share, 0.5 / total_before),
                    alternative="greater",
                ).pvalue
            )
        median = sorted(weekly.get(w, 0) for w in weeks)[len(weeks) // 2]
        threshold = SPIKE_P / max(len(weeks), 1)
        spikes = tuple(
            w
            for w in weeks
            if weekly.get(w, 0) >= 5 and poisson.sf(weekly[w] - 1, max(median, 0.5)) < threshold
        )
        out[cid] = Trend(cid, dict(sorted(weekly.items())), recent, recent_share, before_share,
                         p < ALPHA and recent >= 3 and recent_share > before_share, p, spikes)  # fmt: skip
    return out
