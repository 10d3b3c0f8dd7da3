"""Envoy and Istio access logs in the default text format: one request per line, read into ``http.*`` facts.

Envoy's default line is ``[START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS
BYTES_RECEIVED BYTES_SENT DURATION UPSTREAM_TIME "X-FORWARDED-FOR"
"USER-AGENT" "X-REQUEST-ID" "AUTHORITY" "UPSTREAM_HOST"``; Istio's sidecars
insert response-code details and a quoted failure reason after the flags
and append cluster and address fields. Both are read by finding the run of
four numbers after the flags and the quoted fields after it, so either
layout (and tails added to it) parses.

>>> import io
>>> line = (b'[2026-03-01T12:00:00.250Z] "POST /v1/refunds?x=1 HTTP/1.1" 503 UF 120 91 30012 - '
...         b'"10.2.0.7" "okhttp/4.12.0" "6f1c" "api.example.com" "10.4.1.9:8080"')
>>> rec = next(parse(io.BytesIO(line), ParseContext("access.log")))
>>> a = rec.attrs
>>> a["http.path"], a["http.status"], a["http.duration_ms"], a["envoy.response_flags"], a["http.host"]
('/v1/refunds', 503, 30012.0, 'UF', 'api.example.com')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, any_line, iter_lines
from casework.formats.httpfields import add_request_line
from casework.formats.sniffing import line_match_share
from casework.model import LogRecord
from casework.timeparse import parse_ts

_HEAD = re.compile(
    r'\[(?P<time>\d{4}-\d\d-\d\dT[^\]]{8,30})\] "(?P<request>[^"]*)" (?P<code>\d{1,3}) (?P<flags>\S+)'
)
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
#: The quoted fields after the numbers, in the default format's order.
_QUOTED = ("http.forwarded_for", "http.user_agent", "request_id", "http.host", "upstream.host")


def sniff(head: bytes) -> float:
    """Most lines start with a bracketed ISO time, a quoted request line, a code and flags."""
    return 0.96 if line_match_share(head, _HEAD) >= 0.6 else 0.0


def _numbers(tokens: list[tuple[str, str]]) -> int | None:
    """Where the run of bytes in, bytes out, duration and upstream time starts among the tokens."""
    for i in range(len(tokens) - 3):
        run = [bare for quoted, bare in tokens[i : i + 4] if not quoted]
        if len(run) == 4 and run[0].isdigit() and run[1].isdigit() and run[2].isdigit() \
                and (run[3].isdigit() or run[3] == "-"):  # fmt: skip
            return i
    return None


def _attrs(request: str, code: str, flags: str, rest: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    add_request_line(request, attrs)
    status = int(code)
    if 100 <= status <= 599:  # 0: no response was sent (the client went away first)
        attrs["http.status"] = status
    else:
        attrs["envoy.response_code"] = status
    if flags != "-":
        attrs["envoy.response_flags"] = flags
    tokens = [(q, b) for q, b in _TOKEN.findall(rest)]
    start = _numbers(tokens)
    if start is None:
        return attrs
    received, sent, duration, upstream = (b for _, b in tokens[start : start + 4])
    attrs["http.request_bytes"] = int(received)
    attrs["http.bytes"] = int(sent)
    attrs["http.duration_ms"] = float(duration)
    if upstream.isdigit():
        attrs["http.upstream_ms"] = float(upstream)
    quoted = [q for q, b in tokens[start + 4 :] if not b]
    for key, value in zip(_QUOTED, quoted, strict=False):
        if value not in ("", "-"):
            attrs[key] = value
    forwarded = attrs.get("http.forwarded_for")
    if isinstance(forwarded, str):
        attrs["client.ip"] = forwarded.split(",", 1)[0].strip()
    return attrs


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per request line; lines that do not match are counted as bad."""
    for number, text in iter_lines(stream, ctx):
        if not text:
            continue
        m = _HEAD.match(text)
        if m is None:
            ctx.bad(number, "not an Envoy access-log line")
            continue
        stamp = parse_ts(m["time"], ctx.tz, ctx.year)
        yield LogRecord(
            line=number,
            message=m["request"],
            ts=stamp[0] if stamp else None,
            attrs=_attrs(m["request"], m["code"], m["flags"], text[m.end() :]),
            ts_assumed=stamp[1] if stamp else False,
        )


FORMAT = Format(
    kind="envoy-access-log",
    category="http",
    sniff=sniff,
    parse=parse,
    cut=any_line,
    description="Envoy/Istio access log (default text format)",
)
