"""MySQL / MariaDB slow query log → one event per logged statement, with its timing in attrs.

Each entry is ``# Time:``, ``# User@Host:``, ``# Query_time: … Rows_examined: …``
(MariaDB adds ``# Thread_id:``/``Schema:`` lines), optional ``use db;`` and
``SET timestamp=…;``, then the statement over one or more lines. The event's
message is the statement; ``attrs`` carry ``slow_query``, ``duration_ms``,
``lock_ms``, ``rows_sent``, ``rows_examined``, ``user``, ``host``, ``db``.

>>> import io
>>> log = (b"# Time: 2026-03-01T12:00:01.000000Z\\n# User@Host: app[app] @ 10.0.0.5 []  Id: 42\\n"
...        b"# Query_time: 2.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 90000\\n"
...        b"SET timestamp=1772366401;\\nSELECT * FROM orders\\nWHERE customer_id = 42;\\n")
>>> [r] = parse(io.BytesIO(log), ParseContext("slow.log"))
>>> r.message, r.attrs["duration_ms"], r.attrs["rows_examined"], r.ts.isoformat()
('SELECT * FROM orders\\nWHERE customer_id = 42;', 2500.0, 90000, '2026-03-01T12:00:01+00:00')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, iter_lines
from casework.model import LogRecord

MAX_STATEMENT_CHARS = 64 * 1024
_PAIR = re.compile(r"(\w+): +(\S+)")
_USER_HOST = re.compile(
    r"^# User@Host: (?P<user>\S*?)\[[^\]]*\] @ (?P<host>[^\[]*?)\s*\[(?P<ip>[^\]]*)\]"
)
_ISO_TIME = re.compile(r"^# Time: (\d{4}-\d\d-\d\dT[\d:.]+)(Z|[+-]\d\d:\d\d)?")
_OLD_TIME = re.compile(r"^# Time: (\d{6}) +(\d{1,2}:\d\d:\d\d)")
_SET_TS = re.compile(r"^SET timestamp=(\d+);$", re.I)
_USE = re.compile(r"^use ([`\w$]+);$", re.I)
_NUMBERS = {"Query_time": "duration_ms", "Lock_time": "lock_ms"}


#: The logger of every event this parser writes: how the slow-query analyzer finds them
#: without reading every event's attributes.
LOGGER = "slow_query_log"


def sniff(head: bytes) -> float:
    text = head.decode("utf-8", "replace")
    if "# Query_time:" in text and ("# User@Host:" in text or "# Time:" in text):
        return 0.97
    if text.lstrip().startswith(("/usr/sbin/mysqld", "/usr/sbin/mariadbd")) and "Argument" in text:
        return 0.8
    return 0.0


class _Entry:
    def __init__(self, line: int) -> None:
        self.line = line
        self.end = line
        self.ts: datetime | None = None
        self.attrs: dict[str, Any] = {"slow_query": True}
        self.sql: list[str] = []
        self.chars = 0

    def record(self, tz_ts: datetime | None) -> LogRecord | None:
        if not self.sql or "duration_ms" not in self.attrs:
            return None
        return LogRecord(
            line=self.line,
            end_line=self.end,
            message="\n".join(self.sql),
            ts=self.ts or tz_ts,
            level="INFO",
            service="mysql",
            logger=LOGGER,
            attrs=self.attrs,
        )


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per slow statement; an entry without Query_time or statement is counted bad."""
    entry: _Entry | None = None
    for number, text in iter_lines(stream, ctx):
        if text.startswith("# ") and (entry is None or entry.sql):
            if entry is not None:
                yield from _finish(entry, ctx)
            entry = _Entry(number)
        if entry is None:
            continue  # the server's banner before the first entry
        entry.end = number
        if text.startswith("# "):
            _header(entry, text, ctx)
        elif (match := _SET_TS.match(text.strip())) is not None:
            entry.ts = datetime.fromtimestamp(int(match[1]), UTC)
        elif (match := _USE.match(text.strip())) is not None:
            entry.attrs["db"] = match[1].strip("`")
        elif text.strip() and entry.chars < MAX_STATEMENT_CHARS:
            entry.sql.append(text)
            entry.chars += len(text)
    if entry is not None:
        yield from _finish(entry, ctx)


def _finish(entry: _Entry, ctx: ParseContext) -> Iterator[LogRecord]:
    record = entry.record(None)
    if record is None:
        ctx.bad(entry.line, "slow log entry without Query_time or statement")
        return
    yield record


def _header(entry: _Entry, text: str, ctx: ParseContext) -> None:
    if text.startswith("# Time:"):
        entry.ts = entry.ts or _time(text, ctx)
        return
    user = _USER_HOST.match(text)
    if user:
        entry.attrs["user"] = user["user"]
        entry.attrs["host"] = user["host"] or user["ip"]
        return
    for key, value in _PAIR.findall(text):
        try:
            number = float(value)
        except ValueError:
            if key == "Schema":
                entry.attrs["db"] = value
            continue
        if key in _NUMBERS:
            entry.attrs[_NUMBERS[key]] = number * 1000.0
        else:
            entry.attrs[key.lower()] = int(number) if number.is_integer() else number


def _time(text: str, ctx: ParseContext) -> datetime | None:
    iso = _ISO_TIME.match(text)
    if iso:
        zone = iso[2] or ""
        stamp = datetime.fromisoformat(iso[1] + ("+00:00" if zone in ("", "Z") else zone))
        if not iso[2]:
            stamp = stamp.replace(tzinfo=ctx.tz)
        return stamp.astimezone(UTC)
    old = _OLD_TIME.match(text)
    if old:
        stamp = datetime.strptime(f"{old[1]} {old[2]}", "%y%m%d %H:%M:%S")
        return stamp.replace(tzinfo=ctx.tz).astimezone(UTC)
    return None


FORMAT = Format(
    kind="mysql-slow-log",
    category="log",
    sniff=sniff,
    parse=parse,
    description="MySQL/MariaDB slow query log",
)
