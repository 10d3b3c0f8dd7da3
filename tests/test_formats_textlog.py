"""Text logs: Java, Python and Go dialects, stack traces joined into one record, headers split."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casework.formats.textheader import split_header
from casework.formats.textlog import MAX_RECORD_CHARS
from casework.model import LogRecord
from formats_support import SHARED, fixture, kind_of, parse


def records(name: str, kind: str, **ctx: object) -> list[LogRecord]:
    found, context = parse(fixture(name), kind, **ctx)
    assert context.bad_records == 0
    return [r for r in found if isinstance(r, LogRecord)]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("logback_stack.log", "java-log"),
        ("log4j.log", "java-log"),
        ("python_app.log", "python-log"),
        ("go_panic.log", "go-log"),
        ("klog.log", "go-log"),
    ],
)
def test_dialect_sniffed(name: str, kind: str) -> None:
    assert kind_of(fixture(name)) == kind


def test_java_stack_trace_with_caused_by_is_one_record() -> None:
    found = records("logback_stack.log", "java-log")
    assert [r.line for r in found] == [1, 2, 3, 16, 17]
    error = found[2]
    assert (error.level, error.end_line) == ("ERROR", 15)
    assert error.message.count("\n") == 12
    assert "... 61 more" in error.message and "Caused by: org.postgresql" in error.message
    assert (
        error.attrs["exception.type"] == "org.springframework.dao.DataIntegrityViolationException"
    )
    assert error.attrs["thread"] == "nio-8080-exec-7" and error.attrs["pid"] == "4120"
    assert found[0].logger == "c.a.payments.PaymentsApplication"
    assert found[0].message.startswith("Starting PaymentsApplication v2.14.3")
    assert found[4].level == "DEBUG"


def test_log4j_header_fields() -> None:
    found = records("log4j.log", "java-log")
    assert found[1].attrs["thread"] == "kafka-coordinator-heartbeat-thread | refunds"
    assert found[1].logger == "org.apache.kafka.clients.consumer.internals.AbstractCoordinator"
    assert found[2].attrs["exception.type"] == "java.net.SocketTimeoutException"
    assert found[2].end_line == 7
    assert found[0].ts == datetime(2026, 3, 2, 14, 5, 10, 1000, tzinfo=UTC)


def test_python_chained_traceback_is_one_record() -> None:
    found = records("python_app.log", "python-log")
    assert [r.level for r in found] == ["INFO", "ERROR", "WARN", "FATAL"]
    error = found[1]
    assert error.logger == "refunds.db" and error.end_line == 15
    assert "During handling of the above exception" in error.message
    assert error.message.endswith("refunds.errors.RefundError: constraint")


def test_go_panic_joins_goroutine_dump() -> None:
    found = records("go_panic.log", "go-log")
    assert len(found) == 4
    panic = found[2]
    assert panic.line == 3 and panic.end_line == 13
    assert "goroutine 42 [running]:" in panic.message


def test_klog_level_letter_and_year_from_context() -> None:
    found = records("klog.log", "go-log", year=2025)
    assert [r.level for r in found] == ["INFO", "WARN", "ERROR", "INFO"]
    assert found[0].ts == datetime(2025, 3, 2, 14, 5, 0, 123456, tzinfo=UTC)
    assert found[0].ts_assumed


def test_tz_applies_to_naive_text_timestamps() -> None:
    from zoneinfo import ZoneInfo

    found = records("log4j.log", "java-log", tz=ZoneInfo("America/New_York"))
    assert found[0].ts == datetime(2026, 3, 2, 19, 5, 10, 1000, tzinfo=UTC)
    assert all(r.ts_assumed for r in found)


def test_huge_trace_is_capped_not_held() -> None:
    body = b"2026-03-02 14:05:11,500 ERROR [t] a.B: boom\n" + b"\tat a.B.c(B.java:1)\n" * 40_000
    found, _ = parse(body + b"2026-03-02 14:05:12,000 INFO [t] a.B: next\n", "java-log")
    first = found[0]
    assert isinstance(first, LogRecord)
    assert first.end_line == 40_001 and first.attrs["truncated"] is True
    assert len(first.message) <= MAX_RECORD_CHARS + 100
    assert len(found) == 2


def test_lines_before_any_timestamp_are_their_own_records() -> None:
    found, ctx = parse(b"starting up\n\n2026-03-02 14:05:11 INFO x: y\n", "text-log")
    assert [r.line for r in found] == [1, 3] and ctx.bad_records == 0


@pytest.mark.parametrize(
    ("rest", "level", "logger", "thread", "message"),
    [
        (" - refunds.db - ERROR - insert failed", "ERROR", "refunds.db", None, "insert failed"),
        ("  1702  2395 D WindowManager: freeze", "DEBUG", "WindowManager", None, "freeze"),
        (
            " [error] mod_jk child in error state",
            "ERROR",
            None,
            None,
            "mod_jk child in error state",
        ),
        (
            "  INFO 1 --- [  main] o.s.b.App : Started",
            "INFO",
            "o.s.b.App",
            "main",
            "Started",
        ),
        (
            " chrome.exe - proxy.example:5070 open",
            None,
            None,
            None,
            "chrome.exe - proxy.example:5070 open",
        ),
        (" I think this is prose", None, None, None, "I think this is prose"),
    ],
)
def test_split_header(rest: str, level: str | None, logger: str | None, thread: str | None,
                      message: str) -> None:  # fmt: skip
    header = split_header(rest)
    assert (header.level, header.logger, header.thread, header.message) == (
        level,
        logger,
        thread,
        message,
    )


def test_concatenated_logs_with_two_timestamp_shapes() -> None:
    data = (
        b"2026-03-02 14:05:11,500 ERROR [t] a.B: boom\n\tat a.B.c(B.java:1)\n"
        b"Jun 14 15:16:01 host app[1]: other format\nJun 14 15:16:02 host app[1]: again\n"
        b"03-17 16:13:38.811  1702  2395 D Tag: third\n"
    )
    found = [r for r in parse(data, "java-log", year=2026)[0] if isinstance(r, LogRecord)]
    assert [r.line for r in found] == [1, 3, 4, 5]
    assert found[0].end_line == 2


def test_logback_default_pattern_has_no_date_but_joins_traces() -> None:
    found = records("logback_default.log", "java-log")
    assert [(r.line, r.end_line, r.level) for r in found] == [
        (1, 4, "ERROR"),
        (5, None, "WARN"),
        (6, None, "INFO"),
    ]
    assert all(r.ts is None for r in found)
    assert found[0].attrs["time_of_day"] == "14:05:03.412"
    assert found[0].logger == "c.a.payments.refunds.RefundController"


def test_python_basic_config_format() -> None:
    assert kind_of(fixture("python_basic.log")) == "python-log"
    found = records("python_basic.log", "python-log")
    assert [(r.level, r.logger, r.end_line) for r in found] == [
        ("INFO", "refunds.api", None),
        ("ERROR", "refunds.db", 6),
        ("WARN", "urllib3.connectionpool", None),
    ]


def test_zap_console_fields_become_attrs() -> None:
    assert kind_of(fixture("zap_console.log")) == "go-log"
    served, failed, warn = records("zap_console.log", "go-log")
    assert (served.level, served.logger, served.message) == ("INFO", "refunds", "request served")
    assert served.attrs["http.status"] == 500 and served.attrs["http.duration_ms"] == 1204.0
    assert failed.attrs["account"] == 88123
    assert (warn.level, warn.message) == ("WARN", "pool nearly exhausted")


def test_cri_container_lines_are_unwrapped() -> None:
    found = records("cri_container.log", "text-log")
    first = found[0]
    assert (first.level, first.logger, first.message) == ("ERROR", "com.acme.Api", "refund failed")
    assert first.attrs["stream"] == "stdout"
    assert found[1].attrs["stream"] == "stderr"
    assert found[2].attrs["partial"] is True
    assert (found[3].level, found[3].message) == ("INFO", "retry scheduled")


def test_requests_a_server_logs_in_its_text_log_become_http_attributes() -> None:
    """OpenStack's eventlet wsgi lines (real, loghub): every one gives method, path, status,
    size and duration; the statuses and times match what the lines say."""
    data = (SHARED / "data" / "loghub2k" / "OpenStack" / "OpenStack_2k.log").read_bytes()
    kind = kind_of(data)
    assert kind is not None
    records, _ = parse(data, kind)
    logged = [line for line in data.decode().splitlines() if '" status: ' in line]
    with_status = [r for r in records if isinstance(r, LogRecord) and "http.status" in r.attrs]
    assert len(logged) > 100 and len(with_status) == len(logged)
    for rec, line in zip(with_status, logged, strict=True):
        said = line.split('" status: ', 1)[1].split()
        assert rec.attrs["http.status"] == int(said[0])
        assert rec.attrs["http.bytes"] == int(said[2])
        assert rec.attrs["http.duration_ms"] == round(float(said[4]) * 1000, 3)
        assert line.split('"', 2)[1].startswith(
            f"{rec.attrs['http.method']} {rec.attrs['http.path']}"
        )


def test_request_lines_of_python_servers_in_text_logs() -> None:
    text = (
        b"2026-03-01 10:00:00,120 INFO werkzeug: 127.0.0.1 - - [01/Mar/2026 10:00:00]"
        b' "GET /healthz?verbose=1 HTTP/1.1" 200 -\n'
        b'2026-03-01 10:00:01,500 INFO uvicorn.access: [::1]:56567 - "POST /api/items HTTP/1.1"'
        b" 500 Internal Server Error\n"
        b'2026-03-01 10:00:02,000 INFO app: user typed "GET / HTTP/1.1" into the search box\n'
    )
    records, _ = parse(text, "python-log")
    first, second, third = (r for r in records if isinstance(r, LogRecord))
    assert (first.attrs["http.path"], first.attrs["http.query"], first.attrs["http.status"]) == (
        "/healthz", "verbose=1", 200,
    )  # fmt: skip
    assert "http.bytes" not in first.attrs
    assert (second.attrs["client.ip"], second.attrs["http.method"], second.attrs["http.status"]) == (
        "::1", "POST", 500,
    )  # fmt: skip
    assert "http.status" not in third.attrs  # a quoted request with no status after it
