"""One pass over a capture: decode each frame, analyze TCP, and feed DNS, TLS and HTTP decoders.

This is the hot loop: frames arrive as tuples from the container reader and
the TCP path touches only slotted objects and local variables.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from casework.net import tcp
from casework.net.decode import address, decode, decode_ip, icmp_quote
from casework.net.fragments import Defragmenter
from casework.net.dns import DNS_PORTS, DnsOverTcp, DnsTracker, parse_message
from casework.net.http1 import HTTP_PORTS, HttpConversation, HttpDirection, looks_like_http
from casework.net.pcap_reader import Frame
from casework.net.tls import TLS_PORTS, TlsDirection, TlsSession, looks_like_tls

_TCP = struct.Struct("!HHIIHH").unpack_from
_UDP = struct.Struct("!HH").unpack_from
#: Frame numbers kept per condition for evidence; counts are always complete.
MAX_EVIDENCE_FRAMES = 200
MAX_CONV_FRAMES = 50
#: Ports some other Wireshark dissector owns, where its TLS/HTTP heuristics never run.
OTHER_PORTS = frozenset((21, 22, 23, 25, 110, 143, 389, 445, 3306, 5432, 6379))


class StreamHandler(Protocol):
    def data(self, payload: bytes, num: int, ts: float) -> None: ...
    def gap(self) -> None: ...
    def fin(self, num: int, ts: float) -> None: ...


class App:
    """The application decoder of one TCP conversation: a handler and next sequence per side."""

    __slots__ = ("conv_state", "kind", "nxt", "sides")

    def __init__(self, kind: str, sides: tuple[StreamHandler, StreamHandler], state: object) -> None:
        self.kind = kind
        self.sides = sides
        self.nxt: list[int | None] = [None, None]
        self.conv_state = state


@dataclass(slots=True)
class UdpFlow:
    """A UDP conversation's volume, for the flows table."""

    addr: tuple[bytes, int, bytes, int]
    first_ts: float
    last_ts: float
    first_frame: int
    packets: int = 0
    bytes: int = 0


