"""Reading pcap and pcapng containers frame by frame, counting cut and bad records instead of failing.

The reader works on one in-memory buffer per file chunk and yields plain tuples,
because per-frame objects would cost more than the whole TCP analysis.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

#: A record claiming more than this is corrupt, not a jumbo frame.
MAX_RECORD = 1 << 24
#: Bytes read at a time: a capture is never held in memory whole.
CHUNK = 1 << 22

Frame = tuple[int, float, int, bytes, int]
"""``(number, epoch seconds, link type, captured bytes, original length)``."""


@dataclass(slots=True)
class ReadStats:
    """What the container told us beyond the frames: link types, damage, whether it ended early."""

    container: str = ""
    frames: int = 0
    cut_frames: int = 0
    bad_records: int = 0
    truncated: bool = False
    link_types: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)


def container_kind(head: bytes) -> str | None:
    """``"pcap"``, ``"pcapng"`` or None from the first four bytes."""
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if (
        head[:4] == PCAPNG_MAGIC
        and len(head) >= 12
        and head[8:12]
        in (
            b"\x4d\x3c\x2b\x1a",
            b"\x1a\x2b\x3c\x4d",
        )
    ):
        return "pcapng"
    return None


def read_frames(stream: BinaryIO, stats: ReadStats) -> Iterator[Frame]:
    """Every frame of a pcap or pcapng stream, read in chunks; damage goes to ``stats``, never raised."""
    head = stream.read(CHUNK)
    kind = container_kind(head[:12])
    if kind is None:
        stats.bad_records += 1
        stats.problem("not a pcap or pcapng file")
        return iter(())
    stats.container = kind
    if kind == "pcap":
        return _read_pcap(stream, head, stats)
    return _read_pcapng(stream, head, stats)


def _read_pcap(stream: BinaryIO, data: bytes, stats: ReadStats) -> Iterator[Frame]:
    endian, unit = PCAP_MAGICS[data[:4]]
    if len(data) < 24:
        stats.truncated = True
        stats.problem("file header cut short")
        return
    snaplen, linktype = struct.unpack_from(endian + "II", data, 16)
    linktype &= 0x0FFFFFFF  # the upper bits carry FCS flags
    stats.link_types.add(linktype)
    record = struct.Struct(endian + "IIII").unpack_from
    limit = max(snaplen, 262144)
    pos, end, number, offset = 24, len(data), 0, 0
    try:
        while True:
            if pos + 16 > end:
                more = stream.read(CHUNK)
                if not more:
                    if pos < end:
                        stats.truncated = True
                        stats.problem(f"record header cut at byte {offset + pos}")
                    return
                offset += pos
                data, pos = data[pos:] + more, 0
                end = len(data)
                continue
            sec, frac, incl, orig = record(data, pos)
            if (incl > limit and incl > orig) or incl > MAX_RECORD:
                stats.bad_records += 1
                stats.problem(f"record at byte {offset + pos} claims {incl} bytes")
                return  # without a trustworthy length there is no next record to find
            stop = pos + 16 + incl
            if stop > end:
                more = stream.read(max(CHUNK, incl + 16))
                if more:
                    offset += pos
                    data, pos = data[pos:] + more, 0
                    end = len(data)
                    continue
                number += 1
                stats.truncated = True
                stats.cut_frames += 1
                stats.problem(f"frame {number} cut by end of file")
                body = data[pos + 16 :]
                yield number, sec + frac * unit, linktype, body, orig if orig > incl else incl
                return
            body = data[pos + 16 : stop]
            pos = stop
            number += 1
            if incl < orig:
                stats.cut_frames += 1
                yield number, sec + frac * unit, linktype, body, orig
            else:
                yield number, sec + frac * unit, linktype, body, incl
    finally:
        stats.frames = number


def _read_pcapng(stream: BinaryIO, data: bytes, stats: ReadStats) -> Iterator[Frame]:
    pos, end, number, offset = 0, len(data), 0, 0
    endian = "<"
    interfaces: list[tuple[int, float]] = []
    try:
        while True:
            if pos + 12 > end:
                more = stream.read(CHUNK)
                if not more:
                    if pos < end:
                        stats.truncated = True
                        stats.problem(f"block header cut at byte {offset + pos}")
                    return
                offset += pos
                data, pos = data[pos:] + more, 0
                end = len(data)
                continue
            if data[pos : pos + 4] == PCAPNG_MAGIC:
                endian = "<" if data[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                interfaces = []
            btype, blen = struct.unpack_from(endian + "II", data, pos)
            if blen < 12 or blen % 4 or blen > MAX_RECORD:
                stats.bad_records += 1
                stats.problem(f"block at byte {offset + pos} has length {blen}")
                return
            if pos + blen > end:
                more = stream.read(max(CHUNK, blen))
                if more:
                    offset += pos
                    data, pos = data[pos:] + more, 0
                    end = len(data)
                    continue
                stats.truncated = True
                stats.problem("last block cut by end of file")
            body = data[pos + 8 : min(pos + blen - 4, end)]
            pos += blen
            if btype == 1:
                interfaces.append(_interface(body, endian, stats))
            elif btype in (6, 3, 2):
                frame = _packet(btype, body, endian, interfaces, stats)
                number += 1
                if frame is None:
                    stats.bad_records += 1
                    yield number, 0.0, -1, b"", 0
                else:
                    yield (number, *frame)
            if stats.truncated:
                return
    finally:
        stats.frames = number


def _interface(body: bytes, endian: str, stats: ReadStats) -> tuple[int, float]:
    if len(body) < 8:
        stats.bad_records += 1
        return -1, 1e-6
    linktype = struct.unpack_from(endian + "H", body, 0)[0]
    unit = 1e-6
    pos = 8
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(endian + "HH", body, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:  # if_tsresol
            raw = body[pos + 4]
            unit = 2.0 ** -(raw & 0x7F) if raw & 0x80 else 10.0**-raw
        pos += 4 + length + (-length % 4)
    stats.link_types.add(linktype)
    return linktype, unit


def _packet(
    btype: int, body: bytes, endian: str, interfaces: list[tuple[int, float]], stats: ReadStats
) -> tuple[float, int, bytes, int] | None:
    if btype == 3:  # simple packet block: no timestamp, first interface
        if len(body) < 4 or not interfaces:
            return None
        orig = struct.unpack_from(endian + "I", body, 0)[0]
        captured = body[4 : 4 + orig]
        if len(captured) < orig:
            stats.cut_frames += 1
        return 0.0, interfaces[0][0], captured, orig
    if len(body) < 20:
        return None
    if btype == 6:
        iface, hi, lo, incl, orig = struct.unpack_from(endian + "IIIII", body, 0)
        start = 20
    else:  # obsolete packet block: 16-bit interface and drops count
        iface, _drops, hi, lo, incl, orig = struct.unpack_from(endian + "HHIIII", body, 0)
        start = 20
    if iface >= len(interfaces):
        return None
    linktype, unit = interfaces[iface]
    captured = body[start : start + incl]
    if len(captured) < incl or incl < orig:
        stats.cut_frames += 1
    return ((hi << 32) | lo) * unit, linktype, captured, max(orig, len(captured))
