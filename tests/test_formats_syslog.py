"""Syslog RFC 3164 and 5424: PRI levels, structured data, year from context and rollover."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from casework.formats.syslog import sniff
from casework.model import LogRecord
from formats_support import fixture, kind_of, parse


def test_rfc5424_with_structured_data() -> None:
    found, ctx = parse(fixture("syslog_5424.log"), "syslog")
    assert ctx.bad_records == 0
    first, second, third, fourth = (r for r in found if isinstance(r, LogRecord))
    assert first.ts == datetime(2026, 3, 2, 14, 5, 3, 3000, tzinfo=UTC)
    assert (first.service, first.level, first.message) == (
        "refunds",
        "INFO",
        "refund failed for account",
    )
    assert first.attrs["req@32473.status"] == "500"
    assert first.attrs["exampleSDID@32473.eventSource"] == "Application"
    assert first.attrs["syslog.facility"] == "local4" and first.attrs["msgid"] == "REFUND"
    assert second.ts == datetime(2026, 3, 2, 13, 5, 4, tzinfo=UTC)  # +01:00
    assert second.level == "FATAL"  # severity 2 (crit)
    assert third.ts is None  # NILVALUE timestamp
    assert third.attrs["meta.note"] == 'a "quoted" value with ] bracket'
    assert fourth.message == "upstream timed out (110: Connection timed out)"  # BOM dropped


def test_rfc3164_year_from_context_and_new_year() -> None:
    found, _ = parse(fixture("syslog_3164.log"), "syslog", year=2025)
    logs = [r for r in found if isinstance(r, LogRecord)]
    assert [r.ts.year for r in logs if r.ts] == [2025, 2025, 2026, 2026, 2026]
    assert all(r.ts_assumed for r in logs)
    assert logs[0].service == "sshd" and logs[0].attrs == {"host": "web1", "pid": "2211"}
    assert logs[1].attrs["syslog.facility"] == "authpriv" and logs[1].level == "INFO"
    assert logs[3].service == "kernel"
    assert logs[4].level == "ERROR"


def test_line_without_timestamp_is_bad_not_fatal() -> None:
    found, ctx = parse(fixture("syslog_3164.log") + b"garbage line\n", "syslog")
    assert len(found) == 5 and ctx.bad_records == 1


def test_sniff() -> None:
    assert kind_of(fixture("syslog_5424.log")) == "syslog"
    assert kind_of(fixture("syslog_3164.log")) == "syslog"
    assert sniff(fixture("log4j.log")) == 0.0
    assert sniff(fixture("nginx_access.log")) == 0.0


def test_assumed_year_is_noted_for_the_inventory() -> None:
    _, ctx = parse(fixture("syslog_3164.log"), "syslog", year=2025)
    assert ctx.notes == ["timestamps have no year; 2025 assumed, 2026 after new year"]
    _, ctx = parse(fixture("syslog_5424.log"), "syslog")
    assert ctx.notes == []


def test_a_log_spanning_new_year_gets_its_first_year_from_the_last_write(tmp_path: Path) -> None:
    """The mtime is when the last line was written: December lines in a file last written on
    2 January belong to the year before, and January lines to the mtime's year."""
    import os
    from datetime import UTC, datetime

    import duckdb

    from casework.pipeline import investigate

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    lines = [
        f"Dec {d} 23:5{d % 10}:01 web1 sshd[411]: Accepted publickey for deploy" for d in (30, 31)
    ]
    lines += [f"Jan  {d} 00:0{d}:07 web1 sshd[412]: Accepted publickey for deploy" for d in (1, 2)]
    log = bundle / "auth.log"
    log.write_text("\n".join(lines) + "\n")
    written = datetime(2027, 1, 2, 0, 5, tzinfo=UTC).timestamp()
    os.utime(log, (written, written))
    same_year = bundle / "daemon.log"
    same_year.write_text(
        "Mar  3 10:00:00 web1 cron[7]: job started\nMar  3 10:05:00 web1 cron[7]: job done\n"
    )
    os.utime(same_year, (written - 86400 * 30, written - 86400 * 30))  # written in December 2026
    investigate(bundle, tmp_path / "case")
    con = duckdb.connect(str(tmp_path / "case" / "case.duckdb"), read_only=True)
    years = con.execute(
        "SELECT file, list(year(ts AT TIME ZONE 'UTC') ORDER BY line) FROM events GROUP BY file ORDER BY file"
    ).fetchall()
    assert years == [("auth.log", [2026, 2026, 2027, 2027]), ("daemon.log", [2026, 2026])]


def test_a_level_the_program_wrote_counts_when_the_line_has_no_pri() -> None:
    lines = [
        "Dec 10 09:32:20 LabSZ sshd[24680]: error: Received disconnect from 103.99.0.122: 14:"
        " No more user authentication methods available. [preauth]",
        "Dec 10 09:32:21 mx1 postfix/smtpd[881]: warning: hostname x.example does not resolve",
        "Dec 10 09:32:22 mx1 postfix/master[12]: fatal: bind 0.0.0.0 port 25: Address in use",
        "Jun 15 04:06:20 combo logrotate: ALERT exited abnormally with [1]",
        "Dec 10 09:32:23 LabSZ sshd[24681]: Failed password for root from 10.0.0.1 port 2 ssh2",
        "Dec 10 09:32:24 LabSZ app[1]: errors: 3 retried, none lost",
        "Dec 10 09:32:25 LabSZ app[1]: info",
        "<11>Dec 10 09:32:27 LabSZ app[1]: warning: PRI says error",
    ]
    found, _ = parse("\n".join(lines).encode(), "syslog")
    levels = [r.level for r in found if isinstance(r, LogRecord)]
    assert levels == ["ERROR", "WARN", "FATAL", "FATAL", None, None, None, "ERROR"]


def test_a_year_less_log_takes_the_year_of_the_bundle_s_dated_files(tmp_path: Path) -> None:
    """A syslog attached to a ticket today, beside a gateway's JSON log of May 2024: its
    "May 14" lines are of 2024, not of the year the file was written to disk."""
    import os

    import duckdb

    from casework.pipeline import investigate

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "gateway.jsonl").write_text(
        "".join(
            f'{{"ts":"2024-05-14T09:{m:02d}:00.000Z","level":"info","msg":"request completed"}}\n'
            for m in range(30, 50)
        )
    )
    syslog = bundle / "nodes-syslog.log"
    syslog.write_text(
        "May 14 09:38:01 gw-3 chronyd[812]: Can't synchronise: no selectable sources\n"
        "May 14 09:52:40 gw-3 chronyd[812]: System clock wrong by -91.4 seconds\n"
    )
    written = datetime(2026, 11, 28, 9, 0, tzinfo=UTC).timestamp()
    os.utime(syslog, (written, written))
    investigate(bundle, tmp_path / "case")
    con = duckdb.connect(str(tmp_path / "case" / "case.duckdb"), read_only=True)
    years = con.execute(
        "SELECT list(DISTINCT year(ts AT TIME ZONE 'UTC')) FROM events WHERE file = ?",
        [syslog.name],
    ).fetchone()
    assert years == ([2024],)
