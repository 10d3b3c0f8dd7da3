"""Builders for realistic network evidence in tests: libpcap files with real TCP sequence arithmetic, DNS and TLS messages, HARs.

Also ``load_case``: parse files with the real format modules, store them the way
the ingest step does (through the redactor), and open the case for analyzers.
"""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path
from typing import Any

from casework.case import Case
from casework.formats import har as har_format
from casework.formats import pcap as pcap_format
from casework.formats.base import ParseContext
from casework.model import FlowRecord, RequestRecord
from casework.net.sink import flow
from casework.redact import Redactor
from casework.store import Store

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
_MAC = b"\x00\x16\x3e\x11\x22\x33\x00\x16\x3e\x44\x55\x66"


def _checksum_free_ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int) -> bytes:
    head = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0,
        bytes(int(x) for x in src.split(".")), bytes(int(x) for x in dst.split(".")),
    )  # fmt: skip
    return head + payload


class PcapWriter:
    """Frames with Ethernet/IPv4 framing, written as a classic microsecond libpcap file."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, bytes]] = []
        self._ident = 1

    def ip(self, ts: float, src: str, dst: str, proto: int, payload: bytes) -> None:
        self._ident += 1
        frame = _MAC + b"\x08\x00" + _checksum_free_ipv4(src, dst, proto, payload, self._ident)
        self.frames.append((ts, frame))

    def udp(self, ts: float, src: str, sport: int, dst: str, dport: int, data: bytes) -> None:
        self.ip(ts, src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data)

    def write(self, path: Path) -> Path:
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
        for ts, frame in sorted(self.frames, key=lambda f: f[0]):
            sec = int(ts)
            out.append(struct.pack("<IIII", sec, round((ts - sec) * 1e6), len(frame), len(frame)))
            out.append(frame)
        path.write_bytes(b"".join(out))
        return path


class TcpConn:
    """One TCP connection: keeps both sides' sequence numbers so every segment is consistent."""

    def __init__(self, w: PcapWriter, client: str, cport: int, server: str, sport: int,
                 rng: random.Random) -> None:  # fmt: skip
        self.w, self.c, self.cp, self.s, self.sp = w, client, cport, server, sport
        self.cseq = rng.randrange(1 << 32)
        self.sseq = rng.randrange(1 << 32)

    def seg(self, ts: float, from_client: bool, flags: int, data: bytes = b"",
            win: int = 64240, seq: int | None = None, ack: int | None = None) -> None:  # fmt: skip
        if from_client:
            src, sp, dst, dp, s, a = self.c, self.cp, self.s, self.sp, self.cseq, self.sseq
        else:
            src, sp, dst, dp, s, a = self.s, self.sp, self.c, self.cp, self.sseq, self.cseq
        if seq is not None:
            s = seq
        if ack is not None:
            a = ack
        tcp = struct.pack("!HHIIBBHHH", sp, dp, s & 0xFFFFFFFF, a & 0xFFFFFFFF if flags & ACK else 0,
                          5 << 4, flags, win, 0, 0) + data  # fmt: skip
        self.w.ip(ts, src, dst, 6, tcp)
        if seq is None:
            advance = len(data) + (1 if flags & (SYN | FIN) else 0)
            if from_client:
                self.cseq = (self.cseq + advance) & 0xFFFFFFFF
            else:
                self.sseq = (self.sseq + advance) & 0xFFFFFFFF

    def handshake(self, ts: float, rtt: float = 0.02) -> float:
        self.seg(ts, True, SYN)
        self.seg(ts + rtt, False, SYN | ACK)
        self.seg(ts + rtt + 0.0002, True, ACK)
        return ts + rtt + 0.0002

    def exchange(self, ts: float, request: bytes, response: bytes, server_time: float) -> float:
        self.seg(ts, True, PSH | ACK, request)
        self.seg(ts + 0.001, False, ACK)
        t = ts + server_time
        for i in range(0, len(response), 1448):
            self.seg(t, False, PSH | ACK, response[i : i + 1448])
            t += 0.0001
        self.seg(t + 0.001, True, ACK)
        return t + 0.001


