"""Benchmark: a whole investigation of a 1M-line, 30-day bundle, with per-analyzer times.

    .venv/bin/python bench/investigate.py [--lines 1000000] [--dir /tmp/casework-bench-investigate]

The bundle is case 2 of issue 5 (rotated logfmt payment logs over 30 days
with a release that breaks two merchant category codes, a daily burst of
timeouts, a releases file), generated once into ``--dir`` and reused. It
prints the total time, the split between ingest (+ ranking and rendering)
and analysis, every analyzer's time from ``Investigation.runs``, and the
rank-1 finding, so a run that is fast but wrong is visible too.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

# bench/ holds scripts, not modules: a script named like a stdlib module (queue.py) must not
# shadow it, so this directory leaves the path; the test generators join it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from casework.case import Case  # noqa: E402
from casework.engine import load_analyzers, run_analyzers  # noqa: E402
from casework.pipeline import investigate  # noqa: E402
from casework.rank import rank  # noqa: E402
from generators import payments  # noqa: E402

#: Payments per second that give about this many lines over 30 days (with the daily cycle).
LINES_PER_RATE = 1_000_000 / 0.65


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "casework-bench-investigate"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--analyze-only", action="store_true", help="re-run the analyzers on the last case store"
    )
    args = parser.parse_args()
    if args.analyze_only:
        analyze_only(args.dir / "out" / "case.duckdb")
        return
    bundle = args.dir / f"bundle-{args.lines}-{args.seed}"
    if not bundle.exists():
        started = time.perf_counter()
        truth = payments.generate(bundle, args.seed, rate=args.lines / LINES_PER_RATE)
        print(f"generated in {time.perf_counter() - started:.1f} s: {truth}")
    files = [p for p in bundle.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    out = args.dir / "out"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = investigate(bundle, out)
    total = time.perf_counter() - started
    records = sum(e.records for e in result.inventory)
    analysis = sum(r.seconds for r in result.runs)
    print(f"bundle: {len(files)} files, {size / 1e6:.1f} MB, {records:,} records")
    print(
        f"total {total:.1f} s = ingest+rank+render {total - analysis:.1f} s + analyzers {analysis:.1f} s"
    )
    for r in sorted(result.runs, key=lambda r: -r.seconds):
        if r.seconds >= 0.01 or r.status == "error":
            print(
                f"  {r.key:<22} {r.status:<8} {r.seconds:7.2f} s  {r.findings} findings {r.reason}"
            )
    top = result.findings[0] if result.findings else None
    print("rank 1:", top.title if top else "(none)")


def analyze_only(path: Path) -> None:
    """Time the analyzers and ranking alone on an existing case store (ingest excluded).

    Each analyzer runs on its own, timed in process CPU seconds (every DuckDB
    thread counted) as well as wall seconds, so figures from a machine shared
    with other work compare.
    """
    case = Case.open(str(path))
    findings = []
    timed = []
    for a in load_analyzers():
        cpu, wall = time.process_time(), time.perf_counter()
        found, runs = run_analyzers(case, [a])
        timed.append((time.process_time() - cpu, time.perf_counter() - wall, runs[0]))
        findings += found
    cpu, wall = time.process_time(), time.perf_counter()
    ranked = rank(findings)
    rank_cpu = time.process_time() - cpu
    total_cpu = sum(t[0] for t in timed)
    total_wall = sum(t[1] for t in timed)
    print(f"{case.count('events'):,} events; ranking {rank_cpu:.2f} s CPU")
    print(f"all {len(timed)} analyzers: {total_cpu:.2f} s CPU, {total_wall:.2f} s wall")
    for c, w, r in sorted(timed, key=lambda t: -t[0]):
        if c >= 0.01 or r.status == "error":
            print(
                f"  {r.key:<22} {r.status:<8} {c:6.2f} s CPU {w:6.2f} s wall  {r.findings} findings {r.reason}"
            )
    print("rank 1:", ranked[0].title if ranked else "(none)")


if __name__ == "__main__":
    main()
