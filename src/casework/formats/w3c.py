"""W3C extended log files (IIS, and proxies/CDNs that copy the layout): ``#Fields:`` names the columns.

Times are UTC by the format's definition. Request columns get the canonical
``http.*`` keys; every column is also kept under its own name.

>>> import io
>>> log = (b"#Software: Microsoft Internet Information Services 10.0\\n"
...        b"#Fields: date time cs-method cs-uri-stem cs-uri-query sc-status time-taken\\n"
...        b"2026-03-02 14:05:03 POST /v1/refunds dry=1 500 1204\\n")
>>> rec = next(parse(io.BytesIO(log), ParseContext("u_ex260302.log")))
>>> rec.message, rec.attrs["http.status"], rec.attrs["http.duration_ms"], rec.ts.isoformat()
('POST /v1/refunds', 500, 1204.0, '2026-03-02T14:05:03+00:00')
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, iter_lines
from casework.formats.sniffing import text_lines
from casework.model import LogRecord
from casework.timeparse import parse_ts

_CANON = {
    "cs-method": "http.method", "cs-uri-stem": "http.path", "cs-uri-query": "http.query",
    "cs-host": "http.host", "cs(user-agent)": "http.user_agent", "cs(referer)": "http.referer",
    "c-ip": "client.ip", "cs-username": "user", "sc-bytes": "http.bytes",
}  # fmt: skip
_INTS = {"sc-status": "http.status", "sc-substatus": "http.substatus"}


def sniff(head: bytes) -> float:
    """A ``#Fields:`` directive among the first lines."""
    lines = text_lines(head, 20)
    return 0.95 if any(line.startswith("#Fields:") for line in lines[:10]) else 0.0


def _record(number: int, fields: list[str], cells: list[str], ctx: ParseContext) -> LogRecord:
    row = dict(zip(fields, cells, strict=False))
    attrs: dict[str, Any] = {}
    for name, value in row.items():
        if value == "-":
            continue
        attrs[name] = value
        key = name.lower()
        canon = _CANON.get(key)
        if canon is not None:
            attrs[canon] = value.replace("+", " ") if key == "cs(user-agent)" else value
        elif key in _INTS and value.isdigit():
            attrs[_INTS[key]] = int(value)
        elif key == "time-taken" and value.isdigit():
            attrs["http.duration_ms"] = float(value)  # IIS writes milliseconds
    when = f"{row.get('date', '')} {row.get('time', '')}".strip()
    stamp = parse_ts(when, UTC, ctx.year) if when else None
    method, path = attrs.get("http.method", ""), attrs.get("http.path", "")
    return LogRecord(
        line=number,
        message=f"{method} {path}".strip() or " ".join(cells),
        ts=stamp[0] if stamp else None,
        attrs=attrs,
    )


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per data line, columns from the latest ``#Fields:`` directive."""
    fields: list[str] = []
    for number, text in iter_lines(stream, ctx):
        if not text:
            continue
        if text.startswith("#"):
            if text.startswith("#Fields:"):
                fields = text[8:].split()
            continue
        cells = text.split(" ")
        if not fields or len(cells) != len(fields):
            ctx.bad(number, "columns do not match the #Fields directive")
            continue
        yield _record(number, fields, cells, ctx)


FORMAT = Format(
    kind="w3c-log",
    category="http",
    sniff=sniff,
    parse=parse,
    description="W3C extended log (IIS and compatible), columns from #Fields",
)
