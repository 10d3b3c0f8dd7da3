"""Application decoders riding on TCP: which one a conversation gets, and in-order delivery of its bytes.

Bytes reach a decoder once, in sequence order: retransmitted bytes are cut
off, and a hole (a segment never captured) is announced as a gap so the
decoder can give up the message it was in, as Wireshark's reassembly does.
"""

from __future__ import annotations

from typing import Protocol

from casework.net import tcp
from casework.net.decode import address
from casework.net.dns import DNS_PORTS, DnsOverTcp, DnsTracker
from casework.net.http1 import HTTP_PORTS, HttpConversation, HttpDirection, looks_like_http
from casework.net.tls import TLS_PORTS, TlsDirection, TlsSession, looks_like_tls

#: Ports some other Wireshark dissector owns, where its TLS/HTTP heuristics never run.
OTHER_PORTS = frozenset((21, 22, 23, 25, 110, 143, 389, 445, 3306, 5432, 6379))


class StreamHandler(Protocol):
    """One direction's decoder."""

    def data(self, payload: bytes, num: int, ts: float) -> None: ...
    def gap(self) -> None: ...
    def fin(self, num: int, ts: float) -> None: ...


class App:
    """The application decoder of one TCP conversation: a handler and next sequence per side."""

    __slots__ = ("conv_state", "kind", "nxt", "sides")

    def __init__(
        self, kind: str, sides: tuple[StreamHandler, StreamHandler], state: object
    ) -> None:
        self.kind = kind
        self.sides = sides
        self.nxt: list[int | None] = [None, None]
        self.conv_state = state


def choose_app(conv: tcp.Conversation, head: bytes, seglen: int) -> App | bool | None:
    """The decoder for a conversation, by port like Wireshark, else by the first payload."""
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


def deliver(
    dns: DnsTracker,
    conv: tcp.Conversation,
    app: App,
    is_a: bool,
    num: int,
    ts: float,
    seq: int,
    flags: int,
    payload: bytes,
    seglen: int,
) -> None:
    """Hand a segment's new bytes to the decoder of its side; DNS-over-TCP messages to ``dns``."""
    side = 0 if is_a else 1
    handler = app.sides[side]
    nxt = app.nxt[side]
    delta = 0 if nxt is None else (seq - nxt) & tcp.M32
    skip = 0
    if delta and delta < tcp.HALF:  # bytes between nxt and seq were never captured
        if isinstance(handler, HttpDirection):
            handler.skip(delta, (seq - delta) & tcp.M32)
        else:
            handler.gap()
    elif delta:
        skip = tcp.M32 + 1 - delta
        if isinstance(handler, HttpDirection) and handler.holes:
            handler.fill(seq, min(skip, seglen), num, ts)
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
            src, _sport, dst, _dport = conv.addr if is_a else _swap(conv.addr)
            dns.message(conv, msg, mnum, mts, address(src), address(dst), False)
        handler.messages.clear()
    if flags & 1:
        handler.fin(num, ts)


def _swap(addr: tuple[bytes, int, bytes, int]) -> tuple[bytes, int, bytes, int]:
    return addr[2], addr[3], addr[0], addr[1]


def _tls_app() -> App:
    session = TlsSession()
    return App("tls", (TlsDirection(session, 0), TlsDirection(session, 1)), session)
