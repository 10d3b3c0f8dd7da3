"""pcap and pcapng captures: TCP/UDP conversations into ``flows``, plaintext HTTP exchanges into ``requests``.

Damage is counted, never raised: a capture cut mid-record, a corrupt block
or an undecodable frame is reported through the parse context and the rest
of the file is still analyzed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from casework.formats.base import Format, ParseContext
from casework.model import Record
from casework.net.capture import Capture
from casework.net.pcap_reader import ReadStats, container_kind, read_frames
from casework.net.records import flow_records, request_records


def sniff(head: bytes) -> float:
    """pcap (any byte order, micro or nano seconds) or pcapng section header."""
    return 1.0 if container_kind(head[:12]) else 0.0


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[Record]:
    """Analyze the whole capture, then yield its flows and HTTP exchanges."""
    stats = ReadStats()
    cap = Capture().run(read_frames(stream, stats))
    report(stats, cap, ctx)
    yield from flow_records(cap)
    yield from request_records(cap)


def report(stats: ReadStats, cap: Capture, ctx: ParseContext) -> None:
    """Put the reader's damage report into the parse context for the inventory."""
    reason = stats.problems[0] if stats.problems else "corrupt record"
    for _ in range(stats.bad_records):
        ctx.bad(stats.frames, reason)
    if stats.truncated:
        ctx.notes.append(f"capture cut short after frame {stats.frames}")
    if stats.cut_frames:
        ctx.notes.append(f"{stats.cut_frames} frames shorter than on the wire (snapshot length)")
    if cap.malformed:
        ctx.notes.append(f"{cap.malformed} frames with malformed TCP/UDP headers")


FORMAT = Format(
    kind="pcap",
    category="network",
    sniff=sniff,
    parse=parse,
    description="pcap/pcapng packet capture (TCP, DNS, TLS, HTTP/1.x facts)",
)
