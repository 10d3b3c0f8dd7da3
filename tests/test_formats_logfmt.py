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


ROUTER = (
    '2026-11-27T14:40:09.512306+00:00 heroku[router]: at=info method=GET path="/api/users/me"'
    " host=acme-app.herokuapp.com request_id=0f4e2c9a-1b7d-4e55-9b8e-55c1d5a0c7e1"
    ' fwd="203.0.113.7" dyno=web.2 connect=1ms service={ms}ms status={status} bytes=1543'
    " protocol=https\n"
)
H12 = (
    '2026-11-27T14:40:41.003114+00:00 heroku[router]: at=error code=H12 desc="Request timeout"'
    ' method=GET path="/api/reports/export?id=42" host=acme-app.herokuapp.com'
    ' request_id=7a1d6c3e-0c5b-4a1e-8f7a-9d2b1c4e5f60 fwd="203.0.113.9" dyno=web.1'
    " connect=0ms service=30000ms status=503 bytes=0 protocol=https\n"
)
APP = '2026-11-27T14:40:41.010000+00:00 app[web.1]: at=info msg="export queued" job=91\n'


def test_heroku_router_lines_are_requests_with_their_level_and_time() -> None:
    """A whole Heroku log (router lines and app lines) is logfmt: ``at=`` is the level,
    ``service=`` the time the app took, the time before the pairs is the record's."""
    data = (ROUTER.format(ms=27, status=200) * 30 + H12 * 10 + APP * 5).encode()
    assert kind_of(data) == "logfmt"
    records, _ = parse(data, "logfmt")
    ok, timeout, app = records[0], records[30], records[40]
    assert isinstance(ok, LogRecord) and isinstance(timeout, LogRecord)
    assert isinstance(app, LogRecord)
    assert (ok.level, timeout.level, app.level) == ("INFO", "ERROR", "INFO")
    assert "at" not in timeout.attrs and timeout.attrs["code"] == "H12"
    assert timeout.attrs["http.status"] == 503 and timeout.attrs["http.duration_ms"] == 30000.0
    assert ok.attrs["http.duration_ms"] == 27.0
    assert timeout.ts == datetime(2026, 11, 27, 14, 40, 41, 3114, tzinfo=UTC)
    assert timeout.message.startswith("heroku[router]: at=error code=H12")
    assert app.message == "export queued" and "http.duration_ms" not in app.attrs
