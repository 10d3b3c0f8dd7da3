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

from casework.model import Record

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


def iter_lines(stream: BinaryIO, ctx: ParseContext) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line, decoded as UTF-8 with replacement.

    Lines longer than ``MAX_LINE_BYTES`` are cut there and the remainder is
    skipped in bounded reads; each cut is counted in ``ctx.truncated_lines``.
    """
    number = 0
    readline = stream.readline
    while True:
        raw = readline(MAX_LINE_BYTES)
        if not raw:
            ctx.lines_read = number
            return
        number += 1
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            ctx.truncated_lines += 1
            while True:
                rest = readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield number, text
