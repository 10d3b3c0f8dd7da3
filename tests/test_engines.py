"""The shared statistics engines of issue 5: contrast, change points, periodicity."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from casework.changepoint import rate_shift
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
