"""PostgreSQL ``csvlog`` server logs: one CSV row per record, quoted fields may span lines.

The columns are fixed by the server (23 up to PostgreSQL 12, 24 in 13, 26
from 14 on): time, user, database, pid, client, session id and line,
command tag, session start, transaction ids, severity, SQLSTATE, message,
detail, hint, internal query and position, context, query and position,
location, application, then backend type, leader pid, query id. Attribute
names match the stderr reader's (``pg.severity``, ``pg.user``, ``pg.db``,
``pg.statement``...), so analyzers see one PostgreSQL log either way.

>>> import io
>>> row = (b'2026-03-01 12:00:00.123 UTC,"app","shop",4123,"10.0.0.5:5100",65e1.101b,7,'
...        b'"SELECT",2026-03-01 11:00:00 UTC,3/42,0,LOG,00000,"duration: 12.3 ms",,,,,,'
...        b'"SELECT 1",,,"psql","client backend",,0\\n')
>>> rec = next(parse(io.BytesIO(row), ParseContext("postgresql.csv")))
>>> rec.level, rec.attrs["pg.duration_ms"], rec.attrs["pg.statement"], rec.attrs["pg.db"]
('INFO', 12.3, 'SELECT 1', 'shop')
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, iter_lines
from casework.formats.sniffing import share, text_lines
from casework.model import LogRecord
from casework.timeparse import parse_ts

_SEVERITIES = frozenset(
    {"LOG", "ERROR", "WARNING", "FATAL", "PANIC", "NOTICE", "INFO", "DEBUG", "DEBUG1",
     "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5"}
)  # fmt: skip
_LEVELS = {"LOG": "INFO", "NOTICE": "INFO", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR",
           "FATAL": "FATAL", "PANIC": "FATAL"}  # fmt: skip
#: Column index -> attribute (the stderr reader's names where it has one).
_COLUMNS = {1: "pg.user", 2: "pg.db", 3: "pid", 4: "pg.client", 7: "pg.command", 12: "pg.sqlstate",
            14: "pg.detail", 15: "pg.hint", 16: "pg.internal_query", 18: "pg.context",
            19: "pg.statement", 22: "pg.app", 23: "pg.backend_type"}  # fmt: skip
_DURATION = re.compile(r"duration: (\d+(?:\.\d+)?) ms")
_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? ?[A-Za-z+\-:\d]*$")


def _is_row(cells: list[str]) -> bool:
    return 23 <= len(cells) <= 26 and cells[11] in _SEVERITIES and bool(_STAMP.match(cells[0]))


def sniff(head: bytes) -> float:
    """Most lines are CSV rows of 23 to 26 cells with a time first and a severity twelfth."""
    lines = text_lines(head)
    if not lines:
        return 0.0
    sample = lines[:50]
    rows = 0
    for cells in csv.reader(sample):
        rows += _is_row(cells)
    # a message or query with a newline continues on the next line: those lines are no rows
    return 0.96 if share(rows, len(sample)) >= 0.5 else 0.0


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per CSV row; rows of another shape are counted as bad."""
    numbered = iter_lines(stream, ctx)
    reader = csv.reader(text + "\n" for _, text in numbered)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a NUL byte or an unterminated quote at the end
            ctx.bad(start, f"not valid CSV ({exc})")
            start = reader.line_num + 1
            continue
        first, start = start, reader.line_num + 1
        if not cells:
            continue
        if not _is_row(cells):
            ctx.bad(first, "not a PostgreSQL csvlog row")
            continue
        yield _record(cells, first, reader.line_num, ctx)


def _record(cells: list[str], line: int, end: int, ctx: ParseContext) -> LogRecord:
    stamp = parse_ts(cells[0], ctx.tz, ctx.year)
    severity, message = cells[11], cells[13]
    attrs: dict[str, Any] = {"pg.severity": severity}
    for index, key in _COLUMNS.items():
        if index < len(cells) and cells[index]:
            attrs[key] = cells[index]
    m = _DURATION.match(message)
    if m is not None:
        attrs["pg.duration_ms"] = float(m.group(1))
    rec = LogRecord(
        line=line,
        message=message,
        ts=stamp[0] if stamp else None,
        level=_LEVELS.get(severity, "DEBUG"),
        service="postgres",
        attrs=attrs,
        ts_assumed=stamp[1] if stamp else False,
    )
    rec.end_line = end
    return rec


FORMAT = Format(
    kind="postgres-csvlog",
    category="log",
    sniff=sniff,
    parse=parse,
    description="PostgreSQL csvlog server log (log_destination = csvlog)",
)
