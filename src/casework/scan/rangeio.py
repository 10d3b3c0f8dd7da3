"""A read-only view of one byte range of a file, so a parser can read a part as if it were the file."""

from __future__ import annotations

import io
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


def line_boundaries(raw: BinaryIO, size: int, chunk: int) -> list[int]:
    """Offsets that start a line, about ``chunk`` bytes apart: ``[0, b1, ..., size]``."""
    cuts = [0]
    target = chunk
    while target < size:
        raw.seek(target)
        found = -1
        pos = target
        while found < 0 and pos < size:
            block = raw.read(NEWLINE_SEARCH)
            if not block:
                break
            i = block.find(b"\n")
            found = pos + i + 1 if i >= 0 else -1
            pos += len(block)
        if found < 0 or found >= size:
            break
        if found > cuts[-1]:
            cuts.append(found)
        target = found + chunk
    cuts.append(size)
    return cuts


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
