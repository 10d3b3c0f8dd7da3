"""logfmt: quoted values with escapes, roles by name, a Heroku-style prefix, HTTP keys."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.formats.logfmt import pairs, sniff
from casework.model import LogRecord
from formats_support import fixture, kind_of, parse


def test_quoted_values_and_roles() -> None:
    records, ctx = parse(fixture("app.logfmt"), "logfmt")
    assert ctx.bad_records == 0
    first = records[0]
    assert isinstance(first, LogRecord)
    assert first.message == 'refund failed: "constraint" violated'
    assert (first.level, first.service) == ("ERROR", "refunds")
    assert first.ts == datetime(2026, 3, 2, 14, 5, 3, tzinfo=UTC)
    assert first.attrs["http.status"] == 500 and first.attrs["status"] == "500"
    assert first.attrs["http.duration_ms"] == 1204.0
    assert first.attrs["client.id"] == "mobile-ios"


def test_other_key_names_and_empty_values() -> None:
    records, _ = parse(fixture("app.logfmt"), "logfmt")
    third = records[2]
    assert isinstance(third, LogRecord)
    assert (third.level, third.message, third.logger) == (
        "WARN",
        "pool nearly exhausted",
        "pool.go:88",
    )
    assert third.attrs["empty"] == ""


def test_prefix_timestamp_and_no_message_key() -> None:
    records, _ = parse(fixture("app.logfmt"), "logfmt")
    heroku = records[3]
    assert isinstance(heroku, LogRecord)
    assert heroku.ts == datetime(2026, 3, 2, 14, 5, 5, tzinfo=UTC)
    assert heroku.attrs["http.path"] == "/v1/refunds" and heroku.attrs["http.query"] == "x=1"
    assert heroku.attrs["http.status"] == 503
    assert heroku.service is None  # "service=30000ms" is a duration there, not a name


def test_pairs_scanner() -> None:
    found, first, _ = pairs('a=1 b="two words" c="esc \\"q\\"" d=')
    assert found == {"a": "1", "b": "two words", "c": 'esc "q"', "d": ""}
    assert first == 0


def test_sniff() -> None:
    assert kind_of(fixture("app.logfmt")) == "logfmt"
    assert sniff(fixture("nginx_access.log")) == 0.0
    assert sniff(fixture("postgresql_prefix.log")) == 0.0
    assert sniff(fixture("app.jsonl")) == 0.0
    assert sniff(b"just some words\nand more words here\n") == 0.0
