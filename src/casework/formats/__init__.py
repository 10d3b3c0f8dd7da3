"""Every format casework reads, listed in one place, and the sniffer that picks one by content."""

from __future__ import annotations

from casework.formats.base import Format, ParseContext, iter_lines

#: Ordered: on equal confidence the earlier format wins, so specific formats come first.
FORMATS: tuple[Format, ...] = ()

#: Below this confidence a file is inventoried as "unknown format" and skipped.
MIN_CONFIDENCE = 0.5


def sniff(head: bytes, formats: tuple[Format, ...] = FORMATS) -> tuple[Format | None, float]:
    """The most confident format for a file whose first bytes are ``head``."""
    best: Format | None = None
    best_score = 0.0
    for fmt in formats:
        try:
            score = fmt.sniff(head)
        except Exception:  # a sniffer bug must not stop the others
            continue
        if score > best_score:
            best, best_score = fmt, score
    if best_score < MIN_CONFIDENCE:
        return None, best_score
    return best, best_score


__all__ = ["FORMATS", "MIN_CONFIDENCE", "Format", "ParseContext", "iter_lines", "sniff"]
