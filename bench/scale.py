"""Scan scaling: one bundle investigated with local on 1 core, local on all cores, and Dask.

Generates a bundle of gzip-rotated daily JSON logs and a large plain nginx access
log (cut into parts by the scan) over ``--days`` days, and a releases file,
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
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROUTES = ["/api/orders", "/api/export", "/api/users", "/api/cart", "/healthz"]


def generate(root: Path, gigabytes: float, days: int, seed: int = 11) -> None:
    """About ``gigabytes`` GB of logs before compression: 60% JSON lines, 40% nginx.

    Lines are built a day at a time from numpy arrays (the 10 GB bundle is 60M+ lines;
    one ``json.dumps`` per line would take an hour). The JSON values need no escaping.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    (root / "releases.csv").write_text(
        "time,service,version\n"
        + "".join(f"{start + timedelta(days=d):%Y-%m-%dT%H:%M:%SZ},api,3.{d // 30}.0\n"
                  for d in range(0, days, 30))
        + f"{start + timedelta(days=days - 3, hours=9):%Y-%m-%dT%H:%M:%SZ},export-svc,4.2.0\n"
    )  # fmt: skip
    incident_ms = int((timedelta(days=days - 3, hours=9, minutes=12)).total_seconds() * 1000)
    per_day = gigabytes * 1e9 / days
    n = int(per_day / 262)  # a JSON line (~160 bytes) and its nginx line (~100) together
    clock = [f"{h:02d}:{m:02d}:{s_:02d}" for h in range(24) for m in range(60) for s_ in range(60)]
    statuses = np.array([200] * 50 + [404, 502])
    access = root / "nginx" / "access.log"
    access.parent.mkdir()
    (root / "api").mkdir()
    with access.open("w") as nginx:
        for d in range(days):
            day = start + timedelta(days=d)
            ms = np.sort(rng.integers(0, 86_400_000, n)) + d * 86_400_000
            stamps = np.datetime_as_string(
                np.datetime64("2026-01-01T00:00:00.000") + ms.astype("timedelta64[ms]"), unit="ms"
            )
            route = rng.integers(0, len(ROUTES), n)
            status = statuses[rng.integers(0, len(statuses), n)]
            failing = (
                (ms >= incident_ms) & (route == ROUTES.index("/api/export")) & (rng.random(n) < 0.7)
            )
            status[failing] = 500
            latency, tenant, ids = (
                rng.integers(2, 901, n),
                rng.integers(1, 301, n),
                rng.integers(0, 2**32, n),
            )
            lines = [
                f'{{"ts": "{ts}Z", "level": "{"error" if st >= 500 else "info"}", "msg": "'
                f'{"export failed: quota exceeded" if bad else "handled request"} {i:08x}", "route": "{ROUTES[r]}", '
                f'"status": {st}, "latency_ms": {lat}, "tenant": "t{tn}"}}'
                for ts, st, bad, i, r, lat, tn in zip(stamps.tolist(), status.tolist(), failing.tolist(), ids.tolist(),
                                                       route.tolist(), latency.tolist(), tenant.tolist(), strict=True)
            ]  # fmt: skip
            with gzip.open(root / "api" / f"api.log.{days - d}.gz", "wt", compresslevel=1) as fh:
                fh.write("\n".join(lines) + "\n")
            date = f"{day:%d/%b/%Y}"
            octets = rng.integers(0, 256, (n, 3)).tolist()
            size, took = rng.integers(100, 9001, n).tolist(), rng.integers(1, 901, n).tolist()
            nginx.write("".join(
                f'10.{o[0] % 10}.{o[1]}.{o[2] or 1} - - [{date}:{clock[(m // 1000) % 86400]} +0000] "GET {ROUTES[r]} HTTP/1.1" '
                f'{st} {sz} "-" "app/1.0" {tk / 1000:.3f}\n'
                for o, m, r, st, sz, tk in zip(octets, ms.tolist(), route.tolist(), status.tolist(), size, took, strict=True)
            ))  # fmt: skip


def uncompressed_bytes(bundle: Path) -> int:
    """Bytes the scan reads: a gzip member's size from its trailer (files here are < 4 GiB)."""
    total = 0
    for f in bundle.rglob("*"):
        if f.is_file() and f.suffix == ".gz":
            with f.open("rb") as fh:
                fh.seek(-4, 2)
                total += int.from_bytes(fh.read(4), "little")
        elif f.is_file():
            total += f.stat().st_size
    return total


