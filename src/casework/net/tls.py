"""TLS record-layer facts from one TCP direction: versions, SNI, alerts, and when encryption starts.

Records are framed across segments like Wireshark's reassembly does, and a
record belongs to the frame in which it completes. An alert is readable
(Wireshark's ``tls.alert_message``) only before its sender switched to
encrypted records: after a ChangeCipherSpec, or for TLS 1.3 after the
ServerHello (server) or the client's ChangeCipherSpec/Finished.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

TLS_PORTS = frozenset((443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 5223, 8883))

ALERT_NAMES = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}

VERSION_NAMES = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}


def version_name(version: int) -> str:
    """``TLS 1.2`` for 0x0303; TLS 1.3 drafts (0x7fNN) by draft number."""
    if version >> 8 == 0x7F:
        return f"TLS 1.3 draft {version & 0xFF}"
    return VERSION_NAMES.get(version, f"0x{version:04x}")


def looks_like_tls(payload: bytes) -> bool:
    """A handshake record header at the start of a payload (Wireshark's TLS heuristic)."""
    return (
        len(payload) >= 6
        and payload[0] == 22
        and payload[1] == 3
        and payload[2] <= 4
        and payload[5] in (1, 2)
    )


@dataclass(slots=True)
class Alert:
    """One alert record: where, from whom, and (when readable) its level and description."""

    frame: int
    ts: float
    side: int
    level: int | None
    description: int | None


@dataclass(slots=True)
class TlsSession:
    """Both directions of one TLS connection."""

    client_version: int | None = None
    offered: tuple[int, ...] = ()
    sni: str | None = None
    server_version: int | None = None
    client_hello_frame: int = 0
    server_hello_frame: int = 0
    client_side: int | None = None  # which side of the conversation sent the ClientHello
    alerts: list[Alert] = field(default_factory=list)
    alert_frames: set[int] = field(default_factory=set)


class TlsDirection:
    """One direction's record stream."""

    __slots__ = ("buf", "dead", "encrypted", "session", "side")

    def __init__(self, session: TlsSession, side: int) -> None:
        self.session = session
        self.side = side
        self.buf = b""
        self.encrypted = False
        self.dead = False

    def data(self, payload: bytes, num: int, ts: float) -> None:
        if self.dead:
            return
        self.buf += payload
        buf = self.buf
        pos = 0
        while len(buf) - pos >= 5:
            ctype, major = buf[pos], buf[pos + 1]
            length = (buf[pos + 3] << 8) | buf[pos + 4]
            if not 20 <= ctype <= 24 or major != 3 or length > 18432:
                self.dead = True  # not (or no longer) TLS framing: stop rather than guess
                self.buf = b""
                return
            if len(buf) - pos < 5 + length:
                break
            self._record(ctype, buf[pos + 5 : pos + 5 + length], num, ts)
            pos += 5 + length
        self.buf = buf[pos:]

    def gap(self) -> None:
        self.buf = b""
        self.dead = True

    def fin(self, num: int, ts: float) -> None:
        """A record cut by FIN never completes; nothing to report."""

    def _record(self, ctype: int, body: bytes, num: int, ts: float) -> None:
        session = self.session
        if ctype == 21:
            session.alert_frames.add(num)
            readable = not self.encrypted and len(body) >= 2
            session.alerts.append(
                Alert(
                    num,
                    ts,
                    self.side,
                    body[0] if readable else None,
                    body[1] if readable else None,
                )
            )
        elif ctype == 20:
            self.encrypted = True
        elif ctype == 22 and not self.encrypted and len(body) >= 4:
            self._handshake(body, num)

    def _handshake(self, body: bytes, num: int) -> None:
        kind = body[0]
        session = self.session
        try:
            if kind == 1 and not session.client_hello_frame:
                session.client_hello_frame = num
                session.client_side = self.side
                _client_hello(session, body[4:])
            elif kind == 2 and not session.server_hello_frame:
                session.server_hello_frame = num
                version = _server_hello(body[4:])
                session.server_version = version
                if version == 0x0304 or version >> 8 == 0x7F:
                    self.encrypted = True  # TLS 1.3 encrypts everything after the ServerHello
        except (struct.error, IndexError):
            pass  # a cut hello leaves what was read so far


def _extensions(body: bytes, pos: int) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    if pos + 2 > len(body):
        return out
    end = min(len(body), pos + 2 + struct.unpack_from("!H", body, pos)[0])
    pos += 2
    while pos + 4 <= end:
        etype, elen = struct.unpack_from("!HH", body, pos)
        out.append((etype, body[pos + 4 : pos + 4 + elen]))
        pos += 4 + elen
    return out


def _client_hello(session: TlsSession, body: bytes) -> None:
    session.client_version = struct.unpack_from("!H", body, 0)[0]
    pos = 34
    pos += 1 + body[pos]
    pos += 2 + struct.unpack_from("!H", body, pos)[0]
    pos += 1 + body[pos]
    for etype, ext in _extensions(body, pos):
        if etype == 0 and len(ext) > 5:
            size = struct.unpack_from("!H", ext, 3)[0]
            session.sni = ext[5 : 5 + size].decode("ascii", "replace")
        elif etype == 43 and ext:
            n = ext[0] // 2
            session.offered = struct.unpack_from(f"!{n}H", ext, 1)


def _server_hello(body: bytes) -> int:
    version: int = struct.unpack_from("!H", body, 0)[0]
    pos = 34
    pos += 1 + body[pos]
    pos += 3  # cipher suite and compression method
    for etype, ext in _extensions(body, pos):
        if etype == 43 and len(ext) >= 2:
            version = struct.unpack_from("!H", ext, 0)[0]
    return version