def dns_message(ident: int, name: str, response: bool = False, rcode: int = 0,
                answer: bytes | None = None) -> bytes:  # fmt: skip
    flags = (0x8180 if response else 0x0100) | rcode
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    body = qname + struct.pack("!HH", 1, 1)
    an = 0
    if response and rcode == 0 and answer:
        body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + answer
        an = 1
    return struct.pack("!HHHHHH", ident, flags, 1, an, 0, 0) + body


def tls_client_hello(sni: str, versions: tuple[int, ...], legacy: int = 0x0303) -> bytes:
    """A ClientHello record with SNI and supported_versions."""
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    sv = struct.pack("!B", 2 * len(versions)) + b"".join(struct.pack("!H", v) for v in versions)
    sv_ext = struct.pack("!HH", 43, len(sv)) + sv
    exts = sni_ext + sv_ext
    body = (struct.pack("!H", legacy) + bytes(32) + b"\x00" + struct.pack("!H", 2) + b"\x13\x01"
            + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)  # fmt: skip
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 22, 0x0301, len(hs)) + hs


def tls_alert(level: int, description: int, version: int = 0x0303) -> bytes:
    return struct.pack("!BHHBB", 21, version, 2, level, description)


def har_entry(started: str, method: str, url: str, status: int, *, time: float = 50.0,
              req_headers: dict[str, str] | None = None, resp_headers: dict[str, str] | None = None,
              post: str | None = None, body: str | None = None, redirect: str = "",
              timings: dict[str, float] | None = None) -> dict[str, Any]:  # fmt: skip
    """One HAR 1.2 entry as Chrome writes it."""

    def headers(h: dict[str, str] | None) -> list[dict[str, str]]:
        return [{"name": k, "value": v} for k, v in (h or {}).items()]

    request: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/1.1",
                               "headers": headers(req_headers), "queryString": [], "cookies": [],
                               "headersSize": -1, "bodySize": len(post or "")}  # fmt: skip
    if post is not None:
        request["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": post}
    return {
        "startedDateTime": started, "time": time, "request": request,
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1",
                     "headers": headers(resp_headers), "cookies": [],
                     "content": {"size": len(body or ""), "mimeType": "application/json",
                                 **({"text": body} if body is not None else {})},
                     "redirectURL": redirect, "headersSize": -1, "bodySize": len(body or "")},
        "cache": {},
        "timings": timings or {"blocked": 1, "dns": -1, "connect": -1, "ssl": -1, "send": 0.2,
                               "wait": time - 2, "receive": 0.8},
    }  # fmt: skip


def write_har(path: Path, entries: list[dict[str, Any]], bom: bool = False) -> Path:
    doc = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                   "pages": [], "entries": entries}}  # fmt: skip
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + json.dumps(doc).encode())
    return path


def load_case(tmp: Path, files: list[Path]) -> Case:
    """Parse, redact and store ``files`` as the ingest step does, then open the case read-only."""
    db = tmp / "case.duckdb"
    store = Store(db)
    r = Redactor(b"test-case-key-0123456789abcdef!!")
    for path in files:
        fmt = pcap_format if pcap_format.sniff(path.read_bytes()[:16]) else har_format
        with path.open("rb") as stream:
            for rec in fmt.parse(stream, ParseContext(path.name)):
                if isinstance(rec, FlowRecord):
                    flow(store, r, rec, path.name)
                elif isinstance(rec, RequestRecord):
                    store.add("requests", (
                        rec.ts, "capture", path.name, rec.line, rec.method,
                        r.text(rec.host) if rec.host else None,
                        r.text(rec.route) if rec.route else None,
                        r.url(rec.url) if rec.url else None, rec.status, rec.duration_ms,
                        rec.bytes, r.text(rec.client) if rec.client else None, r.json(rec.attrs),
                    ))  # fmt: skip
    store.close()
    return Case.open(str(db))
