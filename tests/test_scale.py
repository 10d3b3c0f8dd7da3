"""The scan gives the same case store and findings on one core, on all cores, and on a Dask cluster."""

from __future__ import annotations

import contextlib
import gzip
import json
import random
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from casework.pipeline import Options, investigate

CHUNK = 120_000  # small parts, so the large files are split into many tasks


def make_bundle(root: Path, seed: int = 3) -> None:
    """Three days of gzip-rotated JSON logs, an nginx log and a Java log, with one incident."""
    rng = random.Random(seed)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    incident = start + timedelta(days=2, hours=5)
    root.mkdir(parents=True)
    lines: list[str] = []
    access: list[str] = []
    t = start
    while t < start + timedelta(days=3):
        t += timedelta(seconds=rng.uniform(5, 25))
        broken = t >= incident and rng.random() < 0.6
        route = rng.choice(["/api/orders", "/api/export", "/api/users"])
        status = 500 if broken and route == "/api/export" else rng.choice([200] * 40 + [404])
        lines.append(json.dumps({
            "time": t.isoformat().replace("+00:00", "Z"), "level": "error" if status == 500 else "info",
            "msg": f"export job {rng.getrandbits(24):x} failed: disk quota exceeded" if status == 500 else f"served {route}",
            "route": route, "status": status, "took_ms": rng.randint(3, 300), "tenant": f"t{rng.randint(1, 40)}",
        }))  # fmt: skip
        access.append(f'10.1.{rng.randint(0, 9)}.{rng.randint(1, 250)} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] '
                      f'"GET {route} HTTP/1.1" {status} {rng.randint(200, 5000)} "-" "curl/8.5.0"')  # fmt: skip
    third = len(lines) // 3
    with gzip.open(root / "api.log.2.gz", "wt") as fh:
        fh.write("\n".join(lines[:third]) + "\n")
    with gzip.open(root / "api.log.1.gz", "wt") as fh:
        fh.write("\n".join(lines[third : 2 * third]) + "\n")
    (root / "api.log").write_text("\n".join(lines[2 * third :]) + "\n")
    (root / "access.log").write_text("\n".join(access) + "\n")
    java = []
    for i in range(400):
        ts = start + timedelta(minutes=9 * i)
        java.append(
            f"{ts:%Y-%m-%d %H:%M:%S},{i % 1000:03d} INFO  [main] c.e.Export - batch {i} done"
        )
        if ts >= incident and i % 5 == 0:
            java += [f"{ts:%Y-%m-%d %H:%M:%S},{i % 1000:03d} ERROR [main] c.e.Export - write failed",
                     "java.io.IOException: Disk quota exceeded", "\tat c.e.Export.write(Export.java:42)"]  # fmt: skip
    (root / "export.log").write_text("\n".join(java) + "\n")


def snapshot(case: Path) -> dict[str, Any]:
    findings = json.loads((case / "findings.json").read_text())
    findings.pop("runs", None)
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    tables = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()
        for t in ("events", "requests", "templates", "changes")
    }
    # In stored order: analyzers that read rows in order must see the same order everywhere.
    events = con.execute(
        "SELECT file, line, end_line, template_id, message FROM events ORDER BY rowid"
    ).fetchall()
    templates = con.execute(
        "SELECT template_id, pattern, count FROM templates ORDER BY template_id"
    ).fetchall()
    con.close()
    return {
        "findings": findings["findings"],
        "tables": tables,
        "events": events,
        "templates": templates,
    }


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale") / "bundle"
    make_bundle(root)
    return root


def test_same_answers_on_one_core_all_cores_and_dask(bundle: Path, tmp_path: Path) -> None:
    one = investigate(bundle, tmp_path / "one", Options(workers=1, chunk_bytes=CHUNK))
    assert sum(1 for e in one.inventory if e.path == "api.log") == 1
    two = investigate(
        bundle, tmp_path / "two", Options(workers=2, chunk_bytes=CHUNK, pool_min_bytes=0)
    )
    # Dask's default dashboard port held by someone else (another cluster, a notebook) does
    # not stop the executor; if it is already held, so much the better.
    with socket.socket() as busy:
        with contextlib.suppress(OSError):
            busy.bind(("0.0.0.0", 8787))
            busy.listen()
        dask = investigate(
            bundle, tmp_path / "dask", Options(executor="dask", workers=2, chunk_bytes=CHUNK)
        )
    a, b, c = (snapshot(tmp_path / n) for n in ("one", "two", "dask"))
    assert a["tables"] == b["tables"] == c["tables"]
    assert a["templates"] == b["templates"] == c["templates"]
    assert a["events"] == b["events"] == c["events"]
    assert a["findings"] == b["findings"] == c["findings"]
    assert one.findings and "export" in one.findings[0].title.lower()
    assert [e.to_json() | {"seconds": 0} for e in one.inventory] == [
        e.to_json() | {"seconds": 0} for e in dask.inventory
    ]
    assert two.findings[0].title == one.findings[0].title


