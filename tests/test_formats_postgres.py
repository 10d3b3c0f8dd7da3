"""PostgreSQL server log: prefixes, multi-line statements, secondary lines joined per backend."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.formats.postgres import sniff
from casework.model import LogRecord
from formats_support import fixture, kind_of, parse


def records(name: str) -> list[LogRecord]:
    found, ctx = parse(fixture(name), "postgres-log")
    assert ctx.bad_records == 0
    return [r for r in found if isinstance(r, LogRecord)]


def test_multi_line_statement_and_secondary_lines() -> None:
    slow, error, checkpoint, fatal, warning, timeout = records("postgresql.log")
    assert slow.attrs["pg.duration_ms"] == 1203.117 and slow.end_line == 3
    assert slow.message.endswith("VALUES ($1, $2)\n\tRETURNING id")
    assert (slow.attrs["pg.user"], slow.attrs["pg.db"], slow.attrs["pid"]) == (
        "payments",
        "refunds",
        "4121",
    )
    assert error.level == "ERROR" and error.end_line == 7
    assert error.attrs["pg.detail"].startswith("Key (account_id)=(88123)")
    assert (
        error.attrs["pg.statement"]
        == "INSERT INTO refunds (account_id, amount)\nVALUES (88123, 12.50)"
    )
    assert checkpoint.level == "INFO" and "pg.user" not in checkpoint.attrs
    assert fatal.level == "FATAL" and warning.level == "WARN"
    assert timeout.attrs["pg.hint"] == "Consider raising statement_timeout."
    assert "refund_total" in timeout.attrs["pg.context"]
    assert slow.ts == datetime(2026, 3, 2, 14, 5, 3, 401000, tzinfo=UTC) and not slow.ts_assumed


def test_key_value_prefix_and_zone_name() -> None:
    auth, deadlock = records("postgresql_prefix.log")
    assert auth.ts == datetime(2026, 3, 2, 14, 5, 3, tzinfo=UTC)  # CET
    assert auth.attrs["pg.app"] == "refund-api" and auth.attrs["pg.client"] == "10.0.3.9"
    assert auth.attrs["pg.session_line"] == 3
    assert deadlock.attrs["pg.detail"].count("\n") == 1 and deadlock.end_line == 4


def test_sniff() -> None:
    assert kind_of(fixture("postgresql.log")) == "postgres-log"
    assert kind_of(fixture("postgresql_prefix.log")) == "postgres-log"
    assert sniff(fixture("log4j.log")) == 0.0
