"""nginx/Apache access logs: common and combined log format, with request and upstream time at the end.

The request becomes canonical attributes (``http.method``, ``http.path``,
``http.status``, ``http.duration_ms``, ``client.ip``...) and the message is
the request line. A trailing unitless decimal is nginx ``$request_time``
(seconds); a trailing integer is Apache ``%D`` (microseconds);
``key=value`` tails (``rt=0.120 urt="0.118"``) are read by name.

>>> import io
>>> line = (b'10.0.0.7 - - [01/Mar/2026:12:00:00 +0000] "GET /api/v1/items?page=2 HTTP/1.1" '
...         b'502 157 "-" "curl/8.5.0" 0.250')
>>> rec = next(parse(io.BytesIO(line), ParseContext("access.log")))
>>> rec.attrs["http.path"], rec.attrs["http.status"], rec.attrs["http.duration_ms"]
('/api/v1/items', 502, 250.0)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import orjson

from casework.formats.base import Format, ParseContext, any_line, in_batches, iter_lines
from casework.formats.httpfields import add_request_line
from casework.formats.sniffing import line_match_share
from casework.model import FastLine, LogLines, LogRecord
from casework.routes import route_template
from casework.timeparse import parse_ts

_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
_LINE = re.compile(
    rf"(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]{{10,40}})\] "
    rf"{_QUOTED} (?P<status>\d{{3}}|-) (?P<bytes>\d+|-)"
    rf"(?: {_QUOTED} {_QUOTED})?(?P<rest>.*)"
)
_TAIL_KEYS = {
    "rt": "http.duration_ms", "request_time": "http.duration_ms",
    "urt": "http.upstream_ms", "upstream_response_time": "http.upstream_ms",
}  # fmt: skip
#: Seconds added to a minute's time; a leap second (60) reads as 59, as ``parse_ts`` does.
_SECONDS = [timedelta(seconds=min(n, 59)) for n in range(61)]
_TAIL = re.compile(r'(\w+)=("[^"]*"|\S+)|"([^"]*)"|(\S+)')


def sniff(head: bytes) -> float:
    """Most lines match the common log format."""
    return 0.95 if line_match_share(head, _LINE) >= 0.6 else 0.0


def _tail(rest: str, attrs: dict[str, Any]) -> None:
    """Request/upstream time and extra quoted fields after the combined format."""
    if "=" not in rest and '"' not in rest:  # the common nginx tail: " 0.012 0.011"
        numbers = rest.split()
    else:
        numbers = []
        for m in _TAIL.finditer(rest):
            key, value, quoted, bare = m.groups()
            if key is not None:
                canon = _TAIL_KEYS.get(key)
                value = value.strip('"')
                seconds = _seconds(value)
                if canon is not None and seconds is not None:
                    attrs.setdefault(canon, round(seconds * 1000, 3))
                else:
                    attrs[f"nginx.{key}"] = value
            elif quoted is not None and quoted not in ("", "-"):
                attrs.setdefault("http.forwarded_for", quoted)
            elif bare is not None:
                numbers.append(bare)
    for i, value in enumerate(numbers[:2]):
        canon = "http.duration_ms" if i == 0 else "http.upstream_ms"
        if value.isdigit():
            attrs.setdefault(canon, int(value) / 1000)  # Apache %D, microseconds
        else:
            seconds = _seconds(value)
            if seconds is not None:
                attrs.setdefault(canon, round(seconds * 1000, 3))


def _seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    # upstream times list every tried upstream ("0.004, 0.120"); the last one answered
    value = value.rsplit(",", 1)[-1].rsplit(":", 1)[-1].strip()
    try:
        return float(value)
    except ValueError:
        return None


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per request line; lines that do not match are counted as bad."""
    seen: dict[str, tuple[datetime, bool] | None] = {}
    for number, text in iter_lines(stream, ctx):
        if text:
            rec = _record(number, text, seen, ctx)
            if rec is not None:
                yield rec


def _record(
    number: int, text: str, seen: dict[str, tuple[datetime, bool] | None], ctx: ParseContext
) -> LogRecord | None:
    m = _LINE.match(text)
    if m is None:
        ctx.bad(number, "not an access-log line")
        return None
    ip, _ident, user, when, request, status, size, referer, agent, rest = m.groups()
    stamp = _stamp(when, seen, ctx)
    attrs: dict[str, Any] = {"client.ip": ip}
    if user != "-":
        attrs["user"] = user
    add_request_line(request, attrs)
    if status != "-":
        attrs["http.status"] = int(status)
    if size != "-":
        attrs["http.bytes"] = int(size)
    if referer not in (None, "-", ""):
        attrs["http.referer"] = referer
    if agent not in (None, "-", ""):
        attrs["http.user_agent"] = agent
    if rest and not rest.isspace():
        _tail(rest, attrs)
    return LogRecord(
        line=number,
        message=request,
        ts=stamp[0] if stamp else None,
        attrs=attrs,
        ts_assumed=stamp[1] if stamp else False,
    )


def _stamp(
    when: str, seen: dict[str, tuple[datetime, bool] | None], ctx: ParseContext
) -> tuple[datetime, bool] | None:
    # CLF times (01/Mar/2026:12:00:07 +0000) are parsed once per minute and zone.
    clf = len(when) == 26 and when[17] == ":" and when[18:20].isdigit()
    key = when[:17] + when[20:] if clf else when
    if key in seen:
        stamp = seen[key]
    else:
        stamp = parse_ts(when[:18] + "00" + when[20:] if clf else when, ctx.tz, ctx.year)
        if len(seen) >= 8192:
            seen.clear()
        seen[key] = stamp
    if clf and stamp is not None:
        stamp = (stamp[0] + _SECONDS[int(when[18:20])], stamp[1])
    return stamp


