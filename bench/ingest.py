"""Ingest throughput: MB/s per core of mixed JSON-lines and text logs, end to end, and where the time goes.

Generates a mixed bundle (JSON lines with nested fields and HTTP attributes,
a logback-style Java log with stack traces, an nginx access log), then
measures, on the same files and in one run:

  parse only       the format parsers alone (CPU seconds)
  scan             what a scan worker runs per file: parse, redact, mine, build rows,
                   write Parquet (CPU seconds), and where that time goes (cProfile)
  investigate      ``casework investigate`` (the installed script, in its own process)
                   with one worker and with all cores: the read (scan) and the merge into
                   DuckDB (the ingest), then the analysis, from its inventory's phases

With ``--compiled VENV`` (a venv made by ``scripts/build-compiled.sh``), the scan and each
investigation run with that build too, alternating with this one, so the two are compared
side by side on the same machine minutes.

Usage: ``python -P bench/ingest.py [--mb 200] [--keep DIR] [--compiled .venv-compiled]``
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from casework.formats import sniff
from casework.formats.base import ParseContext
from casework.redact import RedactionPolicy
from casework.scan.task import ScanTask
from casework.scan.worker import scan

ROUTES = ["/v1/orders", "/v1/refunds", "/v1/customers/{id}", "/healthz", "/v1/items"]


def generate(root: Path, megabytes: int, seed: int = 7) -> None:
    """About ``megabytes`` MB of logs: 55% JSON lines, 25% Java text log, 20% nginx access log."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    budget = megabytes * 1_000_000
    with (root / "api.jsonl").open("w") as fh:
        t, written = t0, 0
        while written < budget * 0.55:
            t += timedelta(milliseconds=rng.randint(1, 40))
            status = rng.choice([200] * 30 + [201, 404, 500])
            line = json.dumps({
                "@timestamp": t.isoformat().replace("+00:00", "Z"), "log.level": rng.choice(["INFO"] * 8 + ["WARN", "ERROR"]),
                "message": f"handled {rng.choice(['POST', 'GET'])} {rng.choice(ROUTES)} for account a-{rng.randint(1, 90000)} in {rng.randint(1, 900)} ms",
                "service": {"name": "api", "version": "2.14.3"}, "http": {"method": "POST", "route": rng.choice(ROUTES),
                "status_code": status}, "latency_ms": rng.randint(1, 900), "trace_id": f"{rng.getrandbits(128):032x}",
                "account": {"id": f"a-{rng.randint(1, 90000)}", "created": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"},
            }) + "\n"  # fmt: skip
            fh.write(line)
            written += len(line)
    with (root / "service.log").open("w") as fh:
        t, written = t0, 0
        while written < budget * 0.25:
            t += timedelta(milliseconds=rng.randint(1, 60))
            level = rng.choice(["INFO"] * 12 + ["WARN", "ERROR"])
            line = (f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {level:5} [pool-{rng.randint(1, 8)}-thread-{rng.randint(1, 32)}] "
                    f"c.e.billing.LedgerService - posted entry {rng.getrandbits(40):x} amount={rng.randint(1, 99999) / 100} "
                    f"currency=EUR batch={rng.randint(1, 500)}\n")  # fmt: skip
            if level == "ERROR":
                line += "java.lang.IllegalStateException: ledger partition missing\n\tat c.e.billing.LedgerService.post(LedgerService.java:88)\n\tat c.e.billing.Worker.run(Worker.java:41)\n"
            fh.write(line)
            written += len(line)
    with (root / "access.log").open("w") as fh:
        t, written = t0, 0
        while written < budget * 0.20:
            t += timedelta(milliseconds=rng.randint(1, 40))
            line = (f'10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "{rng.choice(["GET", "POST"])} '
                    f'{rng.choice(ROUTES)}?page={rng.randint(1, 9)} HTTP/1.1" {rng.choice([200] * 20 + [304, 404, 502])} {rng.randint(100, 90000)} '
                    f'"-" "acme-sdk-python/2.{rng.randint(0, 9)}.1 CPython/3.11" {rng.randint(1, 900) / 1000:.3f}\n')  # fmt: skip
            fh.write(line)
            written += len(line)


def parse_seconds(files: list[Path]) -> float:
    """CPU seconds of the format parsers alone over ``files``."""
    started = time.process_time()
    for path in files:
        fmt, _ = sniff(path.open("rb").read(65536))
        assert fmt is not None, path
        with path.open("rb") as stream:
            for _record in fmt.parse(stream, ParseContext(str(path))):
                pass
    return time.process_time() - started


def scan_task(path: Path, out: Path) -> ScanTask:
    fmt, _ = sniff(path.open("rb").read(65536))
    assert fmt is not None, path
    return ScanTask(
        index=0, file=path.name, name=path.name, disk=str(path), size=path.stat().st_size,
        kind=fmt.kind, part=0, parts=1, start=0, end=None, key=b"k" * 32, policy=RedactionPolicy(),
        tz="UTC", tz_given=False, year=None, out=str(out),
    )  # fmt: skip


def scan_seconds(files: list[Path]) -> float:
    """CPU seconds of the scan tasks (what a worker runs) over ``files``, in this process."""
    scratch = Path(tempfile.mkdtemp(prefix="casework-scan-"))
    started = time.process_time()
    for i, path in enumerate(files):
        scan(scan_task(path, scratch / f"plain-{i}"))
    seconds = time.process_time() - started
    shutil.rmtree(scratch)
    return seconds


def scan_areas(files: list[Path], work: Path) -> dict[str, float]:
    """Where the scan's time goes, by area (cProfile own time, shares of the whole)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for i, path in enumerate(files):
        scan(scan_task(path, work / f"profiled-{i}"))
    profiler.disable()
    areas: dict[str, float] = {}
    for (filename, _, _), row in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        areas[_area(filename)] = areas.get(_area(filename), 0.0) + row[2]  # own time
    total = sum(areas.values())
    return {k: v / total for k, v in sorted(areas.items(), key=lambda kv: -kv[1])}


def _area(filename: str) -> str:
    for part, area in (
        ("casework/formats", "parse"), ("casework/timeparse", "parse"), ("casework/redact", "redact"),
        ("casework/mining", "mine"), ("casework/ingest", "rows"), ("casework/derive", "rows"),
        ("casework/store", "rows"), ("pyarrow", "parquet"),
    ):  # fmt: skip
        if part in filename:
            return area
    return "python builtins and C calls" if filename == "~" else "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--compiled", type=Path, help="a venv with the mypyc-compiled build")
    parser.add_argument("--scan-seconds", type=Path, help=argparse.SUPPRESS)  # see scan_cpu
    args = parser.parse_args()
    if args.scan_seconds is not None:
        print(json.dumps(scan_seconds(sorted(args.scan_seconds.iterdir()))))
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="casework-bench-"))
    bundle = work / "bundle"
    if not bundle.exists():
        generate(bundle, args.mb)
    files = sorted(bundle.iterdir())
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"bundle: {size:.0f} MB in {len(files)} files ({', '.join(f.name for f in files)})")
    builds = {"source": Path(sys.executable).parent}
    if args.compiled is not None:
        builds["compiled"] = args.compiled.resolve() / "bin"
    parsing = parse_seconds(files)
    scratch = Path(tempfile.mkdtemp(prefix="casework-scan-"))
    areas = scan_areas(files, scratch)
    shutil.rmtree(scratch)
    print(f"{'parse only':36} {parsing:6.1f} CPU s  {size / parsing:6.1f} MB/s per core")
    for name, bin_dir in builds.items():
        scanning = scan_cpu(bin_dir, bundle)
        print(
            f"{'scan (parse, redact, mine, rows)':36} {scanning:6.1f} CPU s "
            f" {size / scanning:6.1f} MB/s per core  [{name}]"
        )
    print(
        "  scan time by area (cProfile own time, source build): "
        + ", ".join(f"{k} {v:.0%}" for k, v in areas.items())
    )
    for label, workers in (("one worker", 1), ("all cores", os.cpu_count() or 1)):
        for name, bin_dir in builds.items():
            shutil.rmtree(work / "case", ignore_errors=True)
            run = investigate_cli(bin_dir / "casework", bundle, work / "case", workers)
            read, merge, analysis = (run["phases"][k] for k in ("read", "merge", "analysis"))
            print(
                f"investigate, {label} ({workers}) [{name}]: ingest {read + merge:5.1f} s wall ="
                f" {size / (read + merge):5.1f} MB/s (read {read:.1f} s, merge into DuckDB"
                f" {merge:.1f} s); whole run {run['seconds']:.1f} s, analysis {analysis:.1f} s"
            )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of one casework process {peak:.0f} MiB; cores {os.cpu_count()}")
    if args.keep is None:
        shutil.rmtree(work)


def scan_cpu(bin_dir: Path, bundle: Path) -> float:
    """CPU seconds of the scan tasks under the build whose scripts are in ``bin_dir``: this
    script again, by that build's Python, so each build is timed in a process of its own."""
    command = [str(bin_dir / "python"), "-P", __file__, "--scan-seconds", str(bundle)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds: float = json.loads(done.stdout)
    return seconds


def investigate_cli(script: Path, bundle: Path, out: Path, workers: int) -> dict[str, Any]:
    """``casework investigate`` run as a user runs it, by an installed script in its own
    process (pool workers import their parent's ``__main__`` again, so a run from this
    script would time this script's imports), and its inventory: phases and seconds."""
    command = [
        str(script),
        "investigate",
        str(bundle),
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"casework investigate failed ({done.returncode}): {done.stderr[-2000:]}")
    inventory: dict[str, Any] = json.loads((out / "inventory.json").read_text())
    return inventory


if __name__ == "__main__":
    main()
