"""IPv4 fragment reassembly, so a datagram split in flight is analyzed once, in its last fragment.

Wireshark reassembles IPv4 by default; without this, GRE/ERSPAN tunnels and
large DNS answers would lose their inner packets.
"""

from __future__ import annotations

import struct

#: Datagrams waiting for fragments; beyond this the oldest are given up.
MAX_PENDING = 4096


class Defragmenter:
    """Collects IPv4 fragments and returns the whole datagram when the last piece arrives."""

    def __init__(self) -> None:
        self._pending: dict[bytes, dict[int, bytes]] = {}
        self._headers: dict[bytes, bytes] = {}
        self._total: dict[bytes, int] = {}
        self.given_up = 0

    def add(self, buf: bytes, ip_off: int, end: int) -> bytes | None:
        """Add the IPv4 fragment at ``ip_off``; the reassembled datagram once complete."""
        ihl = (buf[ip_off] & 15) * 4
        field = struct.unpack_from("!H", buf, ip_off + 6)[0]
        offset = (field & 0x1FFF) * 8
        more = bool(field & 0x2000)
        key = (
            buf[ip_off + 4 : ip_off + 6]
            + buf[ip_off + 9 : ip_off + 10]
            + buf[ip_off + 12 : ip_off + 20]
        )
        pieces = self._pending.get(key)
        if pieces is None:
            if len(self._pending) >= MAX_PENDING:
                oldest = next(iter(self._pending))
                self._drop(oldest)
                self.given_up += 1
            pieces = self._pending[key] = {}
        pieces[offset] = buf[ip_off + ihl : min(end, len(buf))]
        if offset == 0:
            self._headers[key] = buf[ip_off : ip_off + ihl]
        if not more:
            self._total[key] = offset + (min(end, len(buf)) - ip_off - ihl)
        total = self._total.get(key)
        header = self._headers.get(key)
        if total is None or header is None:
            return None
        payload = bytearray()
        for start in sorted(pieces):
            if start > len(payload):
                return None  # a hole: wait for the missing fragment
            chunk = pieces[start]
            payload += chunk[len(payload) - start :]
        if len(payload) < total:
            return None
        self._drop(key)
        whole = bytearray(header)
        struct.pack_into("!H", whole, 2, len(header) + total)
        struct.pack_into("!H", whole, 6, 0)
        return bytes(whole) + bytes(payload[:total])

    def _drop(self, key: bytes) -> None:
        self._pending.pop(key, None)
        self._headers.pop(key, None)
        self._total.pop(key, None)
