"""DNS messages and query/response matching the way Wireshark's DNS dissector pairs them.

A query and its response share the transport conversation and the transaction
id; a repeated query with the same id and name before any answer is a
retransmission of the same transaction (so one answer answers both), and only
the first response of a transaction sets ``response_in``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

DNS_PORTS = frozenset((53, 5353, 5355))

RCODE_NAMES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    9: "NOTAUTH",
    16: "BADVERS",
    23: "BADCOOKIE",
}

_HEADER = struct.Struct("!HHHHHH").unpack_from
_RR = struct.Struct("!HHIH").unpack_from


@dataclass(slots=True)
class DnsMessage:
    """The parts of a DNS message the analysis uses; ``rcode`` includes the EDNS extension."""

    ident: int
    response: bool
    rcode: int
    qname: str
    qtype: int
    answers: int


def parse_message(data: bytes) -> DnsMessage | None:
    """A DNS message from a UDP payload or a TCP-framed message body; None if not even a header."""
    if len(data) < 12:
        return None
    ident, flags, qd, an, ns, ar = _HEADER(data, 0)
    rcode = flags & 15
    qname, qtype = "", 0
    pos = 12
    try:
        for i in range(qd):
            name, pos = _name(data, pos)
            if i == 0:
                qname = name
                qtype = struct.unpack_from("!H", data, pos)[0]
            pos += 4
        for _ in range(an + ns + ar):
            pos = _skip_name(data, pos)
            rtype, _cls, ttl, rdlen = _RR(data, pos)
            pos += 10 + rdlen
            if rtype == 41 and ttl >> 24:
                rcode += (ttl >> 24) << 4
    except (struct.error, IndexError):
        pass  # a malformed tail still leaves the header facts Wireshark shows
    return DnsMessage(ident, bool(flags & 0x8000), rcode, qname, qtype, an)


def _skip_name(data: bytes, pos: int) -> int:
    while True:
        length = data[pos]
        if length >= 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += length + 1


def _name(data: bytes, pos: int) -> tuple[str, int]:
    labels: list[str] = []
    end = -1
    hops = 0
    while hops < 64:
        length = data[pos]
        if length >= 0xC0:
            if end < 0:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | data[pos + 1]
            hops += 1
            continue
        if length == 0:
            break
        labels.append(data[pos + 1 : pos + 1 + length].decode("ascii", "replace"))
        pos += length + 1
    return ".".join(labels), end if end >= 0 else pos + 1


@dataclass(slots=True)
class Transaction:
    """One DNS question and what became of it."""

    ident: int
    qname: str
    qtype: int
    query_frame: int
    query_ts: float
    client: str
    server: str
    flow: object = None
    response_frame: int = 0
    rcode: int | None = None
    rtt: float | None = None
    frames: list[int] = field(default_factory=list)


class DnsTracker:
    """Pairs queries and responses per conversation and keeps the counts Wireshark's filters give."""

    def __init__(self) -> None:
        self._latest: dict[tuple[object, int], Transaction] = {}
        self.transactions: list[Transaction] = []
        self.query_frames: list[Transaction] = []  # one entry per query frame
        self.responses = 0
        self.rcode_errors: dict[int, int] = {}
        self.error_frames: list[int] = []
        self.time_max: float | None = None
        self.unmatched_responses = 0

    def message(
        self, conv: object, msg: DnsMessage, num: int, ts: float, src: str, dst: str, in_error: bool
    ) -> None:
        """Account one DNS message seen in frame ``num``."""
        if msg.response:
            self.responses += 1
            if msg.rcode:
                self.rcode_errors[msg.rcode] = self.rcode_errors.get(msg.rcode, 0) + 1
                self.error_frames.append(num)
            if in_error:
                return
            trans = self._latest.get((conv, msg.ident))
            if trans is None:
                self.unmatched_responses += 1
                return
            if trans.response_frame:
                return  # a second answer: Wireshark times only the first
            rtt = ts - trans.query_ts
            if self.time_max is None or rtt > self.time_max:
                self.time_max = rtt
            trans.response_frame = num
            trans.rcode = msg.rcode
            trans.rtt = rtt
            return
        if in_error:  # a query quoted by an ICMP error never gets a response_in
            self.query_frames.append(
                Transaction(msg.ident, msg.qname, msg.qtype, num, ts, src, dst, conv)
            )
            return
        key = (conv, msg.ident)
        trans = self._latest.get(key)
        if (
            trans is None
            or trans.response_frame
            or (trans.qname, trans.qtype)
            != (
                msg.qname,
                msg.qtype,
            )
        ):
            trans = Transaction(msg.ident, msg.qname, msg.qtype, num, ts, src, dst, conv)
            self._latest[key] = trans
            self.transactions.append(trans)
        trans.frames.append(num)
        self.query_frames.append(trans)

    @property
    def unanswered(self) -> int:
        """Query frames whose transaction never saw a response (``!dns.response_in``)."""
        return sum(1 for t in self.query_frames if not t.response_frame)


class DnsOverTcp:
    """One direction of DNS over TCP: two-byte length framing across segments."""

    __slots__ = ("buf", "messages")

    def __init__(self) -> None:
        self.buf = b""
        self.messages: list[tuple[int, float, DnsMessage]] = []

    def data(self, payload: bytes, num: int, ts: float) -> None:
        self.buf += payload
        while len(self.buf) >= 2:
            size = (self.buf[0] << 8) | self.buf[1]
            if len(self.buf) < 2 + size:
                return
            msg = parse_message(self.buf[2 : 2 + size])
            self.buf = self.buf[2 + size :]
            if msg is not None:
                self.messages.append((num, ts, msg))

    def gap(self) -> None:
        self.buf = b""

    def fin(self, num: int, ts: float) -> None:
        """Nothing to finish: a DNS message is complete only when its length is."""
