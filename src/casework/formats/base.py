"""The parser contract: ``sniff(head) -> confidence`` and ``parse(stream, ctx) -> records``.

A format is pure over bytes: it gets a fresh binary stream (already
decompressed) and yields typed records, so any executor can ship it.
Bad records are counted through ``ctx.bad()``, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import BinaryIO

from casework.model import FastLine, LogLines, LogRecord, Record

#: Lines longer than this are cut; the rest of the line is skipped without
#: being held in memory (a 2 GB single-line file must not exhaust memory).
MAX_LINE_BYTES = 1 << 20


@dataclass(slots=True)
class ParseContext:
    """What a parser may know beyond the bytes: where the file is and how to read time."""

    path: str
    tz: tzinfo = UTC
    tz_given: bool = False
    year: int | None = None
    bad_records: int = 0
    first_problem: str | None = None
    truncated_lines: int = 0
    notes: list[str] = field(default_factory=list)
    #: Lines in the stream, set by ``iter_lines`` once it has read to the end (else None).
    lines_read: int | None = None

    def bad(self, line: int, reason: str) -> None:
        """Count a record that could not be parsed; keep the first reason for the inventory."""
        self.bad_records += 1
        if self.first_problem is None:
            self.first_problem = f"line {line}: {reason}"


Sniffer = Callable[[bytes], float]
Parser = Callable[[BinaryIO, ParseContext], Iterator[Record]]
#: From a file's first bytes: a test of whether a line may begin a part when the file is cut
#: into parts for the scan, or None when this file cannot be cut.
Cutter = Callable[[bytes], Callable[[bytes], bool] | None]


def any_line(head: bytes) -> Callable[[bytes], bool]:
    """The cutter of line formats: a record never spans lines nor needs the lines before it."""
    return _always


def _always(line: bytes) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Format:
    """A file format casework reads.

    ``kind`` is the name shown in the inventory; ``category`` groups kinds
    (log, http, network, trace, plan, config, k8s, change, ticket, text).
    ``sniff`` returns a confidence in [0, 1] from the first bytes of a file.
    """

    kind: str
    category: str
    sniff: Sniffer
    parse: Parser
    description: str = ""
    #: What the scan reads with when it differs from ``parse``: the same lines, some of them
    #: already in the store's shape (``LogLines``), the rest as ``parse``'s records.
    scan: Parser | None = None
    #: Where a large file of this format may be cut into parts scanned apart (None: nowhere).
    #: A part's records must be the ones a reading of the whole file gives for its lines.
    cut: Cutter | None = None


#: Bytes read per call; lines are split and decoded a block at a time.
READ_BYTES = 1 << 18


def iter_lines(stream: BinaryIO, ctx: ParseContext) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line, decoded as UTF-8 with replacement.

    Lines longer than ``MAX_LINE_BYTES`` are cut there and the remainder is
    skipped in bounded reads; each cut is counted in ``ctx.truncated_lines``.
    A newline byte is never part of a multi-byte character, so a block cut
    after a newline decodes exactly as its lines would one by one.
    """
    number = 0
    # One underlying read per call where the stream offers it: a decompressor that hits
    # truncated data raises only once everything before the cut has been returned.
    read = getattr(stream, "read1", stream.read)
    carry = b""
    skipping = False  # inside the rest of a line that was cut
    while block := read(READ_BYTES):
        if skipping:
            nl = block.find(b"\n")
            if nl < 0:
                continue
            block, skipping = block[nl + 1 :], False
        data = carry + block if carry else block
        last = data.rfind(b"\n")
        if last < 0:
            carry = data
            if len(carry) >= MAX_LINE_BYTES:
                number += 1
                ctx.truncated_lines += 1
                yield number, _text(carry[:MAX_LINE_BYTES], number)
                carry, skipping = b"", True
            continue
        carry = data[last + 1 :]
        if last < MAX_LINE_BYTES:  # no line in it can be too long
            texts = data[:last].decode("utf-8", "replace").split("\n")
        else:
            texts = []
            for raw in data[:last].split(b"\n"):
                if len(raw) >= MAX_LINE_BYTES:
                    ctx.truncated_lines += 1
                    raw = raw[:MAX_LINE_BYTES]
                texts.append(raw.decode("utf-8", "replace"))
        for text in texts:
            number += 1
            yield number, _text(text, number) if number == 1 or text[-1:] == "\r" else text
    if carry:
        number += 1
        if len(carry) >= MAX_LINE_BYTES:
            ctx.truncated_lines += 1
        yield number, _text(carry[:MAX_LINE_BYTES], number)
    ctx.lines_read = number


def _text(line: bytes | str, number: int) -> str:
    text = (line.decode("utf-8", "replace") if isinstance(line, bytes) else line).rstrip("\r\n")
    return text[1:] if number == 1 and text.startswith("\ufeff") else text


def in_batches(items: Iterator[FastLine | LogRecord], size: int) -> Iterator[LogLines]:
    """A fast path's lines and records handed to the writer ``size`` at a time; when the stream
    breaks, what was read before is handed on first, as ``parse`` would have yielded it."""
    batch: list[FastLine | LogRecord] = []
    try:
        for item in items:
            batch.append(item)
            if len(batch) >= size:
                yield LogLines(batch)
                batch = []
    except Exception:
        if batch:
            yield LogLines(batch)
        raise
    if batch:
        yield LogLines(batch)
