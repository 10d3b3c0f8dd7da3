"""AWS Lambda log streams: runtime lines, the function's own lines, timeouts and REPORT numbers."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.model import LogRecord
from casework.pipeline import investigate
from formats_support import kind_of, parse

ONSET = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def stream(rng: random.Random, invocations: int) -> tuple[str, int]:
    """A function's log stream; from ONSET a share of invocations hit the 3-second timeout."""
    ts, out, timeouts = (
        ONSET - timedelta(hours=1),
        ["INIT_START Runtime Version: python:3.12.v19"],
        0,
    )
    for _ in range(invocations):
        ts += timedelta(seconds=rng.randint(1, 6))
        rid = str(uuid.UUID(int=rng.getrandbits(128)))
        stamp = ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out.append(f"START RequestId: {rid} Version: $LATEST")
        out.append(f"{stamp}\t{rid}\tINFO\tprocessing order {rng.randint(10000, 99999)}")
        if rng.random() < 0.05:
            out.append(f"{stamp}\t{rid}\tWARNING\tinventory cache miss")
        took = rng.uniform(80, 900)
        if ts >= ONSET and rng.random() < 0.3:
            took, timeouts = 3003.2, timeouts + 1
            later = (ts + timedelta(seconds=3)).isoformat(timespec="milliseconds")
            out.append(f"{later.replace('+00:00', 'Z')} {rid} Task timed out after 3.00 seconds")
        out.append(f"END RequestId: {rid}")
        out.append(
            f"REPORT RequestId: {rid}\tDuration: {took:.2f} ms\tBilled Duration: {int(took) + 1} ms"
            f"\tMemory Size: 512 MB\tMax Memory Used: {rng.randint(90, 140)} MB"
        )
    return "\n".join(out) + "\n", timeouts


def test_a_stream_is_read_line_by_line_with_times_levels_and_reports() -> None:
    text, _ = stream(random.Random(1), 40)
    data = text.encode()
    assert kind_of(data) == "lambda-log"
    records, ctx = parse(data, "lambda-log")
    assert ctx.bad_records == 0 and len(records) == len(text.splitlines())
    logs = [r for r in records if isinstance(r, LogRecord)]
    reports = [r for r in logs if r.message.startswith("REPORT")]
    # Runtime lines before the stream's first timed line have no time; every later one has.
    first = next(i for i, r in enumerate(logs) if r.ts is not None)
    assert len(reports) == 40 and first == 2 and all(r.ts is not None for r in logs[first:])
    assert all(r.attrs["lambda.memory_size_mb"] == 512.0 for r in reports)
    assert {r.level for r in logs if "cache miss" in r.message} == {"WARN"}
    # A runtime line takes the time of the invocation's last timed line.
    first_report = reports[0]
    before = [r for r in logs if r.line < first_report.line and r.ts is not None]
    assert first_report.ts == before[-1].ts


def test_timeouts_lead_and_the_reported_wait_is_found_in_the_reports(tmp_path: Path) -> None:
    text, timeouts = stream(random.Random(4), 1500)
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "orders.log").write_text(text)
    (tmp_path / "bundle" / "case.md").write_text("The orders Lambda times out (3 seconds).\n")
    found = investigate(tmp_path / "bundle", tmp_path / "case").findings
    assert found[0].key == "INCIDENT"
    timed_out = next(f for f in found if f.key == "ERROR_SIGNATURE")
    assert "Task timed out" in timed_out.title and timed_out.stats["count"] == timeouts
    seen = next(f for f in found if f.key == "REPORTED_WAIT_SEEN")
    assert seen.stats["near"] == timeouts and seen.stats["invocations"] == 1500
