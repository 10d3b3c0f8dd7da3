"""Which text-log dialect a file's head is (Java, Python, Go, or plain text), and how sure."""

from __future__ import annotations

import re
from functools import lru_cache

from casework.formats.base import Sniffer
from casework.formats.sniffing import share, text_lines
from casework.formats.textheader import LEVEL_WORDS, split_header, undated_header
from casework.timeparse import LineClock

_JAVA_CLASS = re.compile(r"(?:[a-z_]\w*\.)+[A-Z][\w$]*\Z|[\w.]+\$[\w$]+\Z")
_PY_LOGGER = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+\Z")


def _markers(lines: tuple[str, ...]) -> dict[str, int]:
    counts = {"java": 0, "python": 0, "go": 0}
    for line in lines:
        if line.startswith(("\tat ", "Caused by: ")) or (
            line.lstrip().startswith("at ") and "(" in line
        ):
            counts["java"] += 3
        elif line.startswith(("Traceback (most recent call last):", '  File "')):
            counts["python"] += 3
        elif line.startswith(("goroutine ", "panic: ")) or ".go:" in line[:120]:
            counts["go"] += 3
    return counts


@lru_cache(maxsize=8)
def classify(head: bytes) -> tuple[str, float]:
    """(kind, confidence) of a text log from its head; ("", 0) when it is not one."""
    lines = text_lines(head)
    if not lines:
        return "", 0.0
    clock = LineClock()
    votes = _markers(lines)
    stamped = leveled = 0
    for line in lines:
        stamp = clock.read(line)
        if stamp is None:
            undated = undated_header(line) if clock.shape is None else None
            if undated is None:
                continue
            header = undated[0]
            if undated[1] is None:  # LEVEL:logger:message is Python's default format
                votes["python"] += 1
        else:
            header = split_header(line[stamp.end :])
        stamped += 1
        leveled += header.level is not None
        if clock.shape == "klog":
            votes["go"] += 1
        logger = header.logger or ""
        if _JAVA_CLASS.match(logger) or (header.thread is not None and header.level is not None):
            votes["java"] += 1
        elif _PY_LOGGER.match(logger) or (
            stamp is not None and line[stamp.end : stamp.end + 3] == " - " and header.level
        ):
            votes["python"] += 1
    stamped_share = share(stamped, len(lines))
    if stamped_share < 0.3 and not (stamped and sum(votes.values()) >= 3):
        worded = sum(
            1 for line in lines if line.split(None, 1)[0].strip("[]:").upper() in LEVEL_WORDS
        )
        return ("text-log", 0.55) if share(worded, len(lines)) >= 0.5 else ("", 0.0)
    dialect, count = max(votes.items(), key=lambda kv: kv[1])
    if count >= max(2, 0.3 * stamped):
        return f"{dialect}-log", 0.8
    return "text-log", 0.6 + 0.1 * min(1.0, stamped_share + share(leveled, stamped))


def sniffer(kind: str) -> Sniffer:
    def sniff(head: bytes) -> float:
        found, score = classify(head)
        return score if found == kind else 0.0

    sniff.__doc__ = f"Confidence that a head is a {kind}."
    return sniff
