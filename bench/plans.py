"""Query-plan throughput: reading and diagnosing plans, MySQL slow log parsing, fingerprinting (issue 8).

Usage: ``python bench/plans.py [--entries 200000] [--nodes 5000]``. Prints one
line per measurement; inputs are generated in memory, except the real plans
read from ``../shared/data/plans``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
from pathlib import Path

from casework.formats.base import ParseContext
from casework.formats.mysqlslow import parse as parse_slow
from casework.model import LogRecord
from casework.plans import diagnose
from casework.plans.fingerprint import fingerprint
from casework.plans.read import read_plans
from casework.plans.slowlog import aggregate, from_mysql_event

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "plans"


def _timed(label: str, fn: object, unit: str, count: float) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"{label:<48} {seconds:8.3f} s  {count / seconds:12,.0f} {unit}/s")
    return seconds


def corpus(repeat: int) -> None:
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.suffix != ".sql"]
    texts = [list(enumerate(p.read_text(encoding="utf-8").splitlines(), 1)) for p in files]

    def run() -> None:
        for _ in range(repeat):
            for lines in texts:
                for plan in read_plans(lines):
                    diagnose(plan)

    _timed(
        f"read+diagnose corpus ({len(files)} files) x{repeat}", run, "plans", len(files) * repeat
    )


def _node(rnd: random.Random, depth: int, budget: list[int]) -> dict[str, object]:
    budget[0] -= 1
    rows = rnd.randint(1, 100_000)
    node: dict[str, object] = {
        "Node Type": rnd.choice(["Seq Scan", "Hash Join", "Nested Loop", "Sort", "Index Scan"]),
        "Relation Name": f"t{rnd.randint(1, 50)}",
        "Plan Rows": rows,
        "Actual Rows": rows * rnd.choice([1, 1, 10, 100]),
        "Actual Loops": 1,
        "Actual Total Time": rnd.random() * 100,
        "Filter": "(a = 1)",
        "Rows Removed by Filter": rnd.randint(0, 10_000),
    }
    if depth < 12 and budget[0] > 0:
        node["Plans"] = [_node(rnd, depth + 1, budget) for _ in range(2) if budget[0] > 0]
    return node


def big_plan(nodes: int) -> None:
    doc = json.dumps([{"Plan": _node(random.Random(8), 0, [nodes]), "Execution Time": 5000.0}])
    lines = list(enumerate(doc.splitlines(), 1))
    holder: list[int] = []

    def run() -> None:
        for plan in read_plans(lines):
            holder.append(len(plan.nodes))
            diagnose(plan)

    _timed(f"read+diagnose one JSON plan (~{nodes} nodes)", run, "nodes", nodes)


def slow_log(entries: int) -> None:
    rnd = random.Random(3)
    parts = []
    for i in range(entries):
        parts.append(
            f"# Time: 2026-03-01T12:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.000000Z\n"
            f"# User@Host: app[app] @  [10.0.0.{i % 250}]  Id: {i}\n"
            f"# Query_time: {rnd.random() * 3:.6f}  Lock_time: 0.000010 Rows_sent: 1  "
            f"Rows_examined: {rnd.randint(1, 10**6)}\nSET timestamp={1772366400 + i};\n"
            f"SELECT * FROM orders WHERE customer_id = {rnd.randint(1, 10**6)} "
            f"AND status IN ('a', 'b', 'c') LIMIT {rnd.randint(1, 50)};\n"
        )
    raw = "".join(parts).encode()
    records: list[LogRecord] = []

    def parse() -> None:
        records.extend(parse_slow(io.BytesIO(raw), ParseContext("slow.log")))

    seconds = _timed(f"MySQL slow log parse ({entries:,} entries)", parse, "entries", entries)
    print(f"{'':<48} {len(raw) / seconds / 1e6:8.1f} MB/s")
    queries = [from_mysql_event(r.message, r.attrs, "slow.log", r.line, r.ts) for r in records]

    def agg() -> None:
        aggregate(q for q in queries if q is not None)

    _timed("fingerprint + aggregate slow queries", agg, "queries", len(queries))
    statements = [r.message for r in records[:50_000]]
    _timed(
        "fingerprint alone", lambda: [fingerprint(s) for s in statements], "stmts", len(statements)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    corpus(args.repeat)
    big_plan(args.nodes)
    slow_log(args.entries)


if __name__ == "__main__":
    main()
