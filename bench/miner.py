"""Benchmark of casework's template miner against Drain3 0.9.11: accuracy and throughput.

Accuracy: the 16 Loghub-2k datasets, input = the ``Content`` column of the
structured CSV, predictions written as ``LineId,EventTemplate`` CSVs and scored
by ../shared/bench/loghub_eval.py (``--gt loghub2 --fallback-gt corrected``).
Drain3 runs with its defaults and with a generic mask set (the one in
Drain3's own example config, minus its demo-specific "executed cmd" rule).

Throughput: a file of ``--lines`` lines made by repeating the 16 datasets'
contents with every digit re-drawn at random, so lines are mostly unique.
Each miner runs in a fresh process on one core; lines per CPU-second come
from ``time.process_time`` around the read-and-mine loop, memory from
``ru_maxrss`` at 10 %, 50 % and 100 % of the file. All-core lines/s: one
miner per core, each on a contiguous chunk of the file, wall clock.

    .venv/bin/python bench/miner.py [--lines 1000000] [--skip-speed] [--skip-accuracy]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ is first on sys.path, and a module there named like
# a standard one (queue.py) would shadow it here and in the spawned workers.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import csv
import itertools
import json
import logging
import multiprocessing
import os
import random
import re
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from drain3 import TemplateMiner as DrainMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

from casework.mining import TemplateMiner

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
LOGHUB = SHARED / "data" / "loghub2k"
EVALUATOR = SHARED / "bench" / "loghub_eval.py"
DATASETS = [
    "Android",
    "Apache",
    "BGL",
    "HDFS",
    "HPC",
    "Hadoop",
    "HealthApp",
    "Linux",
    "Mac",
    "OpenSSH",
    "OpenStack",
    "Proxifier",
    "Spark",
    "Thunderbird",
    "Windows",
    "Zookeeper",
]
METRICS = ("GA", "FGA", "PA", "FTA")
_B = r"((?<=[^A-Za-z0-9])|^)"
_E = r"((?=[^A-Za-z0-9])|$)"
DRAIN_MASKS = [  # Drain3's example drain3.ini
    (_B + r"(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))" + _E, "ID"),
    (_B + r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})" + _E, "IP"),
    (_B + r"([0-9a-f]{6,} ?){3,}" + _E, "SEQ"),
    (_B + r"([0-9A-F]{4} ?){4,}" + _E, "SEQ"),
    (_B + r"(0x[a-f0-9A-F]+)" + _E, "HEX"),
    (_B + r"([\-\+]?\d+)" + _E, "NUM"),
]
MINERS = ("casework", "drain3", "drain3+masks")


class Drain:
    """Drain3 behind the same two calls the benchmark makes on casework's miner."""

    def __init__(self, masked: bool) -> None:
        logging.disable(logging.CRITICAL)  # Drain3 logs every new cluster at INFO
        config = TemplateMinerConfig()
        if masked:
            config.masking_instructions = [MaskingInstruction(p, m) for p, m in DRAIN_MASKS]
        self.miner = DrainMiner(config=config)

    def add(self, message: str) -> int:
        return int(self.miner.add_log_message(message)["cluster_id"])

    def text(self, cid: int) -> str:
        return str(self.miner.drain.id_to_cluster[cid].get_template())


class Casework:
    def __init__(self) -> None:
        self.miner = TemplateMiner()

    def add(self, message: str) -> int:
        return self.miner.add(message)

    def text(self, cid: int) -> str:
        return self.miner.template(cid).text


def make(name: str) -> Casework | Drain:
    return Casework() if name == "casework" else Drain(masked=name.endswith("masks"))


def structured(dataset: str) -> Path:
    path = LOGHUB / dataset / f"{dataset}_2k.log_structured_loghub2.csv"
    return (
        path if path.exists() else LOGHUB / dataset / f"{dataset}_2k.log_structured_corrected.csv"
    )


def contents(dataset: str) -> list[tuple[str, str]]:
    with structured(dataset).open(encoding="utf-8") as fh:
        return [(row["LineId"], row["Content"]) for row in csv.DictReader(fh)]


# -- accuracy --------------------------------------------------------------
def accuracy(workdir: Path) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name in MINERS:
        pred_dir = workdir / name
        pred_dir.mkdir()
        for dataset in DATASETS:
            rows = contents(dataset)
            miner = make(name)
            cids = [miner.add(content) for _, content in rows]
            with (pred_dir / f"{dataset}.csv").open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["LineId", "EventTemplate"])
                writer.writerows(
                    (lid, miner.text(cid)) for (lid, _), cid in zip(rows, cids, strict=True)
                )
        out = workdir / f"{name}.json"
        subprocess.run(
            [
                sys.executable,
                str(EVALUATOR),
                "--data",
                str(LOGHUB),
                "--pred-dir",
                str(pred_dir),
                "--gt",
                "loghub2",
                "--fallback-gt",
                "corrected",
                "--json",
                str(out),
                "--quiet",
            ],
            check=True,
        )
        results[name] = json.loads(out.read_text())
    return results


