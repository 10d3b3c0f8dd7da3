"""The block line reader gives exactly the lines a line-at-a-time reader gives, cuts included."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.formats import base
from casework.formats.base import ParseContext, iter_lines


def _one_by_one(stream: io.BytesIO, limit: int, ctx: ParseContext) -> Iterator[tuple[int, str]]:
    """The definition: readline(limit); a line of ``limit`` bytes or more is cut and counted."""
    number = 0
    while raw := stream.readline(limit):
        number += 1
        if len(raw) == limit and not raw.endswith(b"\n"):
            ctx.truncated_lines += 1
            while (rest := stream.readline(limit)) and not rest.endswith(b"\n"):
                pass
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        yield number, text[1:] if number == 1 and text.startswith("\ufeff") else text
    ctx.lines_read = number


PIECES = st.sampled_from(
    [
        b"\n",
        b"\r\n",
        b"\r",
        b"a",
        b"line ",
        b"\xc3\xa9",
        b"\xe2\x82",
        b"\xff",
        b"\xef\xbb\xbf",
        b"x" * 9,
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(PIECES, max_size=60).map(b"".join),
    st.integers(min_value=2, max_value=12),
    st.integers(min_value=1, max_value=16),
)
def test_block_reader_matches_line_at_a_time(data: bytes, limit: int, block: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(base, "MAX_LINE_BYTES", limit)
        mp.setattr(base, "READ_BYTES", block)
        got_ctx, want_ctx = ParseContext("a.log"), ParseContext("a.log")
        got = list(iter_lines(io.BytesIO(data), got_ctx))
        want = list(_one_by_one(io.BytesIO(data), limit, want_ctx))
    assert got == want
    assert (got_ctx.truncated_lines, got_ctx.lines_read) == (
        want_ctx.truncated_lines,
        want_ctx.lines_read,
    )


def test_a_truncated_gzip_gives_every_line_before_the_cut() -> None:
    lines = [
        f"2026-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z INFO tick {i} {i * 7919:x}"
        for i in range(20000)
    ]
    packed = gzip.compress("\n".join(lines).encode())
    cut = packed[: len(packed) // 2]
    got: list[str] = []
    with pytest.raises(EOFError):
        for _, text in iter_lines(gzip.GzipFile(fileobj=io.BytesIO(cut)), ParseContext("a.log.gz")):
            got.append(text)
    want: list[str] = []
    with pytest.raises(EOFError):
        for raw in gzip.GzipFile(fileobj=io.BytesIO(cut)):
            want.append(raw.decode().rstrip("\n"))
    assert len(got) > 1000
    assert got == want[: len(got)] and len(want) - len(got) <= 1  # at most the cut line
