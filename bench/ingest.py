"""Ingest throughput: MB/s per core of mixed JSON-lines and text logs, end to end, and where the time goes.

Generates a mixed bundle (JSON lines with nested fields and HTTP attributes,
a logback-style Java log with stack traces, an nginx access log), then
measures, on the same files and in one run:

  parse            the format parsers alone
  + redact         parsers plus the redactor on every string
  + mine           plus the template miner
  end to end       ``casework investigate`` (ingest, store, analyzers, reports)

and the peak memory of the end-to-end run. Usage:
  python bench/ingest.py [--mb 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.formats import sniff
from casework.formats.base import ParseContext
from casework.mining import TemplateMiner
from casework.model import LogRecord
from casework.pipeline import investigate
from casework.redact import Redactor

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


def stage_times(files: list[Path]) -> dict[str, float]:
    """CPU seconds for parse, parse+redact and parse+redact+mine over ``files``."""
    out: dict[str, float] = {}
    for stage in ("parse", "redact", "mine"):
        redactor = Redactor(b"k" * 32)
        miner = TemplateMiner()
        started = time.process_time()
        for path in files:
            head = path.open("rb").read(65536)
            fmt, _ = sniff(head)
            assert fmt is not None, path
            with path.open("rb") as stream:
                for rec in fmt.parse(stream, ParseContext(str(path))):
                    if stage == "parse" or not isinstance(rec, LogRecord):
                        continue
                    message = redactor.text(rec.message)
                    redactor.json(rec.attrs)
                    if stage == "mine":
                        miner.add(message)
        out[stage] = time.process_time() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="casework-bench-"))
    bundle = work / "bundle"
    if not bundle.exists():
        generate(bundle, args.mb)
    files = sorted(bundle.iterdir())
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"bundle: {size:.0f} MB in {len(files)} files ({', '.join(f.name for f in files)})")
    stages = stage_times(files)
    for name, label in (
        ("parse", "parse"),
        ("redact", "parse + redact"),
        ("mine", "parse + redact + mine"),
    ):
        print(f"{label:28} {stages[name]:7.1f} CPU s  {size / stages[name]:6.1f} MB/s per core")
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    result = investigate(bundle, work / "case")
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    ingest = sum(e.seconds for e in result.inventory)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'ingest (incl. store)':28} {ingest:7.1f} s      {size / ingest:6.1f} MB/s")
    print(f"{'end to end':28} {wall:7.1f} s wall, {cpu:.1f} CPU s  {size / wall:6.1f} MB/s")
    print(
        f"peak RSS {peak:.0f} MiB; analyzers {sum(r.seconds for r in result.runs):.1f} s; cores {os.cpu_count()}"
    )
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
