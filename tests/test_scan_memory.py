"""A scan worker's memory is bounded by its row batches, not by the file: a few KiB per held row;
and the cyclic collector, which a scan gives nothing to collect, runs rarely while it works."""

from __future__ import annotations

import gc
import json
import random
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from casework.redact import RedactionPolicy
from casework.scan.task import ScanTask
from casework.scan.worker import scan
from casework.store import RowBuffer


def _api_log(tmp_path: Path, lines: int) -> ScanTask:
    rng = random.Random(2)
    log = tmp_path / "api.jsonl"
    with log.open("w") as fh:
        for i in range(lines):
            fh.write(json.dumps({
                "ts": f"2026-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "level": "info",
                "msg": f"handled GET /v1/items/{rng.randint(1, 9999)} in {rng.randint(1, 900)} ms",
                "http": {"method": "GET", "status": rng.choice([200, 200, 500])},
                "trace_id": f"{rng.getrandbits(128):032x}",
            }) + "\n")  # fmt: skip
    return ScanTask(
        index=0, file=log.name, name=log.name, disk=str(log), size=log.stat().st_size,
        kind="jsonl", part=0, parts=1, start=0, end=None, key=b"k" * 32,
        policy=RedactionPolicy(), tz="UTC", tz_given=False, year=None, out=str(tmp_path / "out"),
    )  # fmt: skip


def test_rows_held_before_a_flush_cost_what_their_text_costs(tmp_path: Path) -> None:
    lines = 60_000
    task = _api_log(tmp_path, lines)
    log = Path(task.disk)
    tracemalloc.start()
    result = scan(task)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.records == lines
    held = 2 * RowBuffer.BATCH_ROWS  # an events row and a requests row per line, at most
    per_row = peak / held
    assert per_row < 1536, (
        f"{per_row:.0f} bytes per held row (lines are ~{log.stat().st_size // lines} bytes)"
    )


def test_the_collector_runs_rarely_during_a_scan_and_as_before_after_it(tmp_path: Path) -> None:
    task = _api_log(tmp_path, 20_000)
    started: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    before = gc.get_threshold()
    gc.callbacks.append(count)
    try:
        result = scan(task)
        during = len(started)
        gc.collect()
    finally:
        gc.callbacks.remove(count)
    assert result.records == 20_000
    # Python's default threshold (700) collects hundreds of times over these 20,000 records.
    assert during < 20, f"{during} collections during the scan"
    assert gc.get_threshold() == before
    assert len(started) == during + 1  # the collector still works after the scan


def test_scans_on_threads_restore_the_collector_when_the_last_one_ends(tmp_path: Path) -> None:
    tasks = []
    for i in range(3):
        (tmp_path / str(i)).mkdir()
        tasks.append(_api_log(tmp_path / str(i), 3_000))
    before = gc.get_threshold()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(scan, tasks))
    assert [r.records for r in results] == [3_000] * 3
    assert gc.get_threshold() == before
