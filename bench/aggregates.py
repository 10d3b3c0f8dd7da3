"""Scan-time aggregates: what the aggregate step costs a scan task, and how small its output is.

On the mixed bundle of ``bench/ingest.py`` (generated, or an existing one via
``--bundle``), runs each file as one scan task (``scan_task`` there), best of
``--repeat`` interleaved runs (CPU seconds), with the aggregate step and without it (the worker's
``aggregate`` replaced by a no-op), and the aggregate step alone on the
finished parts. Prints milliseconds per 100k events and rows and bytes of each
aggregate next to the rows and bytes of the parts it is made from. Usage:

  python -P bench/aggregates.py [--bundle /tmp/bench-ingest/bundle] [--mb 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from unittest import mock

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from casework.scan import worker
from casework.scan.aggregates import AGGREGATES, aggregate
from ingest import generate, scan_task


def _cpu(run: Callable[[], object]) -> float:
    # CPU seconds, not wall: the machine is shared, and a task's step runs in its own thread.
    started = time.process_time()
    run()
    return time.process_time() - started


def _skip(out: Path) -> None:
    """The aggregate step left out."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--mb", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="casework-bench-agg-"))
    bundle = args.bundle
    if bundle is None:
        bundle = work / "bundle"
        generate(bundle, args.mb)
    files = sorted(p for p in bundle.iterdir() if p.is_file())
    con = duckdb.connect()
    total = {"events": 0, "with": 0.0, "without": 0.0, "step": 0.0}
    print(f"{'file':<14}{'events':>10}{'scan s':>9}{'no-agg s':>10}{'step s':>8}{'ms/100k':>9}")
    for path in files:
        out = work / path.name

        def scan(out: Path = out, path: Path = path) -> None:
            shutil.rmtree(out, ignore_errors=True)
            worker.scan(scan_task(path, out))

        withs, withouts = [], []
        for _ in range(args.repeat):  # interleaved, so a busy spell on the machine hits both
            withs.append(_cpu(scan))
            with mock.patch.object(worker, "aggregate", _skip):
                withouts.append(_cpu(scan))
        with_step, without = min(withs), min(withouts)
        scan()
        step = min(_cpu(partial(aggregate, out)) for _ in range(args.repeat))
        events = con.execute(f"SELECT count(*) FROM '{out}/events.parquet'").fetchone()
        n = events[0] if events else 0
        total["events"] += n
        total["with"] += with_step
        total["without"] += without
        total["step"] += step
        print(
            f"{path.name:<14}{n:>10}{with_step:>9.2f}{without:>10.2f}{step:>8.3f}"
            f"{step / max(n, 1) * 1e5 * 1e3:>9.1f}"
        )
        for name, (table, _) in AGGREGATES.items():
            source, made = out / f"{table}.parquet", out / f"{name}.parquet"
            if not made.exists():
                continue
            rows = [
                r[0] if r else 0
                for r in (
                    con.execute(f"SELECT count(*) FROM '{p}'").fetchone() for p in (source, made)
                )
            ]
            print(
                f"    {name:<13} {rows[1]:>9} rows ({rows[1] / max(rows[0], 1):.3f} of {table}),"
                f" {made.stat().st_size / max(source.stat().st_size, 1):.4f} of its bytes"
            )
    n = max(int(total["events"]), 1)
    print(
        f"total: {total['events']} events; scan {total['with']:.2f} s with the step,"
        f" {total['without']:.2f} s without (+{(total['with'] / total['without'] - 1) * 100:.1f}%);"
        f" the step alone {total['step'] * 1e3:.0f} ms = {total['step'] / n * 1e8:.1f} ms per 100k events"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
