"""A read-only view of one byte range of a file, so a parser can read a part as if it were the file."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO, cast

from typing_extensions import Buffer

NEWLINE_SEARCH = 1 << 16


class RangeReader(io.RawIOBase):
    """Bytes ``start``..``end`` of ``raw``; ``end`` None means to the end of the file."""

    def __init__(self, raw: BinaryIO, start: int, end: int | None) -> None:
        super().__init__()
        self._raw = raw
        self._end = end
        self._pos = start
        raw.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        want = len(view)
        if self._end is not None:
            want = min(want, self._end - self._pos)
        if want <= 0:
            return 0
        data = self._raw.read(want)
        n = len(data)
        view[:n] = data
        self._pos += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_range(raw: BinaryIO, start: int, end: int | None) -> BinaryIO:
    """A buffered stream over one range, with ``readline`` as fast as a plain file's."""
    return cast(BinaryIO, io.BufferedReader(RangeReader(raw, start, end), buffer_size=1 << 20))


#: How many bytes past a cut point are searched at a time for a line that may start a part.
RECORD_SEARCH = 4 << 20


def line_boundaries(
    raw: BinaryIO, size: int, chunk: int, starts: Callable[[bytes], bool]
) -> list[int]:
    """Offsets of lines that ``starts`` accepts, about ``chunk`` bytes apart: ``[0, b1, ..., size]``.

    A cut goes to the first accepted line after ``chunk`` bytes (for a text log, its next
    dated header line, never a stack trace's); where no line within ``RECORD_SEARCH`` bytes
    is accepted, the search goes on from there.
    """
    cuts = [0]
    target = chunk
    while target < size:
        line = _next_line(raw, target, size)
        if line is None:
            break
        limit = min(size, line + RECORD_SEARCH)
        found = _next_start(raw, line, limit, starts)
        if found is None:  # no record starts near here: look further on
            target = limit
            continue
        if found > cuts[-1]:
            cuts.append(found)
        target = found + chunk
    cuts.append(size)
    return cuts


def _next_line(raw: BinaryIO, pos: int, size: int) -> int | None:
    """The offset just after the first newline at or after ``pos``."""
    raw.seek(pos)
    while pos < size:
        block = raw.read(NEWLINE_SEARCH)
        if not block:
            return None
        i = block.find(b"\n")
        if i >= 0:
            return pos + i + 1
        pos += len(block)
    return None


def _next_start(raw: BinaryIO, pos: int, limit: int, starts: Callable[[bytes], bool]) -> int | None:
    """The offset of the first line at or after ``pos`` (a line start) that ``starts`` accepts."""
    raw.seek(pos)
    carry = b""
    read = pos
    while read < limit:
        block = raw.read(NEWLINE_SEARCH)
        if not block:
            return None
        read += len(block)
        data = carry + block
        lines = data.split(b"\n")
        carry = lines.pop()
        for line in lines:
            if starts(line):
                return pos
            pos += len(line) + 1
    return None


def count_lines(raw: BinaryIO, start: int, end: int) -> int:
    raw.seek(start)
    left = end - start
    count = 0
    while left > 0:
        block = raw.read(min(left, 1 << 20))
        if not block:
            break
        count += block.count(b"\n")
        left -= len(block)
    return count
