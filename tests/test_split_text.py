"""Large text logs are cut into parts at a record's first line, and read exactly as the whole file."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from casework.bundle import Limits
from casework.bundle_remote import open_bundle
from casework.pipeline import Options, investigate
from casework.redact import RedactionPolicy, Redactor
from casework.scan.plan import Settings, plan

CHUNK = 40_000

_LOGGERS = ["c.e.billing.LedgerService", "o.h.engine.jdbc.spi.SqlExceptionHelper", "c.e.api.Orders"]


def java_log(rng: random.Random, records: int) -> str:
    """A logback log: stack traces with causes and elided frames, a multi-line SQL message,
    blank lines, and continuation lines that begin with digits or a date inside the text."""
    t = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    out: list[str] = []
    for i in range(records):
        t += timedelta(milliseconds=rng.randint(5, 900))
        stamp = f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}"
        level = rng.choice(["INFO"] * 6 + ["WARN", "ERROR", "DEBUG"])
        head = f"{stamp} {level:5} [pool-{rng.randint(1, 4)}-thread-{rng.randint(1, 9)}] {rng.choice(_LOGGERS)} - "
        kind = rng.random()
        if level == "ERROR" and kind < 0.6:
            out.append(head + f"ledger post {i} failed")
            out.append("java.lang.IllegalStateException: partition missing")
            out += [
                f"\tat c.e.billing.Ledger.post(Ledger.java:{rng.randint(10, 300)})"
            ] * rng.randint(2, 40)
            out.append("Caused by: java.sql.SQLException: lock wait timeout")
            out.append("\tat org.postgresql.Driver.run(Driver.java:88)")
            out.append(f"\t... {rng.randint(3, 60)} more")
        elif kind < 0.05:
            out.append(head + "slow statement:")
            out += ["  SELECT id, amount", "  FROM ledger", f"  WHERE day = '{t:%Y-%m-%d}'"]
            out.append(f"{rng.randint(10, 99)} rows in {rng.randint(1, 9000)} ms")
        elif kind < 0.07:
            out.append(head + "batch summary follows")
            out.append("")
            out.append(f"  started {stamp}, {rng.randint(1, 500)} entries")
        else:
            out.append(
                head + f"posted entry {rng.getrandbits(40):x} amount={rng.randint(1, 99999) / 100}"
            )
    return "\n".join(out) + "\n"


def yearless(rng: random.Random, records: int, klog: bool) -> str:
    """Times without a year (klog, or logback with a short date) across new year: such a file
    must stay whole, since its year rolls over from the lines before."""
    t = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    lines = []
    for _ in range(records):
        t += timedelta(milliseconds=rng.randint(5, 2000))
        if klog:
            lines.append(
                f"I{t:%m%d %H:%M:%S}.{t.microsecond:06d}    {rng.randint(1, 99)} controller.go:{rng.randint(10, 300)}] synced pod-{rng.randint(1, 40)}"
            )
        else:
            lines.append(
                f"{t:%b %d %H:%M:%S}.{t.microsecond // 1000:03d} INFO [main] c.e.Sync - synced pod-{rng.randint(1, 40)}"
            )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("split") / "bundle"
    root.mkdir()
    rng = random.Random(11)
    (root / "ledger.log").write_text(java_log(rng, 4000))
    (root / "kubelet.log").write_text(yearless(rng, 3000, klog=True))
    (root / "sync.log").write_text(yearless(rng, 3000, klog=False))
    return root


def test_text_logs_are_cut_only_before_a_dated_header(bundle: Path, tmp_path: Path) -> None:
    settings = Settings(b"k" * 32, RedactionPolicy(), "UTC", False, tmp_path / "parts", CHUNK)
    with open_bundle(bundle, tmp_path / "work", Limits(), ()) as opened:
        tasks = plan(list(opened.members()), settings, Redactor(b"k" * 32, RedactionPolicy())).tasks
    ledger = [t for t in tasks if t.name == "ledger.log"]
    size = (bundle / "ledger.log").stat().st_size
    assert len(ledger) >= size // CHUNK - 1 >= 5
    assert [t.start for t in ledger[1:]] == [t.end for t in ledger[:-1]]
    data = (bundle / "ledger.log").read_bytes()
    for task in ledger[1:]:
        assert data[task.start - 1 : task.start] == b"\n"
        assert data[task.start : task.start + 5] == b"2026-"
    for name in ("kubelet.log", "sync.log"):
        assert (bundle / name).stat().st_size > 3 * CHUNK
        assert [(t.part, t.parts) for t in tasks if t.name == name] == [(0, 1)]


def _events(case: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT file, line, end_line, ts, level, logger, message, attrs FROM events ORDER BY rowid"
    ).fetchall()
    con.close()
    return rows


def test_a_cut_text_log_reads_as_the_whole_file(bundle: Path, tmp_path: Path) -> None:
    whole = investigate(bundle, tmp_path / "whole", Options(workers=1))
    cut = investigate(
        bundle, tmp_path / "cut", Options(workers=2, chunk_bytes=CHUNK, pool_min_bytes=0)
    )
    a, b = _events(tmp_path / "whole"), _events(tmp_path / "cut")
    assert len(a) == len(b) == 4000 + 3000 + 3000  # one event per record written
    assert a == b
    traces = [row for row in a if row[0] == "ledger.log" and row[2] > row[1] + 3]
    assert len(traces) > 50  # stack traces were joined, in both
    assert [(e.path, e.records, e.first_ts, e.last_ts) for e in whole.inventory] == [
        (e.path, e.records, e.first_ts, e.last_ts) for e in cut.inventory
    ]
