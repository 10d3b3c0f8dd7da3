"""Timestamp recognition: every shape, epoch magnitudes, zones, --tz and year-less times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from casework.timeparse import LineClock, epoch_to_utc, find_any, parse_ts

BERLIN = ZoneInfo("Europe/Berlin")


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected", "assumed"),
    [
        ("2026-03-01T12:00:00Z", utc(2026, 3, 1, 12), False),
        ("2026-03-01T12:00:00.123456789+02:00", utc(2026, 3, 1, 10, 0, 0, 123456), False),
        ("2026-03-01 12:00:00,250", utc(2026, 3, 1, 12, 0, 0, 250000), True),
        ("2026-03-01T12:00:00.5-0700", utc(2026, 3, 1, 19, 0, 0, 500000), False),
        ("2026-03-01 12:00:00 UTC", utc(2026, 3, 1, 12), False),
        ("2026-03-01 12:00:00.123 CET", utc(2026, 3, 1, 11, 0, 0, 123000), False),
        ("20260301T120000Z", utc(2026, 3, 1, 12), False),
        ("10/Oct/2000:13:55:36 -0700", utc(2000, 10, 10, 20, 55, 36), False),
        ("Tue, 03 Mar 2026 10:00:00 +0000", utc(2026, 3, 3, 10), False),
        ("Mar 1, 2026 1:02:03 PM", utc(2026, 3, 1, 13, 2, 3), True),
        ("Sun Dec 04 04:47:44 2005", utc(2005, 12, 4, 4, 47, 44), True),
        ("17/06/09 20:10:40", utc(2017, 6, 9, 20, 10, 40), True),
        ("2016/9/27:20:30:31", utc(2016, 9, 27, 20, 30, 31), True),
        ("2005-06-03-15.42.50.675872", utc(2005, 6, 3, 15, 42, 50, 675872), True),
        ("20171224-1:2:35:789", utc(2017, 12, 24, 1, 2, 35, 789000), True),
        ("081109 203615", utc(2008, 11, 9, 20, 36, 15), True),
    ],
)
def test_shapes(text: str, expected: datetime, assumed: bool) -> None:
    assert parse_ts(text) == (expected, assumed)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_700_000_000, utc(2023, 11, 14, 22, 13, 20)),
        (1_700_000_000_123, utc(2023, 11, 14, 22, 13, 20, 123000)),
        (1_700_000_000_123_456, utc(2023, 11, 14, 22, 13, 20, 123456)),
        (1_700_000_000_123_456_789, utc(2023, 11, 14, 22, 13, 20, 123456)),
        (1_700_000_000.25, utc(2023, 11, 14, 22, 13, 20, 250000)),
        ("1700000000123", utc(2023, 11, 14, 22, 13, 20, 123000)),
    ],
)
def test_epoch_unit_by_magnitude(value: float | str, expected: datetime) -> None:
    parsed = parse_ts(value)
    assert parsed is not None
    assert abs(parsed[0] - expected) < timedelta(microseconds=2)
    assert parsed[1] is False


def test_epoch_rejects_bools_and_implausible_values() -> None:
    assert epoch_to_utc(True) is None
    assert epoch_to_utc(42, plausible=True) is None
    assert epoch_to_utc(10**30) is None


def test_naive_times_take_the_given_zone_and_are_flagged() -> None:
    parsed = parse_ts("2026-07-01 12:00:00", tz=BERLIN)
    assert parsed == (utc(2026, 7, 1, 10), True)  # CEST, UTC+2 in summer
    winter = parse_ts("2026-01-01 12:00:00", tz=BERLIN)
    assert winter == (utc(2026, 1, 1, 11), True)
    # an explicit zone wins over the assumed one
    assert parse_ts("2026-07-01T12:00:00+00:00", tz=BERLIN) == (utc(2026, 7, 1, 12), False)


def test_every_result_is_utc_aware() -> None:
    for text in ("2026-03-01T12:00:00+05:30", "Jun 14 15:16:01", "1700000000"):
        parsed = parse_ts(text, tz=timezone(timedelta(hours=-3)), year=2024)
        assert parsed is not None
        assert parsed[0].utcoffset() == timedelta(0)


def test_syslog_without_year_uses_the_given_year() -> None:
    assert parse_ts("Jun 14 15:16:01", year=2019) == (utc(2019, 6, 14, 15, 16, 1), True)
    assert parse_ts("Feb 29 00:00:00", year=2023) is None  # no such day that year


@pytest.mark.parametrize("text", ["", "hello", "12:00", "2026-13-45T99:00:00", "99999", "-"])
def test_not_a_time(text: str) -> None:
    assert parse_ts(text) is None


def test_clock_learns_the_shape_past_a_prefix() -> None:
    clock = LineClock()
    line = "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.api hi"
    stamp = clock.read(line)
    assert stamp is not None
    assert stamp.ts == utc(2017, 5, 16, 0, 0, 0, 8000)
    assert line[stamp.end :].startswith(" 25746")


def test_clock_prefers_the_first_timestamp_an_epoch_before_a_local_time() -> None:
    line = "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond[2915]: x"
    found = find_any(line)
    assert found is not None
    shape, skipped, stamp = found
    assert (shape, skipped, stamp.ts, stamp.assumed) == (
        "epoch",
        1,
        utc(2005, 11, 9, 20, 1, 1),
        False,
    )


def test_offset_followed_by_a_colon_jdk8_gc_log() -> None:
    clock = LineClock()
    line = "2024-03-04T10:15:01.123+0100: 12.345: [GC (Allocation Failure) 0.0123456 secs]"
    stamp = clock.read(line)
    assert stamp is not None and not stamp.assumed
    assert stamp.ts == utc(2024, 3, 4, 9, 15, 1, 123000)
    assert line[stamp.end :].startswith(": 12.345")
    # No offset: a colon and a digit follow, or a range's end time or a short number does.
    for line in (
        "2024-03-04T10:15:01.123+01:00:30 x",
        "2024-03-04 10:15:01-10:16: job ran",
        "2024-03-04 10:15:01-05: worker 5 started",
    ):
        other = LineClock().read(line)
        assert other is not None and other.assumed, line
        assert other.ts == utc(2024, 3, 4, 10, 15, 1, other.ts.microsecond), line


def test_clock_continuation_lines_have_no_stamp() -> None:
    clock = LineClock()
    assert clock.read("2026-03-01 12:00:00,001 ERROR [main] a.B: boom") is not None
    assert clock.read("\tat a.B.run(B.java:1)") is None
    assert clock.read("Caused by: java.io.IOException: 2026-03-01 12:00:00") is None


def test_clock_rolls_the_year_at_new_year() -> None:
    clock = LineClock(year=2025)
    first = clock.read("Dec 31 23:59:59 host app: a")
    second = clock.read("Jan  1 00:00:01 host app: b")
    assert first is not None and second is not None
    assert (first.ts.year, second.ts.year) == (2025, 2026)
    assert second.ts - first.ts == timedelta(seconds=2)


def test_clock_keeps_fractions_when_caching_per_second() -> None:
    clock = LineClock()
    a = clock.read("2026-03-01 12:00:00.100 x")
    b = clock.read("2026-03-01 12:00:00.900 y")
    assert a is not None and b is not None
    assert b.ts - a.ts == timedelta(milliseconds=800)
    for written, micros in (("5", 500_000), ("030", 30_000), ("123456789", 123_456), ("000", 0)):
        stamp = clock.read(f"2026-03-01 12:00:01.{written} z")
        assert stamp is not None and stamp.ts == utc(2026, 3, 1, 12, 0, 1, micros), written


def test_clock_with_tz_for_year_less_shapes() -> None:
    clock = LineClock(tz=timezone(timedelta(hours=8)), year=2026)
    stamp = clock.read("[10.30 16:49:06] chrome.exe - proxy open")
    assert stamp is not None
    assert (stamp.ts, stamp.assumed) == (utc(2026, 10, 30, 8, 49, 6), True)


def test_an_offset_of_a_day_or_more_is_not_a_time() -> None:
    """``-2700`` looks like a zone but no zone is 27 hours off: the stamp is unreadable, never
    an exception (a corrupted access log line must be counted as bad, not end the file)."""
    assert parse_ts("10/Oct/2000:13:55:36 -2700") is None
    assert parse_ts("2026-03-01T12:00:00+24:00") is None
    stamp = parse_ts("10/Oct/2000:13:55:36 -2359")  # the largest real offset still reads
    assert stamp is not None and stamp[0] == datetime(2000, 10, 11, 13, 54, 36, tzinfo=UTC)
