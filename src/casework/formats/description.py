"""The case description: Markdown or prose (``case.md``, a pasted ticket), kept whole as one note.

The sniff is cheap and only says yes to prose: sentences of several words,
few timestamps at line starts, few ``key: value`` lines (those are configs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from casework.formats.base import Format, ParseContext
from casework.formats.sniffing import share, text_lines
from casework.model import NoteRecord, Record
from casework.timeparse import find_any

_KEY_VALUE = re.compile(r"\s*[\w.\-\"']+\s*[:=]\s*\S*\s*$")
_CSV_HEADER = re.compile(r"[\w\".\-]{1,40}(?:[,;\t] ?[\w\".\-]{1,40}){2,}\s*$")
_CODE_STARTS = ("/*", "--", "//", "#!", "SELECT", "EXPLAIN", "WITH ", "INSERT", "UPDATE", "CREATE",
                "import ", "package ", "<?")  # fmt: skip
_HEADING = re.compile(r"#{1,6} \S|\S.*\n[=-]{3,}$")


def sniff(head: bytes) -> float:
    """0.75 for Markdown prose with a heading, 0.6 for plain prose, else 0."""
    lines = text_lines(head, 120)
    if not lines or lines[0].lstrip().startswith(("{", "[", "<", "---\n")):
        return 0.0
    if _CSV_HEADER.match(lines[0]) or lines[0].lstrip().startswith(_CODE_STARTS):
        return 0.0  # a table export or a SQL/code file, even when its cells hold prose
    words = sum(len(line.split()) for line in lines)
    if words / len(lines) < 5:
        return 0.0
    if share(sum(1 for line in lines if _KEY_VALUE.match(line)), len(lines)) > 0.3:
        return 0.0
    if any(line.startswith(("\tat ", "  File ")) for line in lines):
        return 0.0  # stack traces: a log, not prose
    stamped = sum(1 for line in lines[:60] if _starts_with_time(line))
    if share(stamped, min(len(lines), 60)) > 0.1:
        return 0.0
    sentences = sum(1 for line in lines if line.rstrip().endswith((".", "?", "!", ":", ")")))
    if share(sentences, len(lines)) < 0.2:
        return 0.0
    return 0.75 if any(_HEADING.match(line) for line in lines[:40]) else 0.6


#: Names a case description goes by (``ticket.txt``, ``CASE-1234``), before any extension.
_DESCRIPTION_NAME = re.compile(
    r"(?i)(?:^|[_-])(?:ticket|case|description|issue|problem|summary)(?:[-_ ]?\d+)?(?:\.txt)?$"
)


def named(name: str, head: bytes) -> bool:
    """A short text too terse for the sniff ("Orders fail with 500.") is the case description
    when its name says so (a Markdown file, ``ticket.txt``): at most ten lines of words, none
    starting with a time, not ``key: value`` lines, not JSON or markup."""
    base = name.rsplit("/", 1)[-1]
    if not (base.lower().endswith(".md") or _DESCRIPTION_NAME.search(base)):
        return False
    lines = text_lines(head, 20)
    return (
        0 < len(lines) <= 10
        and not lines[0].lstrip().startswith(("{", "[", "<"))
        and all(any(c.isalpha() for c in line) and not _starts_with_time(line) for line in lines)
        and not any(_KEY_VALUE.match(line) for line in lines)
    )


def _starts_with_time(line: str) -> bool:
    found = find_any(line)
    return found is not None and found[2].start <= 1


#: A description longer than this is kept to this many bytes (a ticket, not a log pasted in).
MAX_BYTES = 64 * 1024


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[Record]:
    """The text, as one note (the reports quote it; the store keeps it redacted)."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        ctx.notes.append(
            f"longer than {MAX_BYTES // 1024} KiB: the first {MAX_BYTES // 1024} KiB kept"
        )
        data = data[:MAX_BYTES]
    text = data.decode("utf-8", "replace").removeprefix("\ufeff").strip()
    if text:
        yield NoteRecord(text)


FORMAT = Format(
    kind="description",
    category="text",
    sniff=sniff,
    parse=parse,
    description="case description (Markdown or prose)",
)
