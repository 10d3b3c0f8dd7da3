"""Rate change points: when did the share of failing (slow, templated) records shift, and how sure is the time.

The series is binomial: ``hits`` out of ``totals`` per time bucket, so a busy
afternoon does not look like a shift (traffic seasonality cancels in the
rate) and a 0.3% failure share is tested with exact counts, not a z-score.

* The split maximizes the binomial likelihood ratio of "one rate before, one
  after" against "one rate throughout".
* Its p-value is a two-sided Fisher exact test on the before/after counts,
  times the number of candidate splits (Bonferroni), since the split was
  chosen by looking at the data.
* Bursts (a daily batch of timeouts) are not a shift: buckets far above
  the rate of both their neighbourhoods (Poisson tail p < 1e-6) are set
  aside before the test; a step keeps one high side, so it stays.
* The time is stated with its uncertainty: every split whose likelihood is
  within ``LIKELIHOOD_BOUND`` (half the 99% chi-square quantile with one
  degree of freedom) of the best one is a candidate, and the interval spans them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import fisher_exact, poisson

LIKELIHOOD_BOUND = 3.32
BURST_P = 1e-6
MIN_SIDE = 20
BURST_NEIGHBOURS = 12
BURST_WIDTH = 3
#: Bursts too many to all fall after the first of them by chance, were they spread over the
#: series like its traffic (probability below ``REGIME_P``), are no bursts but a new regime
#: that began with the first: failures that come and go since a release.
MIN_REGIME = 3
REGIME_P = 0.01

__all__ = ["Shift", "rate_shift"]


@dataclass(frozen=True, slots=True)
class Shift:
    """A change of rate at bucket ``split`` (the first bucket after), with its candidate interval."""

    split: int
    lo: int
    hi: int
    before_hits: int
    before_total: int
    after_hits: int
    after_total: int
    p_value: float
    llr: float
    bursts: int = 0

    @property
    def before_rate(self) -> float:
        return self.before_hits / self.before_total if self.before_total else 0.0

    @property
    def after_rate(self) -> float:
        return self.after_hits / self.after_total if self.after_total else 0.0

    @property
    def increased(self) -> bool:
        return self.after_rate > self.before_rate

    @property
    def ratio(self) -> float:
        """After rate over before rate (infinite when nothing happened before)."""
        if self.before_rate == 0:
            return float("inf") if self.after_rate else 1.0
        return self.after_rate / self.before_rate


def rate_shift(
    hits: Sequence[float], totals: Sequence[float], min_side: int = MIN_SIDE
) -> Shift | None:
    """The most likely single change of rate in a binomial series, or None if no split is possible."""
    h = np.asarray(hits, dtype=float)
    t = np.asarray(totals, dtype=float)
    if len(t) < 2 or t.sum() < 2 * min_side:
        return None
    keep = ~bursts(h, t)
    found = _best_split(h, t, keep, min_side)
    if found is None:
        return None
    split, llr, lo, hi, candidates = found
    hk, tk = np.where(keep, h, 0.0), np.where(keep, t, 0.0)
    bh, bt = int(hk[:split].sum()), int(tk[:split].sum())
    ah, at = int(hk[split:].sum()), int(tk[split:].sum())
    table = [[ah, at - ah], [bh, bt - bh]]
    p = float(fisher_exact(table, alternative="two-sided").pvalue) if bt and at else 1.0
    return Shift(split, lo, hi, bh, bt, ah, at, min(1.0, p * candidates), llr, int((~keep).sum()))


def _best_split(
    h: np.ndarray, t: np.ndarray, keep: np.ndarray, min_side: int
) -> tuple[int, float, int, int, int] | None:
    """(split, log-likelihood ratio, first and last candidate split, number of candidates)."""
    hk, tk = np.where(keep, h, 0.0), np.where(keep, t, 0.0)
    ch, ct = np.cumsum(hk)[:-1], np.cumsum(tk)[:-1]
    nh, nt = hk.sum(), tk.sum()
    valid = (ct >= min_side) & (nt - ct >= min_side)
    if not valid.any():
        return None
    ll = _loglik(ch, ct) + _loglik(nh - ch, nt - ct)
    ll = np.where(valid, ll, -np.inf)
    k = int(np.argmax(ll))
    best = float(ll[k])
    near = np.nonzero(valid & (ll >= best - LIKELIHOOD_BOUND))[0]
    llr = best - float(_loglik(np.array([nh]), np.array([nt]))[0])
    # Index k splits after bucket k: the first bucket of the "after" side is k + 1.
    return k + 1, llr, int(near.min()) + 1, int(near.max()) + 1, int(valid.sum())


def _loglik(hits: np.ndarray, totals: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(totals > 0, hits / np.maximum(totals, 1e-300), 0.0)
        a = np.where(hits > 0, hits * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(totals - hits > 0, (totals - hits) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    return np.asarray(a + b, dtype=float)


def bursts(h: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Buckets far above both neighbourhoods (a step has one high side; a burst has none).

    The neighbourhoods skip the ``BURST_WIDTH`` buckets next to each bucket, so a
    burst a few buckets long is not its own neighbour. Bursts that recur only after
    some point are a regime (see ``REGIME_P``): none is set aside.
    """
    n = len(t)
    ch, ct = np.concatenate(([0.0], np.cumsum(h))), np.concatenate(([0.0], np.cumsum(t)))
    idx = np.arange(n)

    def rate(a: np.ndarray, b: np.ndarray, empty: float) -> np.ndarray:
        a, b = np.clip(a, 0, n), np.clip(b, 0, n)
        return np.asarray(
            np.divide(ch[b] - ch[a], ct[b] - ct[a], out=np.full(n, empty), where=ct[b] > ct[a])
        )

    # Past the start, the other side judges alone. Past the end the rate could be anything:
    # logs are collected while it still fails, so a rise that lasts to the end is a step, not
    # a burst. One the last buckets return from is a burst: near the end, every bucket after
    # it is its right side (the last bucket has none).
    left = rate(idx - BURST_WIDTH - BURST_NEIGHBOURS, idx - BURST_WIDTH, 0.0)
    far = rate(idx + 1 + BURST_WIDTH, idx + 1 + BURST_WIDTH + BURST_NEIGHBOURS, np.nan)
    right = np.where(np.isnan(far), rate(idx + 1, idx + 1 + BURST_WIDTH, 1.0), far)
    expected = np.maximum(t * np.maximum(left, right), 1e-9)
    flagged = np.asarray((poisson.sf(h - 1, expected) < BURST_P) & (h >= 5), dtype=bool)
    found = np.nonzero(flagged)[0]
    if len(found) >= MIN_REGIME and ct[n] > 0:
        after = (ct[n] - ct[found[0]]) / ct[n]
        if after ** len(found) < REGIME_P:
            return np.zeros(n, dtype=bool)
    return flagged
