"""The 16 raw Loghub-2k logs: each gets a sensible kind and the time range of its annotated CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from casework.formats import ParseContext
from casework.model import LogRecord
from formats_support import SHARED, format_named, kind_of

LOGHUB = SHARED / "data" / "loghub2k"
YEAR = 2026  # what the ingest passes for year-less lines (the file's mtime year)

#: dataset → (kind, CSV columns holding the time, how those columns are written)
EXPECTED = {
    "Android": ("text-log", ("Date", "Time"), "%m-%d %H:%M:%S.%f"),
    "Apache": ("text-log", ("Time",), "%a %b %d %H:%M:%S %Y"),
    "BGL": ("text-log", ("Timestamp",), "epoch"),
    "HDFS": ("java-log", ("Date", "Time"), "%y%m%d %H%M%S"),
    "HPC": ("text-log", ("Time",), "epoch"),
    "Hadoop": ("java-log", ("Date", "Time"), "%Y-%m-%d %H:%M:%S,%f"),
    "HealthApp": ("text-log", ("Time",), "%Y%m%d-%H:%M:%S:%f"),
    "Linux": ("syslog", ("Month", "Date", "Time"), "%b %d %H:%M:%S"),
    "Mac": ("syslog", ("Month", "Date", "Time"), "%b %d %H:%M:%S"),
    "OpenSSH": ("syslog", ("Date", "Day", "Time"), "%b %d %H:%M:%S"),
    "OpenStack": ("python-log", ("Date", "Time"), "%Y-%m-%d %H:%M:%S.%f"),
    "Proxifier": ("text-log", ("Time",), "%m.%d %H:%M:%S"),
    "Spark": ("java-log", ("Date", "Time"), "%y/%m/%d %H:%M:%S"),
    "Thunderbird": ("text-log", ("Timestamp",), "epoch"),
    "Windows": ("text-log", ("Date", "Time"), "%Y-%m-%d %H:%M:%S"),
    "Zookeeper": ("java-log", ("Date", "Time"), "%Y-%m-%d %H:%M:%S,%f"),
}


def annotated_range(name: str) -> tuple[datetime, datetime]:
    _kind, columns, shape = EXPECTED[name]
    times = []
    with (LOGHUB / name / f"{name}_2k.log_structured.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = " ".join(row[c] for c in columns)
            if shape == "epoch":
                times.append(datetime.fromtimestamp(int(text), UTC))
                continue
            when = datetime.strptime(text, shape)
            if "%Y" not in shape and "%y" not in shape:
                when = when.replace(year=YEAR)
            times.append(when.replace(tzinfo=UTC))
    return min(times), max(times)


def test_every_dataset_is_covered() -> None:
    found = sorted(p.name for p in LOGHUB.iterdir() if (p / f"{p.name}_2k.log").exists())
    assert found == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kind_and_time_range(name: str) -> None:
    data = (LOGHUB / name / f"{name}_2k.log").read_bytes()
    kind = kind_of(data)
    assert kind == EXPECTED[name][0]
    ctx = ParseContext(f"{name}_2k.log", year=YEAR)
    records = list(format_named(kind).parse(io.BytesIO(data), ctx))
    stamps = [r.ts for r in records if isinstance(r, LogRecord) and r.ts is not None]
    assert ctx.bad_records == 0
    assert len(records) == len(stamps) == 2000  # one record per line, each with a time
    assert (min(stamps), max(stamps)) == annotated_range(name)


def test_a_syslog_line_inside_another_log_s_line_is_read_as_syslog() -> None:
    """Thunderbird's lines wrap a syslog line (``- 1131566461 2005.11.09 dn228 Nov 9 12:01:01
    dn228/dn228 crond(pam_unix)[2915]: session closed …``): its program is the record's service,
    its host an attribute, and the message is loghub's annotated Content."""
    name = "Thunderbird"
    data = (LOGHUB / name / f"{name}_2k.log").read_bytes()
    records = list(format_named(kind_of(data)).parse(io.BytesIO(data), ParseContext(name)))
    with (LOGHUB / name / f"{name}_2k.log_structured.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(records) == len(rows)
    pairs = list(zip(records, rows, strict=True))
    same = sum(" ".join(r.message.split()) == " ".join(row["Content"].split()) for r, row in pairs)
    program = sum((r.service or "") == row["Component"] for r, row in pairs)
    host = sum(r.attrs.get("host") == row["Location"] for r, row in pairs)
    # loghub's own regex takes the "- User ID:" of nine untagged kernel lines for a component
    assert same >= 0.99 * len(rows) and program >= 0.99 * len(rows) and host == len(rows)
