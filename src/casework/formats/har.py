"""HAR 1.2 (HTTP Archive) exports from browsers and proxies: one ``requests`` row per entry.

A file that is not valid HAR is reported (invalid JSON, no entries), never
raised; malformed entries are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from casework.formats.base import Format, ParseContext
from casework.model import Record
from casework.net.har import looks_like_har, read
from casework.net.har_entry import entry_record, page_timings

#: A HAR is one JSON document; beyond this it is refused rather than exhausting memory.
MAX_HAR_BYTES = 1 << 30


def sniff(head: bytes) -> float:
    """A JSON object starting with ``"log"``; stronger when entries or a creator show up."""
    if not looks_like_har(head):
        return 0.0
    return 0.97 if b'"entries"' in head or b'"creator"' in head else 0.8


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[Record]:
    """Every entry of the HAR as a RequestRecord, in file order."""
    data = stream.read(MAX_HAR_BYTES + 1)
    if len(data) > MAX_HAR_BYTES:
        ctx.bad(1, "HAR larger than 1 GiB; split it and retry")
        return
    log = read(data)
    if log.error:
        ctx.bad(1, log.error)
        return
    pages = page_timings(log.pages)
    for index, entry in enumerate(log.entries, start=1):
        try:
            yield entry_record(index, entry, pages)
        except (TypeError, ValueError, AttributeError) as exc:
            ctx.bad(index, f"entry {index}: {type(exc).__name__}")


FORMAT = Format(
    kind="har",
    category="http",
    sniff=sniff,
    parse=parse,
    description="HAR 1.2 HTTP archive (Chrome, Firefox, Safari, Charles, Fiddler, mitmproxy...)",
)
