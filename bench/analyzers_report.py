"""Benchmark: the first analyzers and the report renderers on a synthetic case store.

Builds a case with N requests over 200 routes (a 0.5% background of 502s, a
new 40% burst of 500s on one route) and N events (2% error, 4% warn, messages
with variable ids), then times each analyzer, the chart series and the
renderers. Prints one line per step.

    .venv/bin/python bench/analyzers_report.py [N]      # default N = 2,000,000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb

from casework.analyzers.error_signatures import error_signatures
from casework.analyzers.http_status import http_status
from casework.case import Case
from casework.engine import run_analyzers
from casework.investigation import Investigation
from casework.rank import rank
from casework.report import write_all
from casework.report.series import load_series
from casework.store import Store


def build(path: Path, n: int) -> None:
    Store(path).close()
    con = duckdb.connect(str(path))
    start = "TIMESTAMPTZ '2026-03-01 00:00:00+00' + to_seconds(i * 0.1)"
    con.execute(
        f"INSERT INTO requests SELECT {start}, 'nginx', 'access.log', i::INT, 'GET', 'h',"
        " '/r/' || (i % 200)::VARCHAR, '/r/' || (i % 200)::VARCHAR,"
        " CASE WHEN hash(i) % 1000 < 5 THEN 502"
        f" WHEN i % 200 = 7 AND i > {n} * 0.7 AND hash(i) % 10 < 4 THEN 500"
        " WHEN hash(i * 7) % 100 < 3 THEN 404 ELSE 200 END,"
        f" 12.0, 100, 'c', NULL FROM range({n}) t(i)"
    )
    con.execute(
        f"INSERT INTO events SELECT 'app.log', i::INT, i::INT, {start},"
        " CASE WHEN hash(i) % 100 < 2 THEN 'ERROR' WHEN hash(i) % 100 < 6 THEN 'WARN'"
        " ELSE 'INFO' END, 's', 'l', 'message kind ' || (hash(i) % 500)::VARCHAR"
        " || ' for user_' || (i % 9999)::VARCHAR || ' code ' || (i % 77)::VARCHAR, NULL, NULL"
        f" FROM range({n}) t(i)"
    )
    con.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.duckdb"
        t = time.perf_counter()
        build(path, n)
        print(f"build case ({n:,} requests + {n:,} events): {time.perf_counter() - t:.2f} s")
        case = Case.open(str(path))
        findings = []
        runs = []
        for a in (http_status, error_signatures):
            t = time.perf_counter()
            got, ran = run_analyzers(case, [a])
            findings += got
            runs += ran
            print(
                f"{a.key}: {time.perf_counter() - t:.2f} s, {len(got)} findings ({ran[0].status})"
            )
        window = case.window
        case.con.close()
        t = time.perf_counter()
        load_series(path, window)
        print(f"chart series: {time.perf_counter() - t:.2f} s")
        inv = Investigation("bench", Path(tmp) / "out", path, [], rank(findings), runs, window)
        t = time.perf_counter()
        write_all(inv)
        print(f"write_all (json, md, html): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