def test_split_files_keep_their_real_line_numbers(bundle: Path, tmp_path: Path) -> None:
    investigate(bundle, tmp_path / "case", Options(workers=2, chunk_bytes=CHUNK, pool_min_bytes=0))
    con = duckdb.connect(str(tmp_path / "case" / "case.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT line, message FROM events WHERE file = 'api.log' ORDER BY rowid"
    ).fetchall()
    con.close()
    source = (bundle / "api.log").read_text().splitlines()
    assert (bundle / "api.log").stat().st_size > 3 * CHUNK  # really split into several parts
    assert [line for line, _ in rows] == list(range(1, len(source) + 1))
    for line, message in rows[:: max(len(rows) // 50, 1)]:
        assert json.loads(source[line - 1])["msg"] == message


def test_every_task_is_reported_once_on_this_thread_whoever_ran_it(
    bundle: Path, tmp_path: Path
) -> None:
    """This process scans beside the pool; the progress callback still runs here, once per task."""
    import threading

    from casework.bundle import Limits
    from casework.bundle_remote import open_bundle
    from casework.redact import RedactionPolicy, Redactor
    from casework.scan.executors import run_local
    from casework.scan.plan import Settings, plan

    settings = Settings(b"k" * 32, RedactionPolicy(), "UTC", False, tmp_path / "parts", CHUNK)
    seen: list[tuple[int, int, str]] = []
    with open_bundle(bundle, tmp_path / "work", Limits(), ()) as opened:
        tasks = plan(list(opened.members()), settings, Redactor(b"k" * 32, RedactionPolicy())).tasks
        results = run_local(
            tasks,
            3,
            lambda task, result: seen.append(
                (task.index, result.index, threading.current_thread().name)
            ),
            min_bytes=0,
        )
    assert len(tasks) > 6
    assert [r.index for r in results] == [t.index for t in tasks]
    assert sorted(i for i, _, _ in seen) == [t.index for t in tasks]
    assert all(i == j and name == threading.main_thread().name for i, j, name in seen)
    assert all(r.records > 0 and r.stopped is None for r in results)
    assert run_local([], 3, lambda task, result: None, min_bytes=0) == []


def test_a_worker_that_dies_loses_its_task_and_the_scan_goes_on(
    bundle: Path, tmp_path: Path
) -> None:
    """The kernel kills a worker (as its OOM killer would): the task it held is reported as
    not read, with the reason, and every other task is still scanned."""
    import multiprocessing
    import os
    import signal

    from casework.bundle import Limits
    from casework.bundle_remote import open_bundle
    from casework.redact import RedactionPolicy, Redactor
    from casework.scan.executors import run_local
    from casework.scan.plan import Settings, plan

    settings = Settings(b"k" * 32, RedactionPolicy(), "UTC", False, tmp_path / "parts", CHUNK)
    killed: list[int] = []

    def done(task: object, result: object) -> None:
        for child in multiprocessing.active_children():
            if not killed:
                os.kill(child.pid or 0, signal.SIGKILL)
                killed.append(child.pid or 0)

    with open_bundle(bundle, tmp_path / "work", Limits(), ()) as opened:
        tasks = plan(list(opened.members()), settings, Redactor(b"k" * 32, RedactionPolicy())).tasks
        results = run_local(tasks, 2, done, min_bytes=0)
    assert killed
    assert [r.index for r in results] == [t.index for t in tasks]
    lost = [r for r in results if r.stopped]
    assert len(lost) == 1 and "ended abruptly" in (lost[0].stopped or "")
    assert lost[0].records == 0 and not Path(lost[0].out).exists()
    split = next(t for t in tasks if t.index == lost[0].index)
    if split.parts > 1 and split.end is not None:  # later parts still get their real line numbers
        assert lost[0].lines == (bundle / split.name).read_bytes()[split.start : split.end].count(
            b"\n"
        )
    assert all(r.records > 0 for r in results if not r.stopped)


def test_a_task_whose_dask_workers_die_is_reported_and_the_rest_is_scanned(
    bundle: Path, tmp_path: Path
) -> None:
    """On a real cluster of worker processes, one task kills every worker that runs it (as a
    file too big for a worker's memory would): the scheduler retries it, then gives up; that
    task is reported as not read, with what to do, and every other task is scanned."""
    import os
    import signal

    import dask
    from distributed import Client, LocalCluster
    from distributed.diagnostics.plugin import WorkerPlugin

    from casework.bundle import Limits
    from casework.bundle_remote import open_bundle
    from casework.redact import RedactionPolicy, Redactor
    from casework.scan.executors import run_dask
    from casework.scan.plan import Settings, plan

    settings = Settings(b"k" * 32, RedactionPolicy(), "UTC", False, tmp_path / "parts", CHUNK)
    with open_bundle(bundle, tmp_path / "work", Limits(), ()) as opened:
        tasks = plan(list(opened.members()), settings, Redactor(b"k" * 32, RedactionPolicy())).tasks
    victim = next(t for t in tasks if t.parts > 1 and t.part > 0)

    class KillOnVictim(WorkerPlugin):
        """Every worker (restarted ones too) dies as soon as it starts the victim's task."""

        def setup(self, worker: object) -> None:
            import casework.scan.worker as module

            original = module.scan

            def scan(task: Any) -> Any:
                if task.index == victim.index:
                    os.kill(os.getpid(), signal.SIGKILL)
                return original(task)

            module.scan = scan

    reported: list[int] = []
    with (
        # One task per worker at a time, so a death implicates only the task that caused it.
        dask.config.set({
            "distributed.scheduler.allowed-failures": 1,
            "distributed.scheduler.worker-saturation": 1.0,
        }),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
            silence_logs=50,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        client.register_plugin(KillOnVictim())
        results = run_dask(
            tasks, cluster.scheduler_address, 2, lambda t, r: reported.append(t.index)
        )
    assert sorted(reported) == [t.index for t in tasks]
    assert [r.index for r in results] == [t.index for t in tasks]
    lost = [r for r in results if r.stopped]
    assert [r.index for r in lost] == [victim.index]
    assert "ended abruptly" in (lost[0].stopped or "") and "Dask workers" in (lost[0].stopped or "")
    assert lost[0].records == 0 and not Path(lost[0].out).exists()
    assert lost[0].lines == (bundle / victim.name).read_bytes()[victim.start : victim.end].count(
        b"\n"
    )
    assert all(r.records > 0 for r in results if not r.stopped)


def test_largest_tasks_run_first_and_compressed_files_count_expanded() -> None:
    from dataclasses import replace

    from casework.redact import RedactionPolicy
    from casework.scan.executors import largest_first
    from casework.scan.task import ScanTask

    base = ScanTask(
        index=0, file="f", name="f", disk="/b/f.log", size=0, kind="jsonl", part=0, parts=1,
        start=0, end=None, key=b"k" * 32, policy=RedactionPolicy(), tz="UTC", tz_given=False,
        year=None, out="/o",
    )  # fmt: skip
    tasks = [
        replace(base, index=0, disk="/b/small.log", size=10 << 20),
        replace(base, index=1, disk="/b/old.log.1.gz", size=8 << 20),  # ~48 MiB to read
        replace(base, index=2, disk="/b/big.log", size=90 << 20, part=0, parts=2, start=0, end=40 << 20),
        replace(base, index=3, disk="/b/big.log", size=90 << 20, part=1, parts=2, start=40 << 20, end=90 << 20),
    ]  # fmt: skip
    assert [t.index for t in largest_first(tasks)] == [3, 1, 2, 0]


def test_part_size_follows_the_bundle_not_the_workers() -> None:
    from casework.scan.plan import CHUNK_BYTES, MIN_CHUNK_BYTES, chunk_for

    assert chunk_for(0) == MIN_CHUNK_BYTES
    assert chunk_for(400 << 20) == 25 << 20  # ~16 parts of a mid-sized bundle
    assert chunk_for(10 << 30) == CHUNK_BYTES
    sizes = [chunk_for(n << 20) for n in range(0, 4096, 64)]
    assert sizes == sorted(sizes)