def print_accuracy(results: dict[str, dict[str, Any]]) -> None:
    head = f"{'dataset':<12}" + "".join(f" | {name:^27}" for name in MINERS)
    sub = f"{'':<12}" + " | ".join(["", *(" ".join(f"{m:>6}" for m in METRICS),) * 3])
    print(head, sub, "-" * len(sub), sep="\n")
    per = {name: {r["dataset"]: r for r in res["results"]} for name, res in results.items()}
    for dataset in [*DATASETS, "Average"]:
        cells = []
        for name in MINERS:
            row = results[name]["average"] if dataset == "Average" else per[name][dataset]
            cells.append(" ".join(f"{row[m]:>6.3f}" for m in METRICS))
        print(f"{dataset:<12} | " + " | ".join(cells))
    worst = min(per["casework"].values(), key=lambda r: r["GA"])
    print(f"casework lowest GA: {worst['dataset']} {worst['GA']:.3f}")


# -- throughput --------------------------------------------------------------
def build_corpus(path: Path, lines: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    digit = re.compile(r"\d")
    bases = [digit.split(content) for ds in DATASETS for _, content in contents(ds)]
    with path.open("w", encoding="utf-8") as fh:
        for parts in itertools.islice(itertools.cycle(bases), lines):
            drawn = rng.choices("0123456789", k=len(parts) - 1)
            fh.write(
                "".join(itertools.chain.from_iterable(zip(parts, [*drawn, ""], strict=True))) + "\n"
            )


def read_chunk(path: Path, start: int, end: int) -> Iterator[str]:
    with path.open("rb") as fh:
        fh.seek(start)
        while fh.tell() < end:
            raw = fh.readline()
            if not raw:
                return
            yield raw.decode("utf-8", "replace").rstrip("\n")


def single_core(name: str, path: Path, total: int) -> dict[str, Any]:
    miner = make(name)
    marks = {total // 10: "rss_10pct_mb", total // 2: "rss_50pct_mb"}
    out: dict[str, Any] = {"miner": name}
    add: Callable[[str], int] = miner.add
    n = 0
    cpu = time.process_time()
    lines = itertools.islice(read_chunk(path, 0, path.stat().st_size), total)
    for n, line in enumerate(lines, 1):
        add(line)
        if n in marks:
            out[marks[n]] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["cpu_s"] = time.process_time() - cpu
    out["lines"] = n
    out["rss_100pct_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["lines_per_cpu_s"] = n / out["cpu_s"]
    if isinstance(miner, Casework):
        out["templates"] = len(miner.miner.templates())
    return out


def chunk_worker(path: Path, start: int, end: int) -> int:
    miner = TemplateMiner()
    return sum(1 for line in read_chunk(path, start, end) if miner.add(line) >= 0)


def all_cores(path: Path) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    size = path.stat().st_size
    bounds = [0]
    with path.open("rb") as fh:
        for i in range(1, cores):
            fh.seek(size * i // cores)
            fh.readline()
            bounds.append(fh.tell())
    bounds.append(size)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(cores, mp_context=spawn) as pool:
        pool.submit(int, 0).result()  # start-up is not mining time
        wall = time.perf_counter()
        counts = list(pool.map(chunk_worker, [path] * cores, bounds[:-1], bounds[1:]))
        wall = time.perf_counter() - wall
    return {"cores": cores, "lines": sum(counts), "wall_s": wall, "lines_per_s": sum(counts) / wall}


def throughput(workdir: Path, lines: int, drain_lines: int) -> None:
    path = workdir / "corpus.log"
    build_corpus(path, lines)
    spawn = multiprocessing.get_context("spawn")
    print("\nOne core, lines per CPU-second; RSS MB at 10/50/100 % of the lines", flush=True)
    base = 0.0
    for name in MINERS:
        total = lines if name == "casework" else drain_lines
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:  # fresh process: clean RSS
            run = pool.submit(single_core, name, path, total).result()
        base = base or run["lines_per_cpu_s"]
        print(
            f"{name:<14} {run['lines']:>9,} lines {run['lines_per_cpu_s']:>10,.0f} lines/CPU-s "
            f"({run['cpu_s']:.1f} s)  casework x{base / run['lines_per_cpu_s']:.1f}   "
            f"RSS {run['rss_10pct_mb']:.0f} / {run['rss_50pct_mb']:.0f} / {run['rss_100pct_mb']:.0f}"
            + (f"   templates {run['templates']}" if "templates" in run else ""),
            flush=True,
        )
    par = all_cores(path)
    print(
        f"casework on {par['cores']} cores: {par['lines_per_s']:,.0f} lines/s wall "
        f"({par['lines']:,} lines in {par['wall_s']:.1f} s, one miner per chunk)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--drain-lines",
        type=int,
        help="lines Drain3 mines (default: all; Drain3 slows as it grows, so fewer favours it)",
    )
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="casework-miner-bench-") as tmp:
        if not args.skip_accuracy:
            print_accuracy(accuracy(Path(tmp)))
        if not args.skip_speed:
            throughput(Path(tmp), args.lines, args.drain_lines or args.lines)


if __name__ == "__main__":
    main()
