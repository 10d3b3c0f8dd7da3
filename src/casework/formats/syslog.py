"""Syslog: RFC 3164 (``Jun 14 15:16:01 host tag[pid]: msg``, year from context) and RFC 5424 with structured data.

The program (tag / APP-NAME) becomes the record's service; host, pid,
facility, msgid and every structured-data parameter go to ``attrs``
(``<sd-id>.<name>``). The level comes from PRI when present.

>>> import io
>>> line = b'<165>1 2026-03-01T12:00:00.5Z web1 api 42 ID47 [req@32473 status="503"] upstream timeout'
>>> rec = next(parse(io.BytesIO(line), ParseContext("syslog")))
>>> rec.level, rec.service, rec.attrs["req@32473.status"], rec.message
('INFO', 'api', '503', 'upstream timeout')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, iter_lines
from casework.formats.fieldroles import level_name
from casework.formats.sniffing import share, text_lines
from casework.formats.textheader import LEVEL_WORDS
from casework.model import LogRecord
from casework.timeparse import LineClock, parse_ts

_PRI = re.compile(r"<(\d{1,3})>")
_5424 = re.compile(r"<(\d{1,3})>\d{1,2} (\S+) (\S+) (\S+) (\S+) (\S+) ?(.*)")
_3164_START = re.compile(
    r"(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) \S"
)
_TAGGED = re.compile(r"\s*(\S+) ([^\s:\[]{1,64})(?:\[([^\]]{0,32})\])?:(?: |$)")
#: An RFC 3164 header inside another log's line, after that log's own time and at most three
#: fields of its own (loghub's Thunderbird: ``- 1131566461 2005.11.09 dn228 Nov 9 12:01:01
#: dn228/dn228 crond[2915]: msg``; a collector that stamps the lines it forwards).
_EMBEDDED = re.compile(
    r"((?:\S+ ){0,3}?)(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]?\d"
    r" \d\d:\d\d:\d\d (\S+) (?:([^\s:\[]{1,64})(?:\[([^\]]{0,32})\])?:(?: |$))?"
)
_SD_ELEMENT = re.compile(r'\[([^\s\]=]+)((?: [^\s=\]]+="[^"\\]*(?:\\.[^"\\]*)*")*)\]')
_SD_PARAM = re.compile(r'([^\s=\]]+)="([^"\\]*(?:\\.[^"\\]*)*)"')
_FACILITIES = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "audit",
    "alert",
    "clock",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
]


def embedded(message: str) -> tuple[str, str, str | None, str | None, str] | None:
    """(fields before it, host, program, pid, message) of a syslog header that starts
    ``message`` after at most three fields, or None. A kernel's untagged lines have no program."""
    m = _EMBEDDED.match(message)
    if m is None:
        return None
    lead, host, program, pid = m.groups()
    return lead.strip(), host, program, pid, message[m.end() :]


def sniff(head: bytes) -> float:
    """Most lines are RFC 5424 (0.95) or RFC 3164 with a host (0.9)."""
    lines = text_lines(head)
    if not lines:
        return 0.0
    sample = lines[:100]
    if share(sum(1 for line in sample if _5424.match(line)), len(sample)) >= 0.6:
        return 0.95
    hits = tagged = 0
    for line in sample:
        m = _3164_START.match(line)
        if m is not None:
            hits += 1
            tagged += _TAGGED.match(line, m.end() - 2) is not None
    if share(hits, len(sample)) >= 0.6:
        # untagged lines after a time are any text log's; below the text-log dialects
        return 0.9 if share(tagged, hits) >= 0.5 else 0.55
    return 0.0


def _pri(attrs: dict[str, Any], pri: int) -> str | None:
    facility = pri >> 3
    attrs["syslog.facility"] = _FACILITIES[facility] if facility < len(_FACILITIES) else facility
    return level_name(pri & 7)


def _structured(rest: str, attrs: dict[str, Any]) -> str:
    """Read SD elements into attrs; return the MSG after them."""
    if rest.startswith("- ") or rest == "-":
        return rest[2:].lstrip("\ufeff")
    pos = 0
    while pos < len(rest) and rest[pos] == "[":
        m = _SD_ELEMENT.match(rest, pos)
        if m is None:
            break
        for name, value in _SD_PARAM.findall(m.group(2)):
            attrs[f"{m.group(1)}.{name}"] = value.replace('\\"', '"').replace("\\]", "]")
        pos = m.end()
    return rest[pos:].lstrip(" ").lstrip("\ufeff")


def _5424_record(m: re.Match[str], number: int, ctx: ParseContext) -> LogRecord:
    pri, when, host, app, proc, msgid, rest = m.groups()
    attrs: dict[str, Any] = {}
    level = _pri(attrs, int(pri))
    for key, value in (("host", host), ("pid", proc), ("msgid", msgid)):
        if value != "-":
            attrs[key] = value
    message = _structured(rest, attrs)
    stamp = parse_ts(when, ctx.tz, ctx.year) if when != "-" else None
    return LogRecord(
        line=number,
        message=message,
        ts=stamp[0] if stamp else None,
        level=level,
        service=app if app != "-" else None,
        attrs=attrs,
        ts_assumed=stamp[1] if stamp else False,
    )


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per line; a line without a syslog timestamp is counted as bad."""
    clock = LineClock(ctx.tz, ctx.year)
    for number, text in iter_lines(stream, ctx):
        if not text:
            continue
        if text.startswith("<"):
            full = _5424.match(text)
            if full is not None:
                yield _5424_record(full, number, ctx)
                continue
        attrs: dict[str, Any] = {}
        level = None
        body = text
        pri = _PRI.match(text)
        if pri is not None:
            level = _pri(attrs, int(pri.group(1)))
            body = text[pri.end() :]
        stamp = clock.read(body)
        if stamp is None:
            ctx.bad(number, "no syslog timestamp")
            continue
        service = None
        message = body[stamp.end :].lstrip()
        tagged = _TAGGED.match(body, stamp.end)
        if tagged is not None:
            host, service, pid = tagged.groups()
            attrs["host"] = host
            if pid:
                attrs["pid"] = pid
            message = body[tagged.end() :]
        if level is None:
            level = _stated_level(message)
        yield LogRecord(
            line=number,
            message=message,
            ts=stamp.ts,
            level=level,
            service=service,
            attrs=attrs,
            ts_assumed=stamp.assumed,
        )
    note = clock.year_note()
    if note is not None:
        ctx.notes.append(note)


def _stated_level(message: str) -> str | None:
    """A level the program wrote at its message's start, when the line has no PRI: a level
    word in capitals (``ALERT exited abnormally``), or in lower case with a colon, the marker
    of OpenSSH, Postfix and many daemons (``error: Received disconnect``, ``warning: ...``)."""
    token = message.split(None, 1)[0] if message.strip() else ""
    word = token.strip("[]:<>")
    if word.isupper() or (word.islower() and token.endswith(":")):
        return LEVEL_WORDS.get(word.upper())
    return None


FORMAT = Format(
    kind="syslog",
    category="log",
    sniff=sniff,
    parse=parse,
    description="syslog (RFC 3164 or RFC 5424 with structured data)",
)
