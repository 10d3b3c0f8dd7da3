"""JSON-lines logs: any field names, nested objects flattened, canonical HTTP keys, bad lines counted."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from casework.formats.httpfields import add_http, duration_ms
from casework.formats.jsonlines import sniff
from casework.model import LogRecord
from formats_support import fixture, kind_of, parse


def logs(name: str, **ctx: object) -> list[LogRecord]:
    records, _ = parse(fixture(name), "jsonl", **ctx)
    assert all(isinstance(r, LogRecord) for r in records)
    return records  # type: ignore[return-value]


def test_ecs_style_nested_fields_are_flattened_and_roles_found() -> None:
    records, ctx = parse(fixture("app.jsonl"), "jsonl")
    first = records[0]
    assert isinstance(first, LogRecord)
    assert first.ts == datetime(2026, 3, 2, 14, 5, 3, 412000, tzinfo=UTC)
    assert (first.level, first.message, first.service) == ("ERROR", "refund failed", "payments")
    assert first.attrs["account.created"] == "2026-02-20"
    assert first.attrs["trace.id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert first.attrs["tags"] == ["refund", "prod"]
    # canonical request keys, originals kept
    assert first.attrs["http.status"] == 500 and first.attrs["http.response.status_code"] == 500
    assert first.attrs["http.method"] == "POST" and first.attrs["http.path"] == "/v1/refunds"
    # the non-JSON line and the JSON array are counted, not raised
    assert ctx.bad_records == 2
    assert [r.line for r in records] == [1, 2, 4, 6]
    assert records[-1].message.endswith("😀")  # type: ignore[union-attr]


def test_pino_numeric_levels_epoch_ms_and_request_fields() -> None:
    first, second, third = logs("pino.jsonl")
    assert first.ts == datetime(2026, 3, 2, 14, 5, 3, 412000, tzinfo=UTC)
    assert [r.level for r in (first, second, third)] == ["INFO", "ERROR", "WARN"]
    assert first.attrs["http.status"] == 500
    assert first.attrs["http.path"] == "/v1/refunds" and first.attrs["http.query"] == "dry=1"
    assert first.attrs["http.duration_ms"] == 1204.0
    assert first.attrs["http.user_agent"] == "acme-mobile/5.2"
    assert "http.status" not in second.attrs  # no request in an error without one
    assert second.attrs["err.stack"].startswith("Error: constraint\n")


def test_windows_events_take_the_level_name_not_its_number() -> None:
    """Get-WinEvent's Level 2 is Error (not syslog's critical); LevelDisplayName says so."""
    lines = [
        {"TimeCreated": "2026-11-26T08:00:00Z", "Level": 2, "LevelDisplayName": "Error",
         "Message": "The service terminated unexpectedly."},
        {"TimeCreated": "2026-11-26T08:00:05Z", "Level": 4, "LevelDisplayName": "Information",
         "Message": "The service entered the running state."},
    ]  # fmt: skip
    records, _ = parse(b"\n".join(orjson.dumps(x) for x in lines), "jsonl")
    got = [r.level for r in records if isinstance(r, LogRecord)]
    assert got == ["ERROR", "INFO"]


def test_unusual_names_and_units() -> None:
    first, _second, third = logs("odd_fields.jsonl", tz=UTC)
    assert (first.level, first.message, first.ts_assumed) == ("WARN", "quota near limit", True)
    assert first.attrs["http.duration_ms"] == 250.0  # latency_seconds
    assert first.attrs["http.route"] == "/v1/quota/{id}"
    assert first.attrs["http.status"] == 429 and first.attrs["client.id"] == "acme"
    # a record whose time key has no known name is found by the value's shape
    assert third.ts == datetime(2026, 3, 2, 14, 5, 5, tzinfo=UTC)
    assert "what=cache warm" in third.message


def test_duration_units() -> None:
    assert duration_ms("1.5s", 1.0) == 1500.0
    assert duration_ms("2m3s", 1.0) == 123000.0
    assert duration_ms("350µs", 1.0) == pytest.approx(0.35)
    assert duration_ms(1_204_000_000, 1.0) == 1204.0  # a Go time.Duration in ns
    assert duration_ms("fast", 1.0) is None
    attrs: dict[str, object] = {"statusCode": 200, "elapsed_us": 1500, "request_time": "0.2"}
    add_http(attrs)
    assert attrs["http.duration_ms"] == 1.5


def test_zap_encoded_durations_are_seconds() -> None:
    # Caddy's access log (zap production encoding: epoch seconds in "ts", "msg", float seconds).
    caddy = orjson.dumps({
        "level": "info", "ts": 1709547301.1234, "logger": "http.log.access.log0",
        "msg": "handled request",
        "request": {"remote_ip": "10.0.0.5", "method": "GET", "host": "api.example.com",
                    "uri": "/v1/items?page=2", "headers": {"User-Agent": ["curl/8.5.0"]}},
        "bytes_read": 0, "duration": 0.012345, "size": 512, "status": 200,
    })  # fmt: skip
    # The same names with an ISO time are not zap's encoding: a bare duration stays milliseconds.
    iso = orjson.dumps(
        {"ts": "2026-03-02T14:05:03Z", "msg": "done", "method": "GET", "status": 200,
         "responseTime": 12.5}
    )  # fmt: skip
    records, _ = parse(caddy + b"\n" + iso + b"\n", "jsonl")
    first, second = records
    assert isinstance(first, LogRecord) and isinstance(second, LogRecord)
    assert first.attrs["http.duration_ms"] == pytest.approx(12.345)
    assert first.attrs["http.path"] == "/v1/items" and first.attrs["http.status"] == 200
    assert second.attrs["http.duration_ms"] == 12.5


def test_no_http_keys_without_status_or_method() -> None:
    attrs: dict[str, object] = {"duration_ms": 12, "path": "/tmp/x"}
    add_http(attrs)
    assert attrs == {"duration_ms": 12, "path": "/tmp/x"}


def test_sniff_discriminates_documents_and_batches() -> None:
    assert kind_of(fixture("app.jsonl")) == "jsonl"
    assert kind_of(fixture("pino.jsonl")) == "jsonl"
    assert sniff(fixture("otlp_lines.jsonl")) < 0.1
    pretty = orjson.dumps({"log": {"version": "1.2", "entries": []}}, option=orjson.OPT_INDENT_2)
    assert sniff(pretty) < 0.2
    one_doc = orjson.dumps({"kind": "List", "items": [{"a": i} for i in range(50)]})
    assert sniff(one_doc + b"\n") < 0.5
    assert sniff(b"\x00\x01\x02{binary") == 0.0
    assert sniff(b"") == 0.0


def test_long_and_empty_lines() -> None:
    line = orjson.dumps({"ts": "2026-03-01T00:00:00Z", "msg": "x" * 5000, "level": "info"})
    records, ctx = parse(b"\n\n" + line + b"\r\n\n", "jsonl")
    assert len(records) == 1 and ctx.bad_records == 0


def test_google_cloud_http_request_fields_make_a_request() -> None:
    """Cloud Logging's ``httpRequest`` (load balancers, Cloud Run): latency as ``"1.5s"``, sizes as
    strings, the URL whole."""
    entry = {
        "httpRequest": {"requestMethod": "GET", "status": 504, "responseSize": "0",
                        "requestUrl": "https://billing.example.com/v2/invoices/88123/pdf?x=1",
                        "userAgent": "Mozilla/5.0", "remoteIp": "198.51.100.7",
                        "latency": "60.000945s"},
        "timestamp": "2026-11-27T10:00:08.123Z", "severity": "ERROR",
        "jsonPayload": {"statusDetails": "backend_timeout"},
    }  # fmt: skip
    records, _ = parse(orjson.dumps(entry), "jsonl")
    (rec,) = records
    assert isinstance(rec, LogRecord) and rec.level == "ERROR"
    a = rec.attrs
    assert (a["http.method"], a["http.status"], a["http.duration_ms"]) == ("GET", 504, 60000.945)
    assert (a["http.host"], a["http.path"]) == ("billing.example.com", "/v2/invoices/88123/pdf")
    assert a["client.ip"] == "198.51.100.7" and a["http.user_agent"] == "Mozilla/5.0"