@dataclass
class Capture:
    """Everything learned from one capture file."""

    frames: int = 0
    first_ts: float = 0.0
    last_ts: float = 0.0
    non_ip: int = 0
    fragments: int = 0
    malformed: int = 0
    rst_frames: list[int] = field(default_factory=list)
    rst_count: int = 0
    flag_counts: dict[int, int] = field(default_factory=dict)
    flag_frames: dict[int, list[int]] = field(default_factory=dict)
    conversations: list[tcp.Conversation] = field(default_factory=list)
    udp: dict[bytes, UdpFlow] = field(default_factory=dict)
    dns: DnsTracker = field(default_factory=DnsTracker)
    _table: dict[bytes, tuple[tcp.Conversation, bool]] = field(default_factory=dict)
    _defrag: Defragmenter = field(default_factory=Defragmenter)

    def run(self, frames: Iterable[Frame]) -> Capture:
        for num, ts, linktype, buf, orig in frames:
            self.frames = num
            if not self.first_ts:
                self.first_ts = ts
            self.last_ts = ts
            decoded = decode(linktype, buf)
            if decoded is None:
                self.non_ip += 1
                continue
            while decoded is not None and decoded[7]:
                self.fragments += 1
                whole = self._defrag.add(buf, decoded[8], decoded[5]) if decoded[0] == 4 else None
                if whole is None:
                    decoded = None
                    break
                buf = whole
                orig = len(whole)
                decoded = decode_ip(whole)
            if decoded is None:
                continue
            _ver, src, dst, proto, l4, end, _err, frag, _ip = decoded
            if end > orig:  # IP claims more than the frame had: Wireshark uses the frame
                end = orig
            try:
                if proto == 6:
                    self._tcp(num, ts, buf, src, dst, l4, end)
                elif proto == 17:
                    self._udp(num, ts, buf, src, dst, l4, end, False)
                elif proto == 1 or proto == 58:
                    self._icmp(num, ts, buf, decoded)
            except (IndexError, ValueError, struct.error, UnicodeError):
                self.malformed += 1  # a damaged frame is counted; the capture goes on
        return self

    def _tcp(self, num: int, ts: float, buf: bytes, src: bytes, dst: bytes, l4: int, end: int) -> None:
        if len(buf) < l4 + 20:
            self.malformed += 1
            return
        sport, dport, seq, ack, offflags, win = _TCP(buf, l4)
        hl = (offflags >> 12) * 4
        flags = offflags & 0xFF
        seglen = end - l4 - hl
        if hl < 20 or seglen < 0:
            self.malformed += 1
            return
        if flags & 4:
            self.rst_count += 1
            if len(self.rst_frames) < MAX_EVIDENCE_FRAMES:
                self.rst_frames.append(num)
        key = src + dst + buf[l4 : l4 + 4]
        entry = self._table.get(key)
        if entry is None or (
            flags & 0x12 == 2 and _new_syn(entry, seq)
        ):
            entry = self._new_conversation(key, num, ts, src, dst, sport, dport)
        conv, is_a = entry
        fwd, rev = (conv.a, conv.b) if is_a else (conv.b, conv.a)
        if flags & 2:
            tcp.handshake(conv, num, ts, flags)
            tcp.window_scale(fwd, rev, flags, _wscale(buf, l4, hl) if hl > 20 else None)
        elif flags & 0x10 and conv.mru_syn and not conv.irtt:
            tcp.handshake(conv, num, ts, flags)
        if flags & 4:
            conv.resets.append((num, ts, is_a, ts - conv.last_ts))
        fl = tcp.analyze(conv, fwd, rev, ts, seq, ack, flags, win, seglen)
        if not flags & 2:
            fwd.is_first_ack = False
        if fl:
            self._flags(conv, fl, num)
        conv.last_ts = ts
        fwd.packets += 1
        fwd.bytes += end - l4
        if seglen or flags & 1:
            fwd.payload += seglen
            app = conv.app
            if app is None:
                app = conv.app = self._choose_app(conv, buf[l4 + hl : l4 + hl + 16], seglen)
            if app:
                assert isinstance(app, App)
                self._deliver(conv, app, is_a, num, ts, seq, flags, buf[l4 + hl : end], seglen)

    def _new_conversation(
        self, key: bytes, num: int, ts: float, src: bytes, dst: bytes, sport: int, dport: int
    ) -> tuple[tcp.Conversation, bool]:
        conv = tcp.Conversation(len(self.conversations), num, ts)
        conv.addr = (src, sport, dst, dport)
        self.conversations.append(conv)
        rkey = dst + src + key[-2:] + key[-4:-2]
        self._table[key] = (conv, True)
        self._table[rkey] = (conv, False)
        return conv, True

    def _flags(self, conv: tcp.Conversation, fl: int, num: int) -> None:
        counts, frames = self.flag_counts, self.flag_frames
        bit = 1
        while bit <= fl:
            if fl & bit:
                counts[bit] = counts.get(bit, 0) + 1
                conv.counts[bit] = conv.counts.get(bit, 0) + 1
                mine = conv.frames.setdefault(bit, [])
                if len(mine) < MAX_CONV_FRAMES:
                    mine.append(num)
                kept = frames.setdefault(bit, [])
                if len(kept) < MAX_EVIDENCE_FRAMES:
                    kept.append(num)
            bit <<= 1

    def _choose_app(self, conv: tcp.Conversation, head: bytes, seglen: int) -> App | bool | None:
        ports = (conv.addr[1], conv.addr[3])
        if any(p in HTTP_PORTS for p in ports):
            state = HttpConversation()
            return App("http", (HttpDirection(state, 0), HttpDirection(state, 1)), state)
        if any(p in DNS_PORTS for p in ports):
            return App("dns", (DnsOverTcp(), DnsOverTcp()), None)
        if any(p in TLS_PORTS for p in ports):
            return _tls_app()
        if any(p in OTHER_PORTS for p in ports):
            return False
        if not seglen or not head:
            return None  # decide on the first segment that carries data
        if looks_like_tls(head):
            return _tls_app()
        if looks_like_http(head):
            state = HttpConversation()
            return App("http", (HttpDirection(state, 0), HttpDirection(state, 1)), state)
        return False

    def _deliver(
        self, conv: tcp.Conversation, app: App, is_a: bool, num: int, ts: float, seq: int,
        flags: int, payload: bytes, seglen: int,
    ) -> None:
        side = 0 if is_a else 1
        handler = app.sides[side]
        nxt = app.nxt[side]
        delta = 0 if nxt is None else (seq - nxt) & tcp.M32
        skip = 0
        if delta and delta < tcp.HALF:  # bytes between nxt and seq were never captured
            if isinstance(handler, HttpDirection):
                handler.skip(delta)
            else:
                handler.gap()
        elif delta:
            skip = tcp.M32 + 1 - delta
            if skip >= seglen:  # nothing new: a retransmission the decoders already saw
                if flags & 1:
                    handler.fin(num, ts)
                return
        app.nxt[side] = (seq + seglen) & tcp.M32
        data = payload[skip:]
        if data:
            handler.data(data, num, ts)
        if len(data) < seglen - skip:  # the frame was cut by the snapshot length
            handler.gap()
        if isinstance(handler, DnsOverTcp) and handler.messages:
            for mnum, mts, msg in handler.messages:
                src, sport, dst, dport = conv.addr if is_a else _swap(conv.addr)
                self.dns.message(conv, msg, mnum, mts, address(src), address(dst), False)
            handler.messages.clear()
        if flags & 1:
            handler.fin(num, ts)

    def _udp(
        self, num: int, ts: float, buf: bytes, src: bytes, dst: bytes, l4: int, end: int,
        in_error: bool,
    ) -> None:
        if len(buf) < l4 + 8:
            self.malformed += 1
            return
        sport, dport = _UDP(buf, l4)
        key = src + dst + buf[l4 : l4 + 4]
        rkey = dst + src + buf[l4 + 2 : l4 + 4] + buf[l4 : l4 + 2]
        ckey = min(key, rkey)
        if not in_error:
            flow = self.udp.get(ckey)
            if flow is None:
                flow = self.udp[ckey] = UdpFlow((src, sport, dst, dport), ts, ts, num)
            flow.packets += 1
            flow.bytes += end - l4
            flow.last_ts = ts
        if sport in DNS_PORTS or dport in DNS_PORTS:
            msg = parse_message(buf[l4 + 8 : min(end, len(buf))])
            if msg is not None:
                self.dns.message(ckey, msg, num, ts, address(src), address(dst), in_error)

    def _icmp(self, num: int, ts: float, buf: bytes, outer: tuple[object, ...]) -> None:
        version, l4 = outer[0], outer[4]
        assert isinstance(version, int) and isinstance(l4, int)
        inner = icmp_quote(version, buf, l4)
        if inner is None:
            return
        _v, src, dst, proto, il4, iend, _e, frag = inner
        if frag:
            return
        if proto == 6 and len(buf) > il4 + 13 and buf[il4 + 13] & 4:
            self.rst_count += 1  # Wireshark shows tcp.flags.reset for the quoted header too
        elif proto == 17:
            self._udp(num, ts, buf, src, dst, il4, min(iend, len(buf)), True)


def _new_syn(entry: tuple[tcp.Conversation, bool], seq: int) -> bool:
    """A SYN with a new ISN on a known 4-tuple starts a new conversation (port reuse)."""
    conv, is_a = entry
    fwd = conv.a if is_a else conv.b
    return fwd.base_set and seq != fwd.base_seq


def _swap(addr: tuple[bytes, int, bytes, int]) -> tuple[bytes, int, bytes, int]:
    return addr[2], addr[3], addr[0], addr[1]


def _tls_app() -> App:
    session = TlsSession()
    return App("tls", (TlsDirection(session, 0), TlsDirection(session, 1)), session)


def _wscale(buf: bytes, l4: int, hl: int) -> int | None:
    pos, end = l4 + 20, min(l4 + hl, len(buf))
    while pos < end:
        kind = buf[pos]
        if kind == 0:
            break
        if kind == 1:
            pos += 1
            continue
        if pos + 1 >= end:
            break
        size = buf[pos + 1]
        if kind == 3 and size == 3 and pos + 2 < end:
            return buf[pos + 2]
        if size < 2:
            break
        pos += size
    return None