#: The commonest line (nginx's and Apache's default combined format, no user, a plain
#: request line, at most two plain numbers after it), in a form whose fields need no JSON
#: escapes: every other line goes through ``_record``.
_FAST = re.compile(
    r'([^\x00-\x20"\\]+) \S+ - \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
    r'"(([^\x00-\x20"\\]+) ([^\x00-\x20"\\]+) ([^\x00-\x20"\\]+))" ([1-5]\d\d|-) (\d+|-)'
    r'(?: "([^\x00-\x1f"\\]*)" "([^\x00-\x1f"\\]*)")?((?: +[0-9.]+){0,2}) *'
)
#: Lines per batch the fast path hands to the writer.
BATCH_LINES = 4096


def scan(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogLines]:
    """What ``parse`` reads, for the scan: lines of the common shape straight into the store's
    shape (no record, attributes written as JSON text once), the others as ``parse`` does."""
    return in_batches(_lines(stream, ctx), BATCH_LINES)


def _lines(stream: BinaryIO, ctx: ParseContext) -> Iterator[FastLine | LogRecord]:
    seen: dict[str, tuple[datetime, bool] | None] = {}
    stamps: dict[str, tuple[datetime, bool] | None] = {}
    tails: dict[str, tuple[str, float | None, tuple[str, ...]]] = {}
    keysets: dict[tuple[object, ...], tuple[str, ...]] = {}
    fullmatch = _FAST.fullmatch
    for number, text in iter_lines(stream, ctx):
        if not text:
            continue
        m = fullmatch(text) if text.isascii() else None
        if m is None or "://" in m[5]:
            rec = _record(number, text, seen, ctx)
            if rec is not None:
                yield rec
        else:
            yield _fast_line(number, m, seen, stamps, tails, keysets, ctx)


def _fast_line(
    number: int,
    m: re.Match[str],
    seen: dict[str, tuple[datetime, bool] | None],
    stamps: dict[str, tuple[datetime, bool] | None],
    tails: dict[str, tuple[str, float | None, tuple[str, ...]]],
    keysets: dict[tuple[object, ...], tuple[str, ...]],
    ctx: ParseContext,
) -> FastLine:
    """The line as ``_record`` reads it, its attributes written as ``orjson`` would write them
    (same keys in the same order; the fields hold nothing JSON escapes)."""
    ip, when, request, method, target, protocol, status, size, referer, agent, rest = m.groups()
    try:  # most lines share their second with the line before
        stamp = stamps[when]
    except KeyError:
        stamp = _stamp(when, seen, ctx)
        if len(stamps) >= 8192:
            stamps.clear()
        stamps[when] = stamp
    path, sep, query = target.partition("?")
    code = int(status) if status != "-" else None
    nbytes = int(size) if size != "-" else None
    has_referer = referer is not None and referer != "-" and referer != ""
    has_agent = agent is not None and agent != "-" and agent != ""
    tail: tuple[str, float | None, tuple[str, ...]] = ("", None, ())
    if rest:
        cached = tails.get(rest)
        if cached is None:
            timing: dict[str, Any] = {}
            _tail(rest, timing)
            fragment = orjson.dumps(timing).decode()[1:-1]
            cached = (
                "," + fragment if fragment else "",
                timing.get("http.duration_ms"),
                tuple(timing),
            )
            if len(tails) < 65536:
                tails[rest] = cached
        tail = cached
    shape = (bool(sep), code is not None, nbytes is not None, has_referer, has_agent, tail[2])
    keys = keysets.get(shape)
    if keys is None:
        keys = keysets[shape] = _keys(shape)
    attrs_json = "".join((
        '{"client.ip":"', ip, '","http.method":"', method, '","http.path":"', path,
        f'","http.query":"{query}' if sep else "", '","http.protocol":"', protocol, '"',
        f',"http.status":{code}' if code is not None else "",
        f',"http.bytes":{nbytes}' if nbytes is not None else "",
        f',"http.referer":"{referer}"' if has_referer else "",
        f',"http.user_agent":"{agent}"' if has_agent else "",
        tail[0], "}",
    ))  # fmt: skip
    return (
        number, stamp[0] if stamp else None, request, attrs_json, keys, method,
        route_template(path) if path else None,
        code, tail[1], nbytes, agent if has_agent else ip, None, None, False,
    )  # fmt: skip


def _keys(shape: tuple[object, ...]) -> tuple[str, ...]:
    query, status, size, referer, agent, timing = shape
    optional = [("http.status", status), ("http.bytes", size), ("http.referer", referer),
                ("http.user_agent", agent)]  # fmt: skip
    return (
        "client.ip", "http.method", "http.path", *(["http.query"] if query else []),
        "http.protocol", *(k for k, present in optional if present), *timing,  # type: ignore[misc]
    )  # fmt: skip


FORMAT = Format(
    kind="access-log",
    category="http",
    sniff=sniff,
    parse=parse,
    cut=any_line,
    scan=scan,
    description="nginx/Apache access log (common or combined, optional request time)",
)
