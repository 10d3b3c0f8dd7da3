"""The JSON documents of a trace file: one whole document, or one per line, in bounded memory.

Trace exports come both ways: the Jaeger UI and Zipkin write one document
(often pretty-printed), the collector's file exporter one request per line.
A line of a collector file can be many MiB, so lines here are capped much
higher than log lines; a document over the cap is counted as bad, not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from casework.formats.base import ParseContext

#: Above this a single JSON document is not loaded (a trace export this big is split by lines).
MAX_DOCUMENT_BYTES = 256 << 20


def documents(stream: BinaryIO, ctx: ParseContext) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, parsed JSON)`` for each document; unparseable ones are counted in ``ctx``."""
    number = 0
    parsed_any = False
    while True:
        raw = stream.readline(MAX_DOCUMENT_BYTES)
        if not raw:
            return
        number += 1
        if len(raw) == MAX_DOCUMENT_BYTES and not raw.endswith(b"\n"):
            ctx.bad(number, "JSON document larger than the reader's limit")
            _skip_line(stream)
            continue
        if not raw.strip():
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            if parsed_any:
                ctx.bad(number, "line is not JSON")
                continue
            # A pretty-printed document: the first line alone does not parse.
            whole = _rest(stream, raw)
            if whole is None:
                ctx.bad(number, "JSON document larger than the reader's limit")
                return
            try:
                doc = orjson.loads(whole)
            except orjson.JSONDecodeError:
                # Not one document either: a request per line whose first line is broken.
                yield from _lines(whole, number, ctx)
                return
            yield number, doc
            return
        parsed_any = True
        yield number, doc


def _lines(whole: bytes, first: int, ctx: ParseContext) -> Iterator[tuple[int, Any]]:
    ctx.bad(first, "line is not JSON")
    for number, raw in enumerate(whole.split(b"\n")[1:], start=first + 1):
        if not raw.strip():
            continue
        try:
            yield number, orjson.loads(raw)
        except orjson.JSONDecodeError:
            ctx.bad(number, "line is not JSON")


def _rest(stream: BinaryIO, head: bytes) -> bytes | None:
    parts = [head]
    size = len(head)
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            return None
        parts.append(chunk)


def _skip_line(stream: BinaryIO) -> None:
    while True:
        rest = stream.readline(1 << 20)
        if not rest or rest.endswith(b"\n"):
            return
