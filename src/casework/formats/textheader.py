"""The fields after a text-log line's timestamp: level, logger, thread, pid, and where the message starts.

Text logs put these in many orders (log4j ``INFO [main] a.b.C: msg``,
Python ``- name - ERROR - msg``, logcat ``1702 2395 D Tag: msg``, Spring
``INFO 1 --- [main] o.s.C : msg``, Apache ``[error] msg``). One short scan
over the first tokens handles them all without a regex per layout.

>>> split_header(" INFO [main] org.example.Api: started")
Header(level='INFO', logger='org.example.Api', thread='main', pid=None, message='started')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from casework.formats.fieldroles import flatten
from casework.formats.httpfields import add_http
from casework.timeparse import find_any

LEVEL_WORDS = {
    "TRACE": "TRACE", "FINEST": "TRACE", "FINER": "TRACE", "DEBUG": "DEBUG", "FINE": "DEBUG",
    "VERBOSE": "DEBUG", "INFO": "INFO", "NOTICE": "INFO", "CONFIG": "INFO", "WARN": "WARN",
    "WARNING": "WARN", "ERROR": "ERROR", "ERR": "ERROR", "SEVERE": "ERROR", "FATAL": "FATAL",
    "CRITICAL": "FATAL", "CRIT": "FATAL", "ALERT": "FATAL", "EMERG": "FATAL", "PANIC": "FATAL",
}  # fmt: skip
#: Single-letter levels (logcat, klog) count only after a pid, where prose cannot be.
LETTER_LEVELS = {"V": "DEBUG", "D": "DEBUG", "I": "INFO", "W": "WARN", "E": "ERROR", "F": "FATAL"}
_SEPARATORS = frozenset({"-", "--", "---", "|", ":", "::", "=>", ">", "*"})
_NAME = re.compile(r"[A-Za-z_][\w.$@/\-]*\Z")
_MAX_TOKENS = 8


@dataclass(frozen=True, slots=True)
class Header:
    """What the scan found; ``message`` is the rest of the line."""

    level: str | None
    logger: str | None
    thread: str | None
    pid: str | None
    message: str


def _level(token: str, after_pid: bool) -> str | None:
    word = token.strip(":<>").upper()
    found = LEVEL_WORDS.get(word)
    if found is None and after_pid and len(word) == 1:
        found = LETTER_LEVELS.get(word)
    return found


def _bracket_end(text: str, start: int) -> int:
    """Index of the bracket closing the one at ``start`` (nested allowed), or -1."""
    close = text.find("]", start)
    if close > 0 and text.find("[", start + 1, close) < 0:
        return close  # the common case: no nesting
    depth = 0
    for i in range(start, min(len(text), start + 240)):
        ch = text[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
    return -1


#: The log4j/logback/Spring layouts in one pattern, tried before the general scan (hot path).
COMMON_HEADER = re.compile(
    r"[\s\]),|\-]*(?:(?P<pid0>\d+)\s+)?(?:\[(?P<t1>[^\[\]]*)\]\s+)?(?P<level>[A-Za-z]{4,8})\s+"
    r"(?:(?P<pid>\d+)\s+(?:---\s+)?)?(?:\[(?P<t2>[^\[\]]*)\]\s+)?"
    r"(?P<logger>[A-Za-z_][\w.$]*)(?::\s|\s+[:-]\s+)"
)


def split_header(rest: str) -> Header:
    """Scan the first tokens of the text after a timestamp."""
    if "\t" in rest[:80]:
        tabbed = _tabbed(rest)
        if tabbed is not None:
            return tabbed
    m = COMMON_HEADER.match(rest)
    if m is not None:
        level = LEVEL_WORDS.get(m.group("level").upper())
        if level is not None:
            pid0, t1, _, pid, t2, logger = m.groups()
            thread = t1 if t1 is not None else t2
            return Header(level, logger, thread.strip() if thread is not None else None,
                          pid0 or pid, rest[m.end() :].lstrip())  # fmt: skip
    return _scan(rest)


def _tabbed(rest: str) -> Header | None:
    """zap's console encoder: ``LEVEL<TAB>[logger<TAB>][caller<TAB>]message[<TAB>{json}]``."""
    fields = rest.lstrip(" ").lstrip("\t").split("\t")
    level = LEVEL_WORDS.get(fields[0].strip().upper())
    if level is None or len(fields) < 2:
        return None
    names: list[str] = []
    i = 1
    while i < len(fields) - 1 and " " not in fields[i] and not fields[i].startswith("{"):
        names.append(fields[i])
        i += 1
    logger = next((n for n in names if ".go:" not in n), names[0] if names else None)
    return Header(level, logger, None, None, "\t".join(fields[i:]))


