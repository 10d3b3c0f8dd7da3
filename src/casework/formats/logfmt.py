"""logfmt logs: ``ts=... level=info msg="quoted value" key=value`` (Go logrus, Heroku, Grafana stack).

Values stay strings; time, level and message are found by name like in
JSON lines. Text before the first pair (a syslog or Heroku prefix) is read
for a timestamp.

>>> import io
>>> line = b'time="2026-03-01T12:00:00Z" level=error msg="db \\\\"main\\\\" down" status=503'
>>> rec = next(parse(io.BytesIO(line), ParseContext("app.log")))
>>> rec.level, rec.message, rec.attrs["http.status"]
('ERROR', 'db "main" down', 503)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, any_line, iter_lines
from casework.formats.fieldroles import (
    CANONICAL_LEVELS,
    Roles,
    find_roles,
    level_name,
    looks_like_log,
)
from casework.formats.httpfields import add_http, duration_ms
from casework.formats.sniffing import share, text_lines
from casework.model import LogRecord
from casework.timeparse import parse_ts

# Keys start at a token boundary and are bounded, so a long run without "=" costs O(n), not O(n²).
_PAIR = re.compile(r'(?<!\S)([^\s="]{1,128})=("[^"\\]*(?:\\.[^"\\]*)*"|[^\s"]*)')
#: The same pairs with the quoted value's inside and a bare value in separate groups.
_FIELDS = re.compile(r'(?<!\S)([^\s="]{1,128})=(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^\s"]*))')


def pairs(line: str) -> tuple[dict[str, Any], int, int]:
    """The key=value pairs of a line, the offset of the first, and the characters they cover."""
    out: dict[str, Any] = {}
    first = -1
    covered = 0
    for m in _PAIR.finditer(line):
        if first < 0:
            first = m.start()
        covered += m.end() - m.start()
    if first >= 0:
        out = values(line)
    return out, first, covered


def values(line: str) -> dict[str, Any]:
    """The key=value pairs of a line, quoted values unescaped."""
    if "\\" not in line:
        return {key: quoted or bare for key, quoted, bare in _FIELDS.findall(line)}
    return {
        key: quoted.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\") or bare
        for key, quoted, bare in _FIELDS.findall(line)
    }


def _is_logfmt(line: str) -> tuple[bool, dict[str, Any], str]:
    """Whether the line is mostly pairs, the pairs, and the text before them."""
    found, first, covered = pairs(line)
    text = line[first:] if first >= 0 else line
    prefix = line[:first].strip() if first > 0 else ""
    return len(found) >= 2 and covered >= 0.7 * len(text.replace(" ", "")), found, prefix


def _level(attrs: dict[str, Any], *, take: bool = False) -> str | None:
    """Heroku's ``at=info|warning|error`` when no level key names it (``take``: and remove it
    from the attributes, as a level key is)."""
    at = attrs.get("at")
    found = level_name(at) if isinstance(at, str) else None
    if found not in CANONICAL_LEVELS:
        return None
    if take:
        del attrs["at"]
    return found


#: Heroku's router: ``service=`` is the time the app took to answer.
_ROUTER = "heroku[router]:"


def sniff(head: bytes) -> float:
    """Most lines are mostly key=value pairs; higher when a time, level or message key is among them."""
    lines = text_lines(head)
    if not lines or lines[0].lstrip().startswith(("{", "[", "<")):
        return 0.0
    sample = lines[:100]
    hits = 0
    loglike = 0
    for line in sample:
        ok, found, prefix = _is_logfmt(line)
        if ok:
            hits += 1
            # a time before the pairs with Heroku's at= level counts too
            stamped = bool(prefix) and parse_ts(prefix.split()[0]) is not None
            loglike += looks_like_log(found) or (stamped and _level(found) is not None)
    if share(hits, len(sample)) < 0.8:
        return 0.0
    return 0.88 if share(loglike, hits) >= 0.5 else 0.65


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per line; a line without pairs keeps its text as the message."""
    cache: dict[tuple[str, ...], Roles] = {}
    for number, text in iter_lines(stream, ctx):
        if not text or text.isspace():
            continue
        attrs: dict[str, Any] = values(text)
        space, equals = text.find(" "), text.find("=")
        if not attrs:
            first = -1
        elif equals > 0 and (space < 0 or equals < space):
            first = 0
        else:
            m = _PAIR.search(text)
            first = m.start() if m is not None else -1
        shape = tuple(attrs)
        roles = cache.get(shape)
        if roles is None:
            roles = find_roles(attrs)
            if len(cache) < 1024:
                cache[shape] = roles
        ts = None
        assumed = False
        if roles.ts is not None:
            parsed = parse_ts(attrs[roles.ts], ctx.tz, ctx.year)
            if parsed is not None:
                ts, assumed = parsed
                del attrs[roles.ts]
        prefix = text[:first].strip() if first > 0 else ""
        body = text  # the message when no key names one: the line without a leading time
        if ts is None and prefix:
            stamp = prefix.split()[0]
            parsed = parse_ts(stamp, ctx.tz, ctx.year)
            if parsed is not None:
                ts, assumed = parsed
                body = text.lstrip()[len(stamp) :].lstrip()
        if prefix:
            attrs["prefix"] = prefix
        level = level_name(attrs.pop(roles.level)) if roles.level else _level(attrs, take=True)
        message = attrs.pop(roles.message) if roles.message else None
        service = attrs.pop(roles.service) if roles.service else None
        logger = attrs.pop(roles.logger) if roles.logger else None
        if first < 0:
            message = text
        add_http(attrs)
        if prefix.endswith(_ROUTER) and "http.status" in attrs:
            took = duration_ms(attrs.get("service"), 1.0)
            if took is not None:
                attrs.setdefault("http.duration_ms", took)
        yield LogRecord(
            line=number,
            message=str(message) if message is not None else body,
            ts=ts,
            level=level,
            service=str(service) if service is not None else None,
            logger=str(logger) if logger is not None else None,
            attrs=attrs,
            ts_assumed=assumed,
        )


FORMAT = Format(
    kind="logfmt",
    category="log",
    sniff=sniff,
    parse=parse,
    cut=any_line,
    description="logfmt log (key=value pairs, quoted values)",
)
