"""Scan scaling: one bundle investigated with local on 1 core, local on all cores, and Dask.

Generates a bundle of gzip-rotated daily JSON logs, a large plain nginx access
log (cut into parts by the scan) and a Java service log over ``--days`` days,
with one incident near the end (a route starts failing after a release), then
runs ``casework investigate`` three times and prints, for each run, the wall
time, the coordinating process's peak memory, the throughput, and whether the
findings are identical. Usage:

  python -P bench/scale.py --gb 1 [--days 180] [--keep DIR]

(``-P`` keeps ``bench/`` off ``sys.path``.) The projection for 1 TB on a
32-worker cluster assumes the measured per-core scan throughput holds per
worker and that reading from shared storage keeps up.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROUTES = ["/api/orders", "/api/export", "/api/users", "/api/cart", "/healthz"]


def generate(root: Path, gigabytes: float, days: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "releases.csv").write_text(
        "time,service,version\n"
        + "".join(f"{datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=d):%Y-%m-%dT%H:%M:%SZ},api,3.{d // 30}.0\n"
                  for d in range(0, days, 30))
        + f"{datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days - 3, hours=9):%Y-%m-%dT%H:%M:%SZ},export-svc,4.2.0\n"
    )  # fmt: skip
    incident = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days - 3, hours=9, minutes=12)
    per_day = int(gigabytes * 1e9 / days)
    access = (root / "nginx").joinpath("access.log")
    access.parent.mkdir()
    with access.open("w") as nginx:
        for d in range(days):
            day = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=d)
            written = 0
            t = day
            lines = []
            while written < per_day * 0.6:
                t += timedelta(milliseconds=rng.randint(5, 400))
                route = rng.choice(ROUTES)
                failing = t >= incident and route == "/api/export" and rng.random() < 0.7
                status = 500 if failing else rng.choice([200] * 50 + [404, 502])
                line = json.dumps({"ts": t.isoformat().replace("+00:00", "Z"), "level": "error" if status >= 500 else "info",
                                   "msg": f"{'export failed: quota exceeded' if failing else 'handled request'} {rng.getrandbits(32):08x}",
                                   "route": route, "status": status, "latency_ms": rng.randint(2, 900),
                                   "tenant": f"t{rng.randint(1, 300)}"})  # fmt: skip
                lines.append(line)
                written += len(line) + 1
                nginx.write(f'10.{rng.randint(0, 9)}.{rng.randint(0, 255)}.{rng.randint(1, 254)} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] '
                            f'"GET {route} HTTP/1.1" {status} {rng.randint(100, 9000)} "-" "app/1.0" {rng.randint(1, 900) / 1000:.3f}\n')  # fmt: skip
            name = root / "api" / f"api.log.{days - d}.gz"
            name.parent.mkdir(exist_ok=True)
            with gzip.open(name, "wt", compresslevel=1) as fh:
                fh.write("\n".join(lines) + "\n")


def run(bundle: Path, out: Path, args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, the coordinator's peak RSS in MiB, and the findings JSON (without timings)."""
    code = (
        "import resource, sys, time, json; from casework.cli import main; t=time.perf_counter()\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps({'wall': time.perf_counter()-t, 'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    proc = subprocess.run(
        [sys.executable, "-P", "-c", code, "investigate", str(bundle), "--out", str(out), "-q", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    findings = json.loads((out / "findings.json").read_text())
    findings.pop("runs", None)
    return stats["wall"], stats["rss"], json.dumps(findings["findings"], sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=10.0)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="casework-scale-"))
    bundle = work / "bundle"
    if not bundle.exists():
        started = time.perf_counter()
        generate(bundle, args.gb, args.days)
        print(f"generated in {time.perf_counter() - started:.0f} s")
    size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file())
    raw = size  # compressed size on disk; the scan reads more after decompression
    print(
        f"bundle: {raw / 1e9:.2f} GB on disk, {sum(1 for f in bundle.rglob('*') if f.is_file())} files"
    )
    results = {}
    for name, extra in (("local-1", ["--workers", "1"]), ("local-2", ["--workers", "2"]),
                        ("dask-2", ["--executor", "dask", "--workers", "2"])):  # fmt: skip
        out = work / name
        shutil.rmtree(out, ignore_errors=True)
        wall, rss, findings = run(bundle, out, extra)
        results[name] = (wall, rss, findings)
        print(
            f"{name:8} {wall:8.1f} s wall  {raw / 1e6 / wall:7.1f} MB/s  coordinator peak {rss:6.0f} MiB"
        )
    one, two = results["local-1"][0], results["local-2"][0]
    print(f"scaling 1 -> 2 cores: {one / two:.2f}x")
    same = len({r[2] for r in results.values()}) == 1
    print(f"identical findings across executors: {same}")
    per_core = raw / one
    tb_hours = 1e12 / (per_core * 32) / 3600
    print(
        f"projection: 1 TB on 32 workers at {per_core / 1e6:.1f} MB/s per worker = {tb_hours:.1f} h"
    )
    top = (
        json.loads(results["local-1"][2])[0]["title"]
        if json.loads(results["local-1"][2])
        else "(none)"
    )
    print(f"rank 1: {top}")
    print(
        f"(peak RSS of this bench process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
