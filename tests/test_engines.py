"""The shared statistics engines of issue 5: contrast, change points, periodicity."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pytest

from casework.changepoint import bursts, rate_shift
from casework.contrast import contrast
from casework.periodicity import align, find_period


def _population(seed: int) -> duckdb.DuckDBPyConnection:
    """Orders: fail when amount > 10000 and the account is new, plus noise and unique ids."""
    rng = random.Random(seed)
    con = duckdb.connect()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(6000):
        ts = start + timedelta(seconds=30 * i)
        amount = round(rng.lognormvariate(8.5, 1.0), 2)
        created = start - timedelta(days=rng.randrange(0, 400), seconds=rng.randrange(86400))
        new = created >= start - timedelta(days=30)
        fail = (amount > 10000 and new and rng.random() < 0.95) or rng.random() < 0.002
        attrs = {
            "amt": amount,
            "since": created.isoformat(),
            "region": rng.choice(["eu", "us", "ap"]),
            "req": f"{rng.getrandbits(64):016x}",
            "seq": i,
        }
        rows.append((ts, not fail, orjson.dumps(attrs).decode()))
    table = pa.table(
        {
            "ts": pa.array([r[0] for r in rows], pa.timestamp("us", tz="UTC")),
            "ok": [r[1] for r in rows],
            "attrs": [r[2] for r in rows],
        }
    )
    con.register("rows_", table)
    con.execute("CREATE TABLE r AS SELECT ts, ok, CAST(attrs AS JSON) attrs FROM rows_")
    return con


def test_contrast_finds_thresholds_and_skips_ids() -> None:
    con = _population(3)
    splits = contrast(con, "SELECT * FROM r", "NOT ok", time_column="ts")
    best = splits[0]
    labels = {t.attr: t for t in best.terms}
    assert set(labels) == {"amt", "since"}
    assert labels["amt"].op == ">=" and 9000 <= (labels["amt"].threshold or 0) <= 11000
    assert labels["since"].op == ">=" and best.significant and best.rate > 0.8
    kinds = {a.name: a.kind for a in best.attributes}
    assert kinds["req"] == "id"
    # A counter that grows with time is a proxy of time, not a cohort.
    assert kinds["seq"] == "time_proxy"


def test_rate_shift_detects_a_low_rate_with_its_interval() -> None:
    rng = np.random.default_rng(5)
    seasonal = rng.poisson(2000, 200) * (1 + 0.8 * np.sin(np.arange(200) / 8))
    totals = seasonal.astype(np.int64)  # traffic with a strong cycle
    rate = np.where(np.arange(200) >= 130, 0.003, 0.0)
    hits = rng.binomial(totals, rate)
    shift = rate_shift(hits.tolist(), totals.tolist())
    assert shift is not None and shift.increased and shift.p_value < 1e-6
    assert shift.lo <= 130 <= shift.hi + 1
    flat = rate_shift(rng.binomial(totals, 0.003).tolist(), totals.tolist())
    assert flat is None or flat.p_value > 1e-3


def test_rate_shift_sets_bursts_aside() -> None:
    totals = np.full(240, 500)
    hits = np.zeros(240, dtype=int)
    hits[::24] = 40  # a daily burst, same before and after any split
    shift = rate_shift(hits.tolist(), totals.tolist())
    assert shift is None or shift.p_value > 1e-3


def test_bursts_that_recur_only_after_a_point_are_a_regime_that_began_with_the_first() -> None:
    """Failures that come and go since a release: each burst stands alone among its
    neighbours, but together they are the change, and the first one is its onset."""
    rng = np.random.default_rng(4)
    totals = np.full(240, 500)
    hits = np.zeros(240, dtype=int)
    first = int(rng.integers(80, 120))
    at = first
    while at < 240:
        hits[at] = int(rng.integers(30, 60))
        at += int(rng.integers(12, 20))
    assert not bursts(hits.astype(float), totals.astype(float)).any()
    shift = rate_shift(hits.tolist(), totals.tolist())
    assert shift is not None and shift.increased and shift.p_value < 1e-6
    assert shift.split == first


def test_period_phase_and_alignment() -> None:
    rng = np.random.default_rng(2)
    n, period, phase = 4000, 72, 30
    latency = rng.normal(40, 5, n)
    idx = np.arange(n)
    latency[(idx - phase) % period < 4] += 3000
    p = find_period(latency)
    assert p is not None and abs(p.period - period) < 0.5
    assert abs((p.phase - phase) % period) <= 4
    checkpoint = np.zeros(n)
    checkpoint[phase::period] = 1
    gc = np.zeros(n)
    gc[::3] = 1  # every 30 s on a 10 s grid: periodic, but divides the cycle
    other = np.zeros(n)
    other[(phase + period // 2) :: period] = 1  # same period, opposite phase
    assert align(checkpoint, p).p_value < 1e-9
    assert align(gc, p).lift < 2
    assert align(other, p).share < 0.1


def test_a_cycle_shows_its_burst_only_when_it_rises_to_the_fold_s_peak() -> None:
    """Latency flat for five cycles, then 30-second timeouts in the peaks of the last four (a
    pool that runs dry at traffic peaks after a change): 4 of 9 cycles show the burst, though
    every cycle's noise crosses the series' upper quartile. Every cycle bursting, at uneven
    heights, is consistent."""
    rng = np.random.default_rng(7)
    n, period, phase = 9 * 120, 120, 40
    idx = np.arange(n)
    peak = (idx - phase) % period < 5
    latency = rng.normal(180, 30, n)
    latency[peak & (idx >= 5 * period)] += 10_000
    p = find_period(latency)
    assert p is None or p.consistency <= 4 / 9 + 1e-9
    steady = rng.normal(180, 30, n)
    for k in range(9):
        steady[(idx // period == k) & peak] += rng.uniform(1500, 3000)
    q = find_period(steady)
    assert q is not None and q.consistency == 1.0


def _names(rng: random.Random, n: int) -> list[str]:
    """Attribute names that differ by seed, so no assertion can lean on a name."""
    stems = ["acct", "order", "cart", "user", "device", "merchant", "batch", "item"]
    tails = ["score", "size", "age", "count", "weight", "level", "amount", "ratio"]
    return [f"{rng.choice(stems)}.{rng.choice(tails)}_{i}" for i in range(n)]


def _records(seed: int, need: str) -> tuple[duckdb.DuckDBPyConnection, set[str]]:
    """Requests over three endpoints that fail above a threshold of one attribute; ``need`` adds
    a second condition: below a threshold of another attribute ("threshold"), or on one
    endpoint only ("endpoint"). Every other attribute is noise: numbers, and a number that
    only that endpoint's records carry. One endpoint has an id in its path, so the path has
    many distinct values. Returns the relation ``r`` and the true attributes."""
    rng = random.Random(seed)
    cause, second, path, *noise = _names(rng, 6)
    endpoints = [
        f"/v1/{rng.choice(['refunds', 'payouts', 'charges'])}",
        "/v1/checkout",
        "/v1/orders/",
    ]
    cut, cut2 = rng.uniform(40, 60), rng.uniform(30, 70)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    rows = []
    for i in range(5000):
        endpoint = rng.choice(endpoints)
        attrs: dict[str, object] = {
            cause: round(rng.uniform(0, 100), 2),
            second: round(rng.uniform(0, 100), 2),
            noise[0]: round(rng.lognormvariate(3, 1), 2),
            noise[1]: rng.randrange(1000),
            path: endpoint + (f"{rng.getrandbits(32):08x}" if endpoint.endswith("/") else ""),
        }
        if endpoint == endpoints[0]:
            attrs[noise[2]] = rng.randrange(300, 25000)  # only this endpoint's records carry it
        hit = float(attrs[cause]) >= cut  # type: ignore[arg-type]
        if need == "threshold":
            hit = hit and float(attrs[second]) < cut2  # type: ignore[arg-type]
        elif need == "endpoint":
            hit = hit and endpoint == endpoints[0]
        fail = (hit and rng.random() < 0.95) or rng.random() < 0.002
        rows.append((start + timedelta(seconds=20 * i), not fail, orjson.dumps(attrs).decode()))
    con = duckdb.connect()
    table = pa.table(
        {
            "ts": pa.array([r[0] for r in rows], pa.timestamp("us", tz="UTC")),
            "ok": [r[1] for r in rows],
            "attrs": [r[2] for r in rows],
        }
    )
    con.register("rows_", table)
    con.execute("CREATE TABLE r AS SELECT ts, ok, CAST(attrs AS JSON) attrs FROM rows_")
    truth = {"threshold": {cause, second}, "endpoint": {cause, path}}.get(need, {cause})
    return con, truth


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_cohort_names_one_cause_and_no_noise(seed: int) -> None:
    con, truth = _records(seed, "")
    best = contrast(con, "SELECT * FROM r", "NOT ok", time_column="ts")[0]
    # Every term earns its place: a noise cut that trims a few successes is not stated.
    assert {t.attr for t in best.terms} == truth, best.describe()
    assert best.significant and best.rate > 0.8 and best.coverage > 0.8


@pytest.mark.parametrize(
    ("seed", "need"), [(s, n) for s in (1, 2, 3) for n in ("threshold", "endpoint")]
)
def test_a_cohort_keeps_both_causes_when_both_matter(seed: int, need: str) -> None:
    con, truth = _records(seed, need)
    best = contrast(con, "SELECT * FROM r", "NOT ok", time_column="ts")[0]
    # With the endpoint, the number only its records carry is no stand-in for it: among records
    # that carry that number, its cut separates nothing.
    assert {t.attr for t in best.terms} == truth, best.describe()
    assert best.significant and best.rate > 0.8 and best.coverage > 0.8


def test_population_weights_of_tens_of_millions_are_exact_sums() -> None:
    """Strata of millions of rows (a 10 GB case) weigh the sample back to the true counts."""
    import duckdb

    from casework.contrast_tables import SAMPLE_ROWS, population

    con = duckdb.connect()
    con.execute("CREATE TABLE big AS SELECT range AS i, range % 7 = 0 AS bad FROM range(30000000)")
    pop = population(con, "SELECT * FROM big", "bad", ["i"], None, None, None)
    n, fail_w, ok_w = con.execute(
        f"SELECT count(*), sum(w) FILTER (WHERE fail), sum(w) FILTER (WHERE NOT fail) FROM {pop}"
    ).fetchone() or (0, 0, 0)
    assert n <= SAMPLE_ROWS * 1.05
    assert abs(fail_w - 30_000_000 / 7) / (30_000_000 / 7) < 0.001
    assert abs(ok_w - 30_000_000 * 6 / 7) / (30_000_000 * 6 / 7) < 0.001


def test_a_rise_still_going_at_the_end_of_the_window_is_no_burst() -> None:
    """Customers send logs while it still fails: the last buckets' high rate is a step."""
    import numpy as np

    from casework.changepoint import bursts

    totals = np.full(180, 1000.0)
    hits = np.full(180, 2.0)
    hits[177:] = 600.0  # the incident, ongoing when the logs were cut
    hits[90] = 400.0  # a one-bucket burst in the middle
    flagged = bursts(hits, totals)
    assert not flagged[177:].any()
    assert flagged[90]


def test_a_burst_the_last_buckets_return_from_is_a_burst() -> None:
    """A spike every 12 buckets, the last one four buckets before the logs end and over by
    then: like the others it is set aside, and no change of rate is left to report."""
    totals = np.full(240, 800.0)
    hits = np.full(240, 40.0)
    hits[5:240:12] = 300.0
    hits[236] = 300.0  # the last spike; the three buckets after it are back to normal
    flagged = bursts(hits, totals)
    assert flagged[236] and flagged[5:240:12].all() and flagged.sum() == 21
    shift = rate_shift(hits.tolist(), totals.tolist())
    assert shift is None or shift.p_value > 1e-3
