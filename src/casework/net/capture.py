"""One pass over a capture: decode each frame, analyze TCP, and feed DNS, TLS and HTTP decoders.

This is the hot loop: frames arrive as tuples from the container reader and
the TCP path touches only slotted objects and local variables.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from casework.net import tcp
from casework.net.decode import address, decode, decode_ip, icmp_quote
from casework.net.dns import DNS_PORTS, DnsTracker, parse_message
from casework.net.fragments import Defragmenter
from casework.net.http1 import HttpDirection
from casework.net.pcap_reader import Frame
from casework.net.streams import App, choose_app, deliver

_TCP = struct.Struct("!HHIIHH").unpack_from
#: Ethernet type, IPv4 version/IHL, total length, flags/fragment, protocol, addresses, then
#: the TCP ports, sequence, ack, offset/flags and window: one unpack for the common frame.
_FAST = struct.Struct("!12xHBxH2xHxB2x4s4sHHIIHH").unpack_from
_UDP = struct.Struct("!HH").unpack_from
#: Frame numbers kept per condition for evidence; counts are always complete.
MAX_EVIDENCE_FRAMES = 200
MAX_CONV_FRAMES = 50


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
        """Analyze every frame; Ethernet/IPv4/TCP without options takes an inlined fast path."""
        fast = _FAST
        segment = self._segment
        num = 0
        for num, ts, linktype, buf, orig in frames:
            if linktype == 1 and len(buf) >= 54:
                (
                    etype,
                    verihl,
                    total,
                    frag,
                    proto,
                    src,
                    dst,
                    sport,
                    dport,
                    seq,
                    ack,
                    offflags,
                    win,
                ) = fast(buf, 0)
                if etype == 0x0800 and verihl == 0x45 and proto == 6 and not frag & 0x3FFF:
                    end = 14 + total
                    if end > orig:  # IP claims more than the frame had: Wireshark uses the frame
                        end = orig
                    try:
                        segment(num, ts, buf, src, dst, 34, end, sport, dport, seq, ack,
                                offflags, win, buf[26:38])  # fmt: skip
                    except (IndexError, ValueError, struct.error, UnicodeError):
                        self.malformed += 1
                    continue
            self._general(num, ts, linktype, buf, orig)
        self.frames = num
        return self

    def _general(self, num: int, ts: float, linktype: int, buf: bytes, orig: int) -> None:
        decoded = decode(linktype, buf)
        if decoded is None:
            self.non_ip += 1
            return
        while decoded is not None and decoded[7]:
            self.fragments += 1
            whole = self._defrag.add(buf, decoded[8], decoded[5]) if decoded[0] == 4 else None
            if whole is None:
                return
            buf = whole
            orig = len(whole)
            decoded = decode_ip(whole)
        if decoded is None:
            return
        _ver, src, dst, proto, l4, end, _err, _frag, _ip = decoded
        if end > orig:
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

    def _tcp(
        self, num: int, ts: float, buf: bytes, src: bytes, dst: bytes, l4: int, end: int
    ) -> None:
        if len(buf) < l4 + 20:
            self.malformed += 1
            return
        sport, dport, seq, ack, offflags, win = _TCP(buf, l4)
        key = src + dst + buf[l4 : l4 + 4]
        self._segment(num, ts, buf, src, dst, l4, end, sport, dport, seq, ack, offflags, win, key)

    def _segment(
        self, num: int, ts: float, buf: bytes, src: bytes, dst: bytes, l4: int, end: int,
        sport: int, dport: int, seq: int, ack: int, offflags: int, win: int, key: bytes,
    ) -> None:  # fmt: skip
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
        entry = self._table.get(key)
        if entry is None or (flags & 0x12 == 2 and _new_syn(entry, seq)):
            entry = self._new_conversation(key, num, ts, src, dst, sport, dport)
        conv, is_a = entry
        fwd, rev = (conv.a, conv.b) if is_a else (conv.b, conv.a)
        if flags & 2:
            tcp.handshake(conv, num, ts, flags)
            tcp.window_scale(fwd, rev, flags, _wscale(buf, l4, hl) if hl > 20 else None)
        elif flags & 0x10 and conv.mru_syn and not conv.irtt:
            tcp.handshake(conv, num, ts, flags)
        if flags & 4:
            conv.resets.append((num, ts, is_a, ts - conv.last_ts, conv.last_gap))
        fl = tcp.analyze(conv, fwd, rev, ts, seq, ack, flags, win, seglen)
        if fl & (tcp.ZERO_WINDOW | tcp.ZW_PROBE) or fwd.stall is not None:
            tcp.stalls(conv, fwd, rev, is_a, num, ts, fl, flags, win)
        if not flags & 2:
            fwd.is_first_ack = False
        if fl:
            self._flags(conv, fl, num)
        conv.last_gap = ts - conv.last_ts
        conv.last_ts = ts
        fwd.packets += 1
        fwd.bytes += end - l4
        if seglen or flags & 1:
            fwd.payload += seglen
            if fl & tcp.RETRANS:
                return  # Wireshark 4.0 does not reassemble (RTO) retransmissions; fast ones it does
            app = conv.app
            if app is None:
                app = conv.app = choose_app(conv, buf[l4 + hl : l4 + hl + 16], seglen)
            if app:
                assert isinstance(app, App)
                side = 0 if is_a else 1
                handler = app.sides[side]
                if (
                    type(handler) is HttpDirection
                    and handler.mode == 1
                    and handler.remaining > seglen
                    and app.nxt[side] == seq
                    and not flags & 1
                    and len(buf) >= end
                    and handler.current is not None
                ):  # the middle of a known-length body: count it, copy nothing
                    handler.remaining -= seglen
                    handler.current.body_bytes += seglen
                    app.nxt[side] = (seq + seglen) & tcp.M32
                else:
                    deliver(
                        self.dns, conv, app, is_a, num, ts, seq, flags, buf[l4 + hl : end], seglen
                    )

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

    def _udp(
        self,
        num: int,
        ts: float,
        buf: bytes,
        src: bytes,
        dst: bytes,
        l4: int,
        end: int,
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
        _v, src, dst, proto, il4, iend, _e, frag, _ip = inner
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
