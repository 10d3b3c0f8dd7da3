"""A gauge in a metrics export whose level moved is a finding, with when it moved; counters,
steady gauges and the numbers of a message log are not."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.pipeline import Options, investigate

START = datetime(2025, 6, 12, 12, 30, tzinfo=UTC)


def _bundle(root: Path, rng: random.Random) -> datetime:
    """A lag exporter's samples every 30 s for 12 partitions: the lag stays under 10 until the
    onset, then climbs by hundreds a minute; committed offsets grow all along (a counter).
    Beside it, an application log whose request durations grow sixfold at the same moment."""
    onset = START + timedelta(minutes=93)
    samples, app = [], []
    offsets = [rng.randint(3_000_000, 4_000_000) for _ in range(12)]
    t = START
    while t < START + timedelta(hours=3):
        for p in range(12):
            offsets[p] += rng.randint(400, 700)
            behind = (t - onset).total_seconds() / 60 if t >= onset else 0.0
            lag = int(behind * rng.uniform(300, 900)) if behind else rng.randint(0, 9)
            samples.append(json.dumps({
                "ts": f"{t:%Y-%m-%dT%H:%M:%S}.{rng.randint(0, 999):03d}Z", "group": "ledger",
                "topic": "payments.settled", "partition": p, "committed_offset": offsets[p],
                "log_end_offset": offsets[p] + lag, "lag": lag, "member_host": f"/10.42.3.{p}",
            }))  # fmt: skip
        for _ in range(20):
            took = rng.uniform(5, 40) * (6 if t >= onset else 1)
            app.append(json.dumps({
                "time": f"{t:%Y-%m-%dT%H:%M:%S}Z", "level": "info",
                "message": f"settled payment in {took:.0f} ms", "took_ms": round(took, 1),
            }))  # fmt: skip
        t += timedelta(seconds=30)
    root.mkdir()
    (root / "lag-exporter.jsonl").write_text("\n".join(samples) + "\n")
    (root / "ledger.jsonl").write_text("\n".join(app) + "\n")
    return onset


def test_a_gauge_that_climbs_from_a_moment_is_a_metric_shift(tmp_path: Path) -> None:
    onset = _bundle(tmp_path / "bundle", random.Random(3))
    found = investigate(tmp_path / "bundle", tmp_path / "out", Options(workers=1)).findings
    metrics = [f for f in found if f.key == "CHANGEPOINT_METRIC"]
    assert [f.entities["subject"] for f in metrics] == ["lag"], [f.title for f in metrics]
    lag = metrics[0]
    assert lag.entities["file"] == "lag-exporter.jsonl" and lag.stats["increased"] is True
    # Buckets are 1/120 of the span (90 s here); the bucket the climb starts in is mixed, so
    # the onset is dated to within two buckets.
    assert abs(float(lag.stats["onset_epoch"] or 0) - onset.timestamp()) <= 180
    assert float(lag.stats["before_median"] or 0) < 10 < float(lag.stats["after_median"] or 0)
    assert lag.severity == "high" and "still there at the end" in lag.title
