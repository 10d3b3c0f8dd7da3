"""Plaintext HTTP/1.x over one TCP conversation: requests, responses and their timing.

Messages are framed like Wireshark's HTTP dissector with body desegmentation:
a message counts in the frame where its headers and body are complete
(Content-Length, chunked, or until FIN when neither is given), a message with
a capture gap inside it never completes, and a response is paired with the
latest request still waiting for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Wireshark 4.0's default ``http.tcp.port`` range.
HTTP_PORTS = frozenset((80, 3128, 3132, 5985, 8080, 8088, 11371, 1900, 2869, 2710))

METHODS = (
    b"GET",
    b"POST",
    b"PUT",
    b"DELETE",
    b"HEAD",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"M-SEARCH",
    b"REPORT",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"ACL",
    b"LINK",
    b"UNLINK",
    b"CCM_POST",
    b"CCM_SUBSCRIBE",
    b"RPC_CONNECT",
    b"RPC_IN_DATA",
    b"RPC_OUT_DATA",
    b"POLL",
    b"BPROPFIND",
    b"BMOVE",
    b"BDELETE",
    b"BCOPY",
    b"UPDATE",
    b"LABEL",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
    b"MKWORKSPACE",
)
_METHOD_LIKE = re.compile(rb"^[A-Z][A-Z_-]{1,19}$")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_RESPONSE = re.compile(rb"^HTTP/\d\.\d (\d{3})")
MAX_HEADER = 65536
MAX_HOLES = 1000


def looks_like_http(payload: bytes) -> bool:
    """The start of an HTTP/1.x request or response line (Wireshark's heuristic)."""
    if payload.startswith(b"HTTP/1."):
        return True
    return _method(payload.split(b"\n", 1)[0]) is not None


def _method(line: bytes) -> bytes | None:
    """The method of a request line, as leniently as Wireshark reads one.

    A known method may stand alone or run into the version (``OPTIONS``,
    ``HEAD /HTTP/1.1``); an unknown upper-case token needs ``HTTP/`` on the line.
    """
    token = line.split(b" ", 1)[0].rstrip(b"\r")
    if token in METHODS:
        return token
    if _METHOD_LIKE.match(token) and b" HTTP/" in line:
        return token
    return None


@dataclass(slots=True)
class Message:
    """One HTTP message; ``frame`` is where it completed."""

    frame: int
    ts: float
    start_frame: int
    request: bool
    method: str = ""
    target: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body_bytes: int = 0
    body_done: bool = False


@dataclass(slots=True)
class Exchange:
    """A request and, when seen, its response."""

    request: Message
    response: Message | None = None


class HttpConversation:
    """Both directions of one conversation, pairing responses with requests."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.orphans: list[Message] = []
        self.client_side: int | None = None  # which side sent the first request
        self.response_frames: dict[int, int] = {}  # frame -> first status completed in it

    def completed(self, msg: Message, side: int) -> None:
        if msg.request:
            if self.client_side is None:
                self.client_side = side
            self.exchanges.append(Exchange(msg))
            return
        self.response_frames.setdefault(msg.frame, msg.status)
        tail = self.exchanges[-1] if self.exchanges else None
        if tail is not None and tail.response is None:
            tail.response = msg
        else:
            self.orphans.append(msg)

    def expects_no_body(self) -> bool:
        tail = self.exchanges[-1] if self.exchanges else None
        return tail is not None and tail.request.method == "HEAD" and tail.response is None


class HttpDirection:
    """One direction's byte stream cut into HTTP messages."""

    __slots__ = ("broken", "buf", "conv", "current", "holes", "mode", "remaining", "side")

    def __init__(self, conv: HttpConversation, side: int) -> None:
        self.conv = conv
        self.side = side
        self.buf = b""
        self.mode = 0  # 0 headers, 1 fixed body, 2 chunked, 3 until FIN
        self.remaining = 0
        self.current: Message | None = None
        self.broken = False
        # Bytes missing inside fixed-length bodies: [start seq, size, message]. Wireshark's
        # reassembly completes such a message when a retransmission fills the hole.
        self.holes: list[list[Any]] = []

    def data(self, payload: bytes, num: int, ts: float) -> None:
        while payload:
            if self.mode == 1:
                take = min(self.remaining, len(payload))
                self.remaining -= take
                payload = payload[take:]
                if self.current is not None:
                    self.current.body_bytes += take
                if not self.remaining:
                    self._done(num, ts)
                continue
            if self.mode == 3:
                if self.current is not None:
                    self.current.body_bytes += len(payload)
                return
            self.buf += payload
            payload = b""
            payload = self._chunks(num, ts) if self.mode == 2 else self._headers(num, ts)

    def gap(self) -> None:
        """Bytes are missing: the message in progress can never complete."""
        if self.mode == 1 and self.current is not None:
            self.broken = True
            return
        self.buf = b""
        self.mode = 0
        self.current = None

    def skip(self, size: int, at: int) -> None:
        """``size`` bytes from sequence ``at`` not (yet) seen; inside a fixed-length body they
        may still arrive as a retransmission, so framing goes on and the hole is remembered."""
        if self.mode == 1 and size < self.remaining and self.current is not None:
            self.remaining -= size
            if len(self.holes) < MAX_HOLES:
                self.holes.append([at, size, self.current])
            else:
                self.broken = True
            return
        self.buf = b""  # past the end of the message: whatever comes next starts afresh
        self.mode = 0
        self.current = None
        self.broken = False

    def fin(self, num: int, ts: float) -> None:
        if self.mode == 3:
            self._done(num, ts)

    def _headers(self, num: int, ts: float) -> bytes:
        if not self.current and not looks_like_http(self.buf[:16]):
            self.buf = b""  # continuation data of something we did not see start
            return b""
        found = _HEAD_END.search(self.buf)
        if found is None:
            if len(self.buf) > MAX_HEADER:
                self.buf = b""
            return b""
        head, rest = self.buf[: found.start()], self.buf[found.end() :]
        self.buf = b""
        msg = _parse_head(head, num, ts)
        if msg is None:
            return b""
        self.current = msg
        self.broken = False
        length = msg.headers.get("content-length", "")
        chunked = "chunked" in msg.headers.get("transfer-encoding", "").lower()
        if not msg.request and (
            msg.status < 200 or msg.status in (204, 304) or self.conv.expects_no_body()
        ):
            self._done(num, ts)
        elif chunked:
            self.mode = 2
        elif length.strip().isascii() and length.strip().isdigit():
            self.remaining = int(length.strip())
            self.mode = 1
            if not self.remaining:
                self._done(num, ts)
        elif msg.request:
            self._done(num, ts)
        else:
            self.mode = 3
        return rest

    def _chunks(self, num: int, ts: float) -> bytes:
        while True:
            line_end = self.buf.find(b"\r\n")
            if line_end < 0:
                return b""
            size_text = self.buf[:line_end].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self.gap()
                return b""
            if size == 0:
                if self.buf[line_end + 2 : line_end + 4] == b"\r\n":
                    stop = line_end + 4
                else:
                    trailer = self.buf.find(b"\r\n\r\n", line_end + 2)
                    if trailer < 0:
                        return b""
                    stop = trailer + 4
                rest = self.buf[stop:]
                self.buf = b""
                self._done(num, ts)
                return rest
            need = line_end + 2 + size + 2
            if len(self.buf) < need:
                return b""
            if self.current is not None:
                self.current.body_bytes += size
            self.buf = self.buf[need:]

    def fill(self, seq: int, size: int, num: int, ts: float) -> None:
        """Retransmitted bytes ``[seq, seq + size)``: close holes; finish messages left whole."""
        for hole in self.holes:
            offset = (hole[0] - seq) & 0xFFFFFFFF  # where the hole starts within the segment
            if offset < size:
                taken = min(size - offset, hole[1])
                hole[0] = (hole[0] + taken) & 0xFFFFFFFF
                hole[1] -= taken
        filled = [h[2] for h in self.holes if h[1] <= 0]
        self.holes = [h for h in self.holes if h[1] > 0]
        for msg in filled:
            if msg.body_done and not any(h[2] is msg for h in self.holes):
                msg.frame, msg.ts = num, ts
                self.conv.completed(msg, self.side)

    def _done(self, num: int, ts: float) -> None:
        msg, broken = self.current, self.broken
        self.current, self.mode, self.remaining, self.broken = None, 0, 0, False
        if msg is None or broken:
            return
        msg.frame, msg.ts = num, ts
        msg.body_done = True
        if not any(h[2] is msg for h in self.holes):
            self.conv.completed(msg, self.side)


def _parse_head(head: bytes, num: int, ts: float) -> Message | None:
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    first = lines[0]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    resp = _RESPONSE.match(first)
    if resp:
        return Message(num, ts, num, False, status=int(resp.group(1)), headers=headers)
    method = _method(first)
    if method is None:
        return None
    parts = first.split(b" ")
    target = parts[1] if len(parts) > 2 else b""
    return Message(
        num,
        ts,
        num,
        True,
        method=method.decode("ascii"),
        target=target.decode("latin-1"),
        headers=headers,
    )