def _scan(rest: str) -> Header:
    text = rest.lstrip(" \t]),|-")
    pos = 0
    level = logger = thread = pid = pending = None
    restart = 0
    n = len(text)
    for _ in range(_MAX_TOKENS):
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n:
            break
        if text[pos] == "[":
            end = _bracket_end(text, pos)
            if end < 0:
                break
            inner = text[pos + 1 : end].strip()
            as_level = _level(inner, False) if level is None else None
            if as_level is not None:
                level = as_level
            elif thread is None and logger is None:
                thread = inner
            else:
                break
            pos = end + 1
            continue
        end = text.find(" ", pos)
        end = n if end < 0 else end
        token = text[pos:end]
        if token in _SEPARATORS:
            pos = end
            continue
        if token.isdigit() and logger is None:
            pid = pid or token
            pos = end
            continue
        if level is None:
            found = _level(token, pid is not None)
            if found is not None:
                level, pos = found, end
                if pending is not None:
                    logger = pending
                continue
        if logger is None and token.endswith(":") and len(token) > 1 and _NAME.match(token[:-1]):
            logger, pos = token[:-1], end
            break
        if logger is None and _NAME.match(token):
            if level is not None and ("." in token or "$" in token):
                logger, pos = token, end
                continue
            if level is None and pending is None:
                pending, restart, pos = token, pos, end
                continue
        break
    if level is None and pending is not None:
        pos = restart
    message = text[pos:].lstrip(" \t:-|")
    if level is None:
        level = _level_anywhere(message)
    return Header(level, logger, thread, pid, message)


def _level_anywhere(message: str) -> str | None:
    """A level word among the first tokens (records that put it after node and component fields)."""
    for token in message.split(None, 10)[:10]:
        word = token.strip("[]:<>")
        found = LEVEL_WORDS.get(word) if word.isupper() else None
        if found is not None:
            return found
    return None


#: Headers that carry no date: logback's default ``HH:mm:ss.SSS [thread] LEVEL logger - msg``
#: and Python's ``basicConfig`` default ``LEVEL:logger:msg``.
_UNDATED = re.compile(
    r"(?P<time>\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?)\s"
    r"|(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|TRACE):(?P<logger>[\w.\-<>]*):"
)


def undated_header(line: str) -> tuple[Header, str | None] | None:
    """The header of a line that starts a record without a date, and its time of day if any."""
    m = _UNDATED.match(line)
    if m is None:
        return None
    rest = line[m.end() :]
    if m.group("time") is not None:
        return split_header(rest), m.group("time")
    level = LEVEL_WORDS[m.group("level")]
    return Header(level, m.group("logger") or None, None, None, rest), None


#: Container runtime (CRI) log lines put the stream and a partial/full tag after the time.
_CRI = ("stdout F ", "stderr F ", "stdout P ", "stderr P ")


def refine(header: Header, attrs: dict[str, Any]) -> Header:
    """Unwrap CRI container lines and tab-separated zap lines with a trailing JSON object."""
    message = header.message
    if message.startswith(_CRI):
        attrs["stream"] = message[:6]
        if message[7] == "P":
            attrs["partial"] = True
        body = message[9:]
        stamp = find_any(body)
        inner = split_header(body[stamp[2].end :] if stamp and stamp[2].start == 0 else body)
        if inner.level is not None:
            return refine(inner, attrs)
        header = Header(header.level, header.logger, header.thread, header.pid, body)
        message = header.message
    if "\t" in message and message.endswith("}"):
        cut = message.find("\t{")
        if cut >= 0:
            try:
                fields = orjson.loads(message[cut + 1 :])
            except orjson.JSONDecodeError:
                return header
            if isinstance(fields, dict):
                flatten(fields, attrs)
                add_http(attrs)
                message = message[:cut]
                return Header(header.level, header.logger, header.thread, header.pid, message)
    return header
