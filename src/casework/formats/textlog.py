"""Text logs (Java/logback/log4j, Python logging, Go, and any line-oriented log with a timestamp near its start).

A line whose timestamp has the file's shape starts a record; the lines
after it that do not (Java ``\\tat ...``/``Caused by:``, Python tracebacks,
Go ``goroutine N [running]:``, multi-line messages) join that record, the
way logstash's multiline codec does. Four kinds share this parser; the
sniffer (``textsniff``) names the dialect from the head so the inventory says what it saw.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC
from functools import lru_cache
from typing import Any, BinaryIO

import orjson

from casework.formats.base import Format, ParseContext, in_batches, iter_lines
from casework.formats.httpfields import add_embedded_request
from casework.formats.syslog import embedded
from casework.formats.textheader import (
    COMMON_HEADER,
    LETTER_LEVELS,
    LEVEL_WORDS,
    Header,
    refine,
    split_header,
    undated_header,
)
from casework.formats.textsniff import sniffer
from casework.model import FastLine, LogLines, LogRecord, fast_record
from casework.timeparse import LineClock

_INDENT = ("", " ", "\t")
#: A record keeps at most this much text; further continuation lines only move ``end_line``.
MAX_RECORD_CHARS = 256 * 1024

_EXCEPTION = re.compile(
    r"(?:Caused by: |Exception in thread \"[^\"]*\" )?([\w.$]*(?:Exception|Error|Throwable|Panic))\b"
)


class _Continuation:
    """The continuation lines of a record (a stack trace), gathered until the next header."""

    __slots__ = ("chars", "end", "exception", "parts", "record")

    def __init__(self, record: LogRecord) -> None:
        self.record = record
        self.parts: list[str] = [record.message]
        self.chars = len(record.message)
        self.end = record.line
        self.exception: str | None = None

    def add(self, number: int, text: str) -> None:
        self.end = number
        if self.exception is None:
            m = _EXCEPTION.match(text.lstrip())
            if m is not None:
                self.exception = m.group(1)
        if self.chars < MAX_RECORD_CHARS:
            self.parts.append(text)
            self.chars += len(text) + 1
        else:
            self.record.attrs["truncated"] = True

    def long(self) -> bool:
        """More continuation lines than any stack trace has: worth checking for a new shape."""
        return self.end - self.record.line > 2000

    def done(self) -> LogRecord:
        rec = self.record
        rec.message = "\n".join(self.parts)
        rec.end_line = self.end
        if self.exception is not None:
            rec.attrs["exception.type"] = self.exception
        return rec


class _Reader:
    """The general reader: one line at a time, a record handed back once the next header shows
    it has no more continuation lines."""

    __slots__ = ("clock", "current", "extra")

    def __init__(self, ctx: ParseContext) -> None:
        self.clock = LineClock(ctx.tz, ctx.year)
        self.current: LogRecord | None = None
        self.extra: _Continuation | None = None  # only records with continuation lines need one

    def feed(self, number: int, text: str) -> LogRecord | None:
        """Read one line; the record it finished, if any."""
        clock, extra = self.clock, self.extra
        stamp = clock.read(text)
        if (
            stamp is None
            and self.current is not None
            and (text[:1] not in _INDENT or (extra is not None and extra.long()))
        ):
            stamp = clock.relearn(text)  # another timestamp shape from here on, not a trace line
        attrs: dict[str, Any] = {}
        if stamp is None:
            undated = undated_header(text) if clock.shape is None else None
            if undated is None:
                if self.current is not None:
                    if extra is None:
                        extra = self.extra = _Continuation(self.current)
                    extra.add(number, text)
                    return None
                if not text.strip():
                    return None
                header = split_header(text)
                return LogRecord(line=number, message=header.message or text,
                                 level=header.level, logger=header.logger)  # fmt: skip
            header, time_of_day = undated
            if time_of_day is not None:
                attrs["time_of_day"] = time_of_day
        else:
            header = split_header(text[stamp.end :])
            if stamp.shape == "klog":  # glog/klog put the level letter in the timestamp
                level = LETTER_LEVELS.get(text[stamp.start], header.level)
                header = Header(level, header.logger, header.thread, header.pid, header.message)
            if stamp.start:
                attrs["prefix"] = text[: stamp.start].strip(" [(<")
        done = self.finish()
        if "\t" in header.message or header.message.startswith(("stdout ", "stderr ")):
            header = refine(header, attrs)
        service = None
        inner = embedded(header.message) if header.logger is None else None
        if inner is not None:  # a forwarded syslog line: its program is the service
            lead, attrs["host"], service, pid, message = inner
            if lead:
                attrs["prefix"] = f"{attrs['prefix']} {lead}" if "prefix" in attrs else lead
            header = Header(header.level, None, header.thread, pid or header.pid, message)
        if header.thread is not None:
            attrs["thread"] = header.thread
        if header.pid is not None:
            attrs["pid"] = header.pid
        add_embedded_request(header.message, attrs)
        self.current = LogRecord(
            line=number,
            message=header.message,
            ts=stamp.ts if stamp else None,
            level=header.level,
            service=service,
            logger=header.logger,
            attrs=attrs,
            ts_assumed=stamp.assumed if stamp else False,
        )
        return done

    def finish(self) -> LogRecord | None:
        """The record being read, complete (the next header came, or the file ended)."""
        current, extra = self.current, self.extra
        self.current = self.extra = None
        return extra.done() if extra is not None else current


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """Records from header lines, with the lines up to the next header joined to them."""
    reader = _Reader(ctx)
    for number, text in iter_lines(stream, ctx):
        done = reader.feed(number, text)
        if done is not None:
            yield done
    done = reader.finish()
    if done is not None:
        yield done
    note = reader.clock.year_note()
    if note is not None:
        ctx.notes.append(note)


#: Lines per batch the fast path hands to the writer.
BATCH_LINES = 2048


def scan(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogLines]:
    """What ``parse`` reads, for the scan: a line that starts with the file's timestamp shape,
    then a log4j/logback/Python header (``COMMON_HEADER``) and a plain message, is put in the
    store's shape while it has no continuation lines; every other line goes through ``_Reader``."""
    return in_batches(_lines(stream, ctx), BATCH_LINES)


