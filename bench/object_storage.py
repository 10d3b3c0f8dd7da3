"""Object storage: one bundle investigated from a local folder and from an S3 endpoint, side by side.

Generates the bundle of ``bench/scale.py`` (gzip-rotated daily JSON logs and a
large plain nginx log that the scan cuts into parts), uploads it to a local S3
endpoint (moto's server, in this process), then runs ``casework investigate``
on the folder and on ``s3://bench/bundle/`` with the same workers and prints
wall time, throughput and whether the findings are identical. Usage:

  python -P bench/object_storage.py --gb 0.1 [--days 20] [--workers 2]

The S3 endpoint is on loopback, so this measures casework's remote reading
(fsspec, ranged parts, streaming decompression), not a network.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import fsspec
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import generate


def run(source: str, out: Path, args: list[str]) -> tuple[float, str]:
    """Wall seconds of ``casework investigate`` in a fresh process, and its findings as JSON."""
    code = "import sys; from casework.cli import main; main(sys.argv[1:])"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-P", "-c", code, "investigate", source, "--out", str(out), "-q", *args],
        check=True, capture_output=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    findings = json.loads((out / "findings.json").read_text())["findings"]
    return wall, json.dumps(findings, sort_keys=True)


def store_digest(case: Path) -> list[tuple[int, int]]:
    """Row count and an order-free hash of the rows of the main tables (``files.sha256`` left out)."""
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    con.execute("SET enable_progress_bar = false")
    digest = []
    for table, columns in (("events", "*"), ("requests", "*"), ("templates", "*"),
                           ("files", "* EXCLUDE (sha256)")):  # fmt: skip
        query = f"SELECT count(*), sum(hash(t::VARCHAR)::HUGEINT) FROM (SELECT {columns} FROM {table}) t"
        count, total = con.execute(query).fetchone() or (0, 0)
        digest.append((int(count), int(total or 0)))
    con.close()
    return digest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="casework-objstore-"))
    bundle = work / "bundle"
    generate(bundle, args.gb, args.days)
    files = [f for f in bundle.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    print(f"bundle: {size / 1e6:.1f} MB on disk in {len(files)} files")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "key": "bench",
        "secret": "bench-secret",
        "client_kwargs": '{"region_name": "eu-west-1"}',
    }
    try:
        fs = fsspec.filesystem("s3", **{k: v for k, v in options.items() if k != "client_kwargs"},
                               client_kwargs={"region_name": "eu-west-1"})  # fmt: skip
        fs.mkdir("bench")
        started = time.perf_counter()
        for f in files:
            fs.pipe(f"bench/bundle/{f.relative_to(bundle).as_posix()}", f.read_bytes())
        print(f"uploaded in {time.perf_counter() - started:.1f} s (not counted)")
        workers = ["--workers", str(args.workers)]
        storage = [a for k, v in options.items() for a in ("--storage-option", f"{k}={v}")]
        results: dict[str, tuple[float, str, list[tuple[int, int]]]] = {}
        for name, source, extra in (
            ("local", str(bundle), workers),
            ("s3", "s3://bench/bundle/", workers + storage),
        ):
            out = work / name
            wall, findings = run(source, out, extra)
            results[name] = (wall, findings, store_digest(out))
            print(f"{name:6} {wall:7.1f} s wall  {size / 1e6 / wall:6.1f} MB/s of on-disk bytes")
        ratio = results["s3"][0] / results["local"][0]
        print(f"s3 / local wall: {ratio:.2f}x")
        print(f"identical case store (events, requests, templates, files): "
              f"{results['s3'][2] == results['local'][2]}")  # fmt: skip
        # Findings can differ in a p-value's last digit run to run on one store (analyzer float order).
        print(f"identical findings: {results['s3'][1] == results['local'][1]}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
