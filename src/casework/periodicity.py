"""Periodicity of binned series: the period (autocorrelation, then epoch folding), the phase, and who aligns with it.

* The series is detrended by a moving average wider than any period looked
  for, so a daily traffic curve does not pass for a 12-minute cycle.
* Candidate periods are the peaks of the autocorrelation function; the
  smallest lag whose peak is close to the highest is the fundamental (the
  harmonics at 2x, 3x are as strong for spiky series).
* The period is refined to a fraction of a bin by epoch folding: the period
  whose folded profile has the highest peak wins, so a 12-minute cycle on
  a 25-second grid does not drift.
* Alignment of another series (a database checkpoint, a cron job) is a
  binomial test of how many of its events fall in the peak's phase window
  against the share of the cycle that window covers. A series that is
  periodic on its own but at another phase, or at a divisor period (a GC
  every 30 s inside a 12-minute cycle), falls in the window by its share only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom

MIN_CYCLES = 4
MIN_ACF = 0.25
HARMONIC_SHARE = 0.8

__all__ = ["Alignment", "Period", "align", "find_period"]


@dataclass(frozen=True, slots=True)
class Period:
    """A cycle of ``period`` bins (fractional), peaking at bin offset ``phase`` (0 <= phase < period)."""

    period: float
    acf: float
    phase: float
    half_width: float
    peak: float
    baseline: float
    cycles: int
    consistency: float  # share of cycles whose peak-phase bins stand out


@dataclass(frozen=True, slots=True)
class Alignment:
    """How many events of another series fall inside the peak's phase window."""

    inside: int
    total: int
    expected_share: float
    p_value: float

    @property
    def share(self) -> float:
        return self.inside / self.total if self.total else 0.0

    @property
    def lift(self) -> float:
        return self.share / self.expected_share if self.expected_share else 0.0


def find_period(series: np.ndarray, min_period: int = 3) -> Period | None:
    """The dominant period of a binned series, or None when there is none worth naming."""
    x = np.asarray(series, dtype=float)
    n = len(x)
    max_lag = n // MIN_CYCLES
    if max_lag <= min_period + 2 or not np.isfinite(x).all() or x.std() == 0:
        return None
    y = x - _moving_average(x, min(n, 2 * max_lag + 1))
    acf = _acf(y, max_lag + 2)
    peaks = [
        k
        for k in range(min_period, max_lag + 1)
        if acf[k] >= acf[k - 1] and acf[k] >= acf[k + 1] and acf[k] >= MIN_ACF
    ]
    noise = 4.0 / np.sqrt(n)
    peaks = [k for k in peaks if acf[k] > noise]
    if not peaks:
        return None
    top = max(acf[k] for k in peaks)
    lag = min(k for k in peaks if acf[k] >= HARMONIC_SHARE * top)
    period = _refine(y, lag)
    profile = _fold(y, period)
    phase = float(np.argmax(profile))
    base = float(np.median(profile))
    peak = float(profile.max())
    cut = base + 0.5 * (peak - base)
    half_width = max(1.0, float((profile > cut).sum()) / 2)
    return Period(
        period=period,
        acf=float(acf[lag]),
        phase=phase,
        half_width=half_width,
        peak=peak + float(np.median(x - y)),
        baseline=base + float(np.median(x - y)),
        cycles=int(n // period),
        consistency=_consistency(y, period, phase, half_width, cut),
    )


def align(events: np.ndarray, p: Period, lead: float | None = None) -> Alignment:
    """Events per bin against the period's peak window; ``lead`` bins before the peak count too."""
    e = np.asarray(events, dtype=float)
    width = p.half_width + 1.0
    before = width + (width if lead is None else lead)
    offset = (np.arange(len(e)) - p.phase) % p.period
    # Bins just before the peak (offset near period) and just after it (offset near 0).
    inside = (offset <= width) | (offset >= p.period - before)
    share = min(1.0, (width + before + 1.0) / p.period)
    k, total = int(e[inside].sum()), int(e.sum())
    pv = float(binom.sf(k - 1, total, share)) if total else 1.0
    return Alignment(k, total, share, pv)


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    width = max(1, width | 1)
    pad = width // 2
    padded = np.pad(x, pad, mode="edge")
    kernel = np.ones(width) / width
    return np.convolve(padded, kernel, mode="valid")[: len(x)]


def _acf(y: np.ndarray, lags: int) -> np.ndarray:
    n = len(y)
    f = np.fft.rfft(y, 2 * n)
    r = np.fft.irfft(f * np.conj(f))[: lags + 1]
    return np.asarray(r / r[0] if r[0] else r, dtype=float)


def _fold(y: np.ndarray, period: float) -> np.ndarray:
    bins = max(2, round(period))
    idx = np.floor(((np.arange(len(y)) % period) / period) * bins).astype(int) % bins
    sums = np.bincount(idx, weights=y, minlength=bins)
    counts = np.bincount(idx, minlength=bins)
    return np.divide(sums, counts, out=np.zeros(bins), where=counts > 0)


def _refine(y: np.ndarray, lag: int) -> float:
    """The period near ``lag`` whose folded profile peaks highest (epoch folding)."""
    best, best_peak = float(lag), -np.inf
    for period in np.arange(lag - 1.0, lag + 1.0001, 0.05):
        if period < 2:
            continue
        profile = _fold(y, float(period))
        # The peak of three neighbouring phase bins: one noisy bin (a sparse series'
        # single slow request) must not pick a period that smears the real spike.
        smooth = (profile + np.roll(profile, 1) + np.roll(profile, -1)) / 3
        peak = float(smooth.max() - np.median(profile))
        if peak > best_peak + 1e-12:
            best, best_peak = float(period), peak
    return round(best, 3)


def _consistency(
    y: np.ndarray, period: float, phase: float, half_width: float, cut: float
) -> float:
    """Share of whole cycles whose peak-phase bins reach ``cut``, half the folded peak's height
    above its baseline: a cycle of noise that crosses the series' upper quartile does not show
    the burst (four cycles of 30 s timeouts would otherwise make nine "consistent")."""
    hits = total = 0
    start = phase
    while start + half_width < len(y):
        lo, hi = int(max(0, np.floor(start - half_width))), int(np.ceil(start + half_width)) + 1
        total += 1
        hits += int(y[lo:hi].max() > cut)
        start += period
    return hits / total if total else 0.0
