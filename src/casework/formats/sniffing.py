"""Helpers sniffers share: is a head text at all, its complete lines, and how many a pattern matches."""

from __future__ import annotations

import re
from functools import lru_cache

#: Bytes that never occur in a text log (controls other than tab, LF, CR, FF, ESC).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27)) + b"\x7f"


@lru_cache(maxsize=8)
def text_lines(head: bytes, limit: int = 200) -> tuple[str, ...]:
    """The first complete, non-blank lines of ``head``; empty when the head is not text.

    A head cut mid-line loses its last line, so sniffers judge only whole lines.
    Binary data (NUL or other control bytes, or mostly invalid UTF-8) gives ().
    """
    sample = head[:16384]
    if not sample or b"\x00" in sample:
        return ()
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls * 100 > len(sample):
        return ()
    text = sample.decode("utf-8", "replace")
    if text.count("\ufffd") * 20 > len(text):
        return ()
    lines = text.splitlines()
    if (len(sample) == len(head) and not head.endswith((b"\n", b"\r")) and len(lines) > 1) or (
        len(sample) < len(head) and len(lines) > 1
    ):
        lines.pop()
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return tuple(line for line in lines[:limit] if line.strip())


def share(hits: int, total: int) -> float:
    """The fraction ``hits / total``, zero for no lines."""
    return hits / total if total else 0.0


def line_match_share(head: bytes, pattern: re.Pattern[str], sample: int = 100) -> float:
    """The share of the first ``sample`` lines of ``head`` that ``pattern`` matches at their start."""
    lines = text_lines(head)[:sample]
    return share(sum(1 for line in lines if pattern.match(line)), len(lines))
