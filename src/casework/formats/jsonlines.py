"""JSON-lines logs with any field names: one object per line, time/level/message found by name or shape.

Every other field is kept in ``attrs`` with nested objects flattened to
dotted keys; request fields also get canonical ``http.*`` keys.

>>> import io
>>> ctx = ParseContext("app.jsonl")
>>> line = b'{"time":"2026-03-01T12:00:00Z","lvl":"warn","msg":"slow","http":{"status":503}}'
>>> rec = next(parse(io.BytesIO(line), ctx))
>>> rec.level, rec.message, rec.attrs["http.status"], rec.ts.isoformat()
('WARN', 'slow', 503, '2026-03-01T12:00:00+00:00')
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from casework.formats.base import Format, ParseContext, any_line, iter_lines
from casework.formats.fieldroles import Roles, find_roles, flatten, level_name, looks_like_log
from casework.formats.httpfields import add_http
from casework.formats.sniffing import share, text_lines
from casework.model import LogRecord
from casework.timeparse import epoch_to_utc, parse_ts

#: Keys of telemetry documents that other formats own (OTLP file exporter batches).
_FOREIGN_KEYS = ("resourceSpans", "resourceLogs", "resourceMetrics", "traceEvents")


def sniff(head: bytes) -> float:
    """High only for one log-like object per line; low for one big document or OTLP batches."""
    lines = text_lines(head)
    if not lines or not lines[0].lstrip().startswith("{"):
        return 0.0
    objects: list[dict[str, Any]] = []
    for line in lines[:50]:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            if any(k in obj for k in _FOREIGN_KEYS):
                return 0.05
            objects.append(obj)
    parsed = share(len(objects), min(len(lines), 50))
    if not objects or parsed < 0.5:
        return 0.1 * parsed
    loglike = share(sum(1 for o in objects if looks_like_log(flatten(o))), len(objects))
    if len(objects) == 1:
        return 0.55 if loglike else 0.1
    # a log with some raw lines among its objects (a stack trace printed to stdout) is still one
    if loglike >= 0.5:
        return 0.9 if parsed >= 0.8 else 0.75
    return 0.6 if parsed >= 0.8 else 0.3


def record_from(obj: dict[str, Any], number: int, ctx: ParseContext,
                cache: dict[tuple[str, ...], Roles]) -> LogRecord:  # fmt: skip
    """A log record from one decoded object (shared with other JSON-lines readers)."""
    flat = flatten(obj)
    shape = tuple(flat)
    roles = cache.get(shape)
    if roles is None:
        roles = find_roles(flat)
        if len(cache) < 1024:
            cache[shape] = roles
    ts = None
    assumed = False
    epoch = False
    if roles.ts is not None:
        value = flat.pop(roles.ts)
        if isinstance(value, str):
            parsed = parse_ts(value, ctx.tz, ctx.year)
            if parsed is not None:
                ts, assumed = parsed
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ts = epoch_to_utc(value)
            epoch = ts is not None
        if ts is None:
            flat[roles.ts] = value
    level = level_name(flat.pop(roles.level)) if roles.level is not None else None
    message = flat.pop(roles.message) if roles.message is not None else None
    service = flat.pop(roles.service) if roles.service is not None else None
    logger = flat.pop(roles.logger) if roles.logger is not None else None
    if not isinstance(message, str):
        message = " ".join(f"{k}={v}" for k, v in list(flat.items())[:6])
    # zap's production encoding: epoch seconds in "ts", the text in "msg".
    add_http(flat, zap=epoch and roles.ts == "ts" and roles.message == "msg")
    return LogRecord(
        line=number,
        message=message,
        ts=ts,
        level=level,
        service=service if isinstance(service, str) else None,
        logger=logger if isinstance(logger, str) else None,
        attrs=flat,
        ts_assumed=assumed,
    )


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per JSON object line; other lines are counted as bad, never raised."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    cache: dict[tuple[str, ...], Roles] = {}
    for number, text in iter_lines(stream, ctx):
        if not text or text.isspace():
            continue
        try:
            obj = loads(text)
        except decode_error:
            ctx.bad(number, "not valid JSON")
            continue
        if not isinstance(obj, dict):
            ctx.bad(number, "JSON value is not an object")
            continue
        yield record_from(obj, number, ctx, cache)


FORMAT = Format(
    kind="jsonl",
    category="log",
    sniff=sniff,
    parse=parse,
    cut=any_line,
    description="JSON-lines log (one object per line, any field names)",
)