def run(
    bundle: Path, out: Path, args: list[str]
) -> tuple[float, float, float, str, dict[str, float]]:
    """Wall seconds, peak RSS in MiB of the coordinator and of the largest worker process
    (local pool; Dask's workers are the scheduler's children, not measured), the findings
    JSON, and the seconds per phase (read, merge, analysis) from inventory.json."""
    code = (
        "import resource, sys, time, json; from casework.cli import main; t=time.perf_counter()\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps({'wall': time.perf_counter()-t, 'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024,"
        " 'workers': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024}))"
    )
    # "1 core" means the whole process tree on one CPU (DuckDB's merge threads included).
    pin = ["taskset", "-c", "0"] if args == RUNS["local-1"] and shutil.which("taskset") else []
    proc = subprocess.run(
        [*pin, sys.executable, "-P", "-c", code, "investigate", str(bundle), "--out", str(out), "-q", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    findings = json.loads((out / "findings.json").read_text())
    findings.pop("runs", None)
    phases = json.loads((out / "inventory.json").read_text())["phases"]
    return (
        stats["wall"],
        stats["rss"],
        stats["workers"],
        json.dumps(findings["findings"], sort_keys=True),
        phases,
    )


RUNS = {
    "local-1": ["--workers", "1"],
    "local-2": ["--workers", "2"],
    "dask-2": ["--executor", "dask", "--workers", "2"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=10.0)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--only", nargs="*", choices=list(RUNS), default=list(RUNS))
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="casework-scale-"))
    bundle = work / "bundle"
    if not bundle.exists():
        started = time.perf_counter()
        generate(bundle, args.gb, args.days)
        print(f"generated in {time.perf_counter() - started:.0f} s")
    disk = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file())
    raw = uncompressed_bytes(bundle)  # what the scan reads; throughput is given in these bytes
    print(
        f"bundle: {raw / 1e9:.2f} GB of logs ({disk / 1e9:.2f} GB on disk), "
        f"{sum(1 for f in bundle.rglob('*') if f.is_file())} files"
    )
    results: dict[str, tuple[float, float, str, dict[str, float]]] = {}
    for name in args.only:
        out = work / name
        shutil.rmtree(out, ignore_errors=True)
        wall, rss, worker_rss, findings, phases = run(bundle, out, RUNS[name])
        (work / f"{name}.findings.json").write_text(findings)
        (work / f"{name}.run.json").write_text(json.dumps([wall, rss, worker_rss, phases]))
        print(
            f"{name:8} {wall:8.1f} s wall  {raw / 1e6 / wall:7.1f} MB/s  coordinator peak {rss:6.0f} MiB"
            f"  largest worker {worker_rss:6.0f} MiB  "
            + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()),
            flush=True,
        )
    # Runs of earlier invocations on the same --keep folder count too (a 10 GB set takes hours).
    for name in RUNS:
        done = work / f"{name}.run.json"
        if done.exists():
            wall, rss, _, *phases = json.loads(done.read_text())
            findings = (work / f"{name}.findings.json").read_text()
            results[name] = (wall, rss, findings, phases[0] if phases else {})
    if "local-1" not in results or "local-2" not in results:
        return
    one, two = results["local-1"][0], results["local-2"][0]
    print(f"scaling 1 -> 2 cores: {one / two:.2f}x")
    same = len({r[2] for r in results.values()}) == 1
    print(f"identical findings across executors: {same}")
    # The scan spreads over the workers; the merge into one case file runs in the coordinator.
    read_one = results["local-1"][3].get("read", one)
    per_core = raw / read_one
    tb_hours = 1e12 / (per_core * 32) / 3600
    print(
        f"projection: 1 TB on 32 workers, reading at {per_core / 1e6:.1f} MB/s per worker"
        f" (the one-core run's read phase) = {tb_hours:.1f} h of scan"
    )
    merge_two = results["local-2"][3].get("merge")
    if merge_two:
        merge_hours = 1e12 / (raw / merge_two) / 3600
        print(
            f"  plus the merge into one case file in the coordinator: {merge_hours:.1f} h at the"
            f" 2-core run's rate ({raw / merge_two / 1e6:.0f} MB of logs per s), if it holds at"
            " that size; DuckDB's insert uses the coordinator's cores, not the workers'"
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
