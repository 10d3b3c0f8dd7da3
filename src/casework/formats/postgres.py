"""PostgreSQL server log (stderr/``log_line_prefix`` layout), multi-line statements and DETAIL/HINT/CONTEXT joined.

A primary line (LOG, ERROR, FATAL...) starts a record; the DETAIL, HINT,
CONTEXT, STATEMENT and QUERY lines of the same backend that follow go to
``attrs`` (``pg.detail``...), and indented continuation lines extend
whatever came last. ``duration: X ms`` becomes ``pg.duration_ms``.

>>> import io
>>> log = (b"2026-03-01 12:00:00.123 UTC [1234] LOG:  duration: 12.3 ms  statement: SELECT 1\\n"
...        b"2026-03-01 12:00:01.000 UTC [1234] ERROR:  division by zero\\n"
...        b"2026-03-01 12:00:01.000 UTC [1234] STATEMENT:  SELECT 1/0\\n")
>>> a, b = parse(io.BytesIO(log), ParseContext("postgresql.log"))
>>> a.attrs["pg.duration_ms"], b.level, b.attrs["pg.statement"], b.end_line
(12.3, 'ERROR', 'SELECT 1/0', 3)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, iter_lines
from casework.formats.sniffing import share, text_lines
from casework.model import LogRecord
from casework.timeparse import LineClock

MAX_RECORD_CHARS = 256 * 1024
_SEVERITY = re.compile(
    r"(?:^|\s)(LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]?|DETAIL|HINT|CONTEXT"
    r"|STATEMENT|QUERY|LOCATION):  "
)
_LEVELS = {"LOG": "INFO", "NOTICE": "INFO", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR",
           "FATAL": "FATAL", "PANIC": "FATAL"}  # fmt: skip
_SECONDARY = frozenset({"DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"})
_PID = re.compile(r"\[(\d+)(?:-(\d+))?\]")
_PAIRS = re.compile(r"(\w+)=([^,\s\]]*)")
_USER_DB = re.compile(r"(?:^|\s)([\w.\-\[\]]+)@([\w.\-\[\]]+)(?:\s|$)")
_DURATION = re.compile(r"duration: (\d+(?:\.\d+)?) ms")
_SQLSTATE = re.compile(r"(?:^|\s)([0-9A-Z]{5})(?:\s|$)")


def sniff(head: bytes) -> float:
    """Most lines start with a timestamp and carry a PostgreSQL severity keyword."""
    lines = text_lines(head)
    if not lines:
        return 0.0
    clock = LineClock()
    hits = stamped = 0
    for line in lines[:100]:
        stamp = clock.read(line)
        if stamp is None:
            continue
        stamped += 1
        hits += _SEVERITY.search(line, stamp.end, stamp.end + 400) is not None
    return 0.95 if stamped and share(hits, stamped) >= 0.6 else 0.0


def _prefix(text: str, attrs: dict[str, Any]) -> None:
    """Fields of ``log_line_prefix`` between the timestamp and the severity."""
    # "[%p]", "[%p-%l]", or "[%p]: [%l-1]" (the documented example prefix)
    for m in _PID.finditer(text):
        if "pid" not in attrs:
            attrs["pid"] = m.group(1)
            if m.group(2):
                attrs["pg.session_line"] = int(m.group(2))
        elif m.group(2):
            attrs["pg.session_line"] = int(m.group(1))
            break
    for key, value in _PAIRS.findall(text):
        if value:
            attrs[f"pg.{key}"] = value
    who = _USER_DB.search(text)
    if who is not None and "pg.user" not in attrs:
        attrs["pg.user"], attrs["pg.db"] = who.group(1), who.group(2)
    state = _SQLSTATE.search(text)
    if state is not None and any(c.isdigit() for c in state.group(1)):
        attrs["pg.sqlstate"] = state.group(1)


class _Record:
    __slots__ = ("chars", "key", "parts", "pid", "record")

    def __init__(self, record: LogRecord, pid: str | None) -> None:
        self.record = record
        self.pid = pid
        self.key: str | None = None  # the attr the last line went to; None: the message
        self.parts: dict[str | None, list[str]] = {None: [record.message]}
        self.chars = len(record.message)

    def add(self, number: int, key: str | None, text: str) -> None:
        self.record.end_line = number
        if self.chars >= MAX_RECORD_CHARS:
            self.record.attrs["truncated"] = True
            return
        self.chars += len(text)
        if key is not None and key != self.key:
            self.key = key
            self.parts.setdefault(key, [])
        self.parts.setdefault(self.key, []).append(text)

    def done(self) -> LogRecord:
        rec = self.record
        for key, parts in self.parts.items():
            text = "\n".join(parts)
            if key is None:
                rec.message = text
            else:
                rec.attrs[key] = text
        m = _DURATION.match(rec.message)
        if m is not None:
            rec.attrs["pg.duration_ms"] = float(m.group(1))
        return rec


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """Records from primary lines, with secondary and continuation lines joined."""
    clock = LineClock(ctx.tz, ctx.year)
    current: _Record | None = None
    prefixes: dict[str, dict[str, Any]] = {}  # one backend repeats its prefix on every line
    for number, text in iter_lines(stream, ctx):
        stamp = clock.read(text)
        # a log_line_prefix is short; looking further would only find keywords in messages
        sev = _SEVERITY.search(text, stamp.end, stamp.end + 400) if stamp is not None else None
        if stamp is None or sev is None:
            if current is not None:
                current.add(number, None, text.strip() if current.key else text)
            elif text.strip():
                ctx.bad(number, "no PostgreSQL log prefix")
            continue
        prefix = text[stamp.end : sev.start()]
        known = prefixes.get(prefix)
        if known is None:
            known = {}
            _prefix(prefix, known)
            if len(prefixes) >= 4096:
                prefixes.clear()
            prefixes[prefix] = known
        attrs = dict(known)
        severity = sev.group(1)
        body = text[sev.end() :]
        pid = attrs.get("pid")
        if severity in _SECONDARY and current is not None and current.pid == pid:
            current.add(number, f"pg.{severity.lower()}", body)
            continue
        if current is not None:
            yield current.done()
        attrs["pg.severity"] = severity
        rec = LogRecord(line=number, message=body, ts=stamp.ts,
                        level=_LEVELS.get(severity, "DEBUG"), service="postgres",
                        attrs=attrs, ts_assumed=stamp.assumed)  # fmt: skip
        current = _Record(rec, pid)
    if current is not None:
        yield current.done()


FORMAT = Format(
    kind="postgres-log",
    category="log",
    sniff=sniff,
    parse=parse,
    description="PostgreSQL server log (log_line_prefix variants, multi-line statements)",
)