def _lines(stream: BinaryIO, ctx: ParseContext) -> Iterator[FastLine | LogRecord]:
    reader = _Reader(ctx)
    clock = reader.clock
    pending: FastLine | None = None  # a fast line whose record may still get continuation lines
    match: Callable[[str], re.Match[str] | None] | None = None
    for number, text in iter_lines(stream, ctx):
        m = match(text) if match is not None else None
        fast = _fast(number, text, m, clock) if m is not None else None
        if fast is not None:
            done = reader.finish() if reader.current is not None else pending
            if done is not None:
                yield done
            pending = fast
        else:
            if pending is not None:  # the reader takes it over: a trace line may follow
                reader.current, pending = fast_record(pending), None
            done = reader.feed(number, text)
            if done is not None:
                yield done
            pattern = clock.start_pattern()
            match = _stamp_and_header(pattern).match if pattern is not None else None
    done = reader.finish() if pending is None else pending
    if done is not None:
        yield done
    note = clock.year_note()
    if note is not None:
        ctx.notes.append(note)


@lru_cache(maxsize=16)
def _stamp_and_header(stamp: str) -> re.Pattern[str]:
    """A timestamp shape then the common header, in one match. The shape is an atomic group:
    what it matches is what ``LineClock.read`` matches, never given back to fit the header."""
    return re.compile(f"(?P<stamp>(?>{stamp})){COMMON_HEADER.pattern}")


def _fast(number: int, text: str, m: re.Match[str], clock: LineClock) -> FastLine | None:
    """The line as ``_Reader.feed`` reads a header line of the common shape, or None."""
    end = m.end("stamp")
    message = text[m.end() :].lstrip()
    level = LEVEL_WORDS.get(m["level"].upper())
    if (
        level is None
        or "\t" in text[end : end + 80]
        or "\t" in message
        or "HTTP/" in message
        or message.startswith(("stdout ", "stderr "))
    ):
        return None
    stamp = clock.stamp_of(m)
    if stamp is None:
        return None
    pid0, t1, pid, t2, logger = m.group("pid0", "t1", "pid", "t2", "logger")
    thread = t1 if t1 is not None else t2
    attrs: dict[str, str] = {}
    if thread is not None:
        attrs["thread"] = thread.strip()
    if pid0 or pid:
        attrs["pid"] = pid0 or pid
    return (
        number, stamp[0], message, orjson.dumps(attrs).decode(), tuple(attrs), None, None, None,
        None, None, None, level, logger, stamp[1],
    )  # fmt: skip


def record_start(head: bytes) -> Callable[[bytes], bool] | None:
    """The cutter: a line the reader would read as a header in the head's timestamp shape.

    The whole file's reader starts a record at every such line (it reads that shape, or
    relearns it at a line that does not start with a blank), so a part that begins there
    reads the same records. A file whose times carry no year cannot be cut: its year rolls
    over from the lines before. Nor can one whose timestamps do not start their lines.
    """
    clock = LineClock(UTC, 2000)
    lines = head.split(b"\n")[:-1]  # the last may be cut short
    if not any(clock.read(line.decode("utf-8", "replace")) for line in lines[:200]):
        return None
    if clock.start_pattern() is None or clock.year_note() is not None:
        return None

    def starts(line: bytes) -> bool:
        return clock.read(line.decode("utf-8", "replace")) is not None

    return starts


def _format(kind: str, description: str) -> Format:
    return Format(kind=kind, category="log", sniff=sniffer(kind), parse=parse, scan=scan,
                  cut=record_start, description=description)  # fmt: skip


JAVA = _format("java-log", "Java log (logback/log4j/JUL), stack traces joined")
PYTHON = _format("python-log", "Python logging output, tracebacks joined")
GO = _format("go-log", "Go log (log, klog/glog, zap console), panics joined")
TEXT = _format("text-log", "line-oriented text log with a timestamp near each line's start")
