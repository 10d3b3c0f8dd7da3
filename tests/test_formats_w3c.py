"""W3C extended logs (IIS): columns from #Fields, canonical HTTP keys, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.model import LogRecord
from formats_support import fixture, kind_of, parse


def test_iis_log() -> None:
    assert kind_of(fixture("u_ex260302.log")) == "w3c-log"
    found, ctx = parse(fixture("u_ex260302.log"), "w3c-log")
    logs = [r for r in found if isinstance(r, LogRecord)]
    first = logs[0]
    assert first.ts == datetime(2026, 3, 2, 14, 5, 3, tzinfo=UTC) and not first.ts_assumed
    assert first.message == "POST /api/refunds"
    assert first.attrs["http.status"] == 500 and first.attrs["http.duration_ms"] == 1204.0
    assert first.attrs["http.user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert first.attrs["http.query"] == "dry=0" and first.attrs["client.ip"] == "203.0.113.9"
    assert logs[1].attrs["user"] == "ACME\\jdoe" and "http.query" not in logs[1].attrs
    # a second #Fields directive changes the columns; a short row is counted as bad
    assert logs[-1].message == "GET /healthz" and logs[-1].attrs["http.status"] == 200
    assert len(logs) == 4 and ctx.bad_records == 1
