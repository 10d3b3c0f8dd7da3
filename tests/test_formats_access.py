"""Access logs: combined and common format, request/upstream time, canonical HTTP keys."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.formats.access import sniff
from casework.model import LogRecord
from formats_support import fixture, kind_of, parse


def records(name: str) -> list[LogRecord]:
    found, ctx = parse(fixture(name), "access-log")
    assert ctx.bad_records == 0
    return [r for r in found if isinstance(r, LogRecord)]


def test_nginx_combined_with_request_and_upstream_time() -> None:
    first, second, third, probe, garbage = records("nginx_access.log")
    assert first.message == "GET /v1/refunds/123?expand=account HTTP/1.1"
    assert first.ts == datetime(2026, 3, 2, 14, 4, 59, tzinfo=UTC) and not first.ts_assumed
    assert first.attrs["http.path"] == "/v1/refunds/123"
    assert first.attrs["http.query"] == "expand=account"
    assert first.attrs["http.duration_ms"] == 12.0 and first.attrs["http.upstream_ms"] == 11.0
    assert first.attrs["client.ip"] == "10.0.3.7"
    assert second.attrs["http.referer"] == "https://app.acme.test/refunds"
    assert second.attrs["user"] == "alice" and second.attrs["http.status"] == 500
    assert third.attrs["http.status"] == 502 and third.attrs["http.duration_ms"] == 30001.0
    # key=value tail, IPv6 client
    assert probe.attrs["http.duration_ms"] == 1.0 and probe.attrs["client.ip"] == "2001:db8::7"
    # a TLS handshake sent to a plain port: kept, no method or path
    assert garbage.attrs["http.status"] == 400 and "http.method" not in garbage.attrs


def test_apache_common_and_microsecond_time() -> None:
    first, second, third = records("apache_access.log")
    assert first.ts == datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)
    assert first.attrs["http.bytes"] == 2326 and "http.user_agent" not in first.attrs
    assert "http.bytes" not in second.attrs  # "-"
    assert second.attrs["http.duration_ms"] == 15.234  # %D in microseconds
    assert third.attrs["http.status"] == 404


def test_bad_lines_counted() -> None:
    data = fixture("apache_access.log") + b"this is not a request\n"
    found, ctx = parse(data, "access-log")
    assert len(found) == 3 and ctx.bad_records == 1


def test_sniff() -> None:
    assert kind_of(fixture("nginx_access.log")) == "access-log"
    assert kind_of(fixture("apache_access.log")) == "access-log"
    assert sniff(fixture("syslog_3164.log")) == 0.0
    assert sniff(fixture("app.logfmt")) == 0.0


def test_times_read_per_minute_equal_a_full_parse_of_each_line() -> None:
    """CLF times are parsed once per minute and zone; every second must still come out exact."""
    import io
    import random
    from zoneinfo import ZoneInfo

    from casework.formats.access import parse
    from casework.formats.base import ParseContext
    from casework.timeparse import parse_ts

    rng = random.Random(5)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    whens = [
        f"{rng.randint(1, 28):02d}/{rng.choice(months)}/2026:{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{s:02d} {rng.choice(['+0000', '+0530', '-0800'])}"
        for s in [*range(61), *(rng.randint(0, 59) for _ in range(200))]
    ]
    body = "".join(f'10.0.0.1 - - [{w}] "GET /a HTTP/1.1" 200 5 "-" "ua"\n' for w in whens)
    zone = ZoneInfo("Europe/Berlin")
    records = list(parse(io.BytesIO(body.encode()), ParseContext("access.log", tz=zone)))
    assert len(records) == len(whens)
    for rec, when in zip(records, whens, strict=True):
        expected = parse_ts(when, zone, None)
        assert expected is not None and rec.ts == expected[0], when
