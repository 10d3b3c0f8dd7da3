"""Benchmark: read and analyze ~1M spans of OTLP JSON lines (issue 7 target: <= 60 s on 2 cores).

Template traces come from the OpenTelemetry SDK (tests/tracegen.py: errors
two hops down, N+1 queries, a slow shard, parallel calls, clock skew); they
are copied under fresh trace ids, one request per line as the collector's
file exporter writes, until the file holds ``--spans`` spans. The read
(sniff, parse, store) and each trace analyzer are timed separately.

    PYTHONPATH=src:tests .venv/bin/python bench/traces.py [--spans 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import orjson
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import tracegen
from casework.analyzers.trace_clock_skew import trace_clock_skew
from casework.analyzers.trace_critical_path import trace_critical_path
from casework.analyzers.trace_error_origin import trace_error_origin
from casework.analyzers.trace_n_plus_one import trace_n_plus_one
from casework.analyzers.trace_service_graph import trace_service_graph
from casework.analyzers.trace_slow import trace_slow
from casework.case import Case
from casework.formats import sniff
from casework.formats.base import ParseContext
from casework.model import SpanRecord
from casework.store import Store
from casework.traces import span_row

ANALYZERS = (
    trace_error_origin,
    trace_slow,
    trace_n_plus_one,
    trace_critical_path,
    trace_service_graph,
    trace_clock_skew,
)


def templates() -> list[tuple[str, bytes, int]]:
    """(hex trace id, one OTLP JSON line, span count) per SDK-made trace."""
    m = tracegen.TraceMaker()
    tracegen.checkout(m, n=50)
    tracegen.orders_n_plus_one(m, n=20)
    tracegen.profile_slow_shard(m, n=80)
    tracegen.search_parallel(m, n=10)
    tracegen.billing_skewed(m, n=10)
    by_trace: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in m.finished():
        assert span.context is not None
        by_trace[span.context.trace_id].append(span)
    out = []
    for tid, spans in by_trace.items():
        doc = tracegen.hex_ids(MessageToDict(encode_spans(spans)))
        out.append((f"{tid:032x}", orjson.dumps(doc), len(spans)))
    return out


def write(path: Path, target: int) -> int:
    lines = templates()
    written = copy = 0
    with path.open("wb") as fh:
        while written < target:
            for tid, line, n in lines:
                fresh = f"{copy:08x}{tid[8:]}"
                fh.write(line.replace(tid.encode(), fresh.encode()) + b"\n")
                written += n
            copy += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "traces.jsonl"
        t0 = time.perf_counter()
        spans = write(src, args.spans)
        size_mb = src.stat().st_size / 1e6
        print(f"generated {spans} spans, {size_mb:.0f} MB in {time.perf_counter() - t0:.1f} s")
        print(f"{'phase':<20} {'wall s':>7} {'cpu s':>7}")
        clock = _Clock()
        with src.open("rb") as fh:
            for line in fh:
                orjson.loads(line)
        wall, cpu = clock.lap()
        print(
            f"{'peer: orjson.loads':<20} {wall:7.1f} {cpu:7.1f}  (JSON decoding alone, the floor)"
        )
        floor = (wall, cpu)
        fmt, _ = sniff(_head(src))
        assert fmt is not None
        store = Store(Path(tmp) / "case.db")
        ctx = ParseContext(path=src.name)
        with src.open("rb") as fh:
            for rec in fmt.parse(fh, ctx):
                assert isinstance(rec, SpanRecord)
                store.add("spans", span_row(rec, src.name))
        store.close()
        wall, cpu = clock.lap()
        print(
            f"{'read+store':<20} {wall:7.1f} {cpu:7.1f}  ({spans / wall:,.0f} spans/s, bad={ctx.bad_records})"
        )
        case = Case.open(str(Path(tmp) / "case.db"))
        clock.lap()
        for a in ANALYZERS:
            found = list(a.run(case))
            wall, cpu = clock.lap()
            print(f"{a.key:<20} {wall:7.1f} {cpu:7.1f}  {len(found)} findings")
        case.con.close()
        total_wall, total_cpu = clock.wall - floor[0], clock.cpu - floor[1]
        print(
            f"{'total (read+analyze)':<20} {total_wall:7.1f} {total_cpu:7.1f}  (target <= 60 s wall)"
        )
        print(f"load average at end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


class _Clock:
    """Wall and CPU (all threads of this process, DuckDB's included) time since the last lap."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self._w, self._c = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        w, c = time.perf_counter(), time.process_time()
        dw, dc = w - self._w, c - self._c
        self._w, self._c = w, c
        self.wall += dw
        self.cpu += dc
        return dw, dc


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(65536)


if __name__ == "__main__":
    main()
