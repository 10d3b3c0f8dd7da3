"""Wireshark's TCP analysis rules on hand-built streams (the quirks that decide its counts)."""

from __future__ import annotations

import random
from pathlib import Path

from casework.net.inspect import inspect_file
from netgen import ACK, PSH, SYN, PcapWriter, TcpConn

T0 = 1_700_000_000.0


def _conn(seed: int = 1) -> tuple[PcapWriter, TcpConn, float]:
    w = PcapWriter()
    conn = TcpConn(w, "10.0.0.1", 40000, "10.0.0.2", 80, random.Random(seed))
    return w, conn, conn.handshake(T0)


def test_three_dup_acks_then_fast_retransmission(tmp_path: Path) -> None:
    w, c, t = _conn()
    hole = c.sseq
    c.sseq = hole + 1000  # the first segment was lost before the capture point
    for i in range(3):
        c.seg(t + 0.010 + i * 0.001, False, ACK, b"b" * 1000)
        c.seg(t + 0.0105 + i * 0.001, True, ACK, ack=hole)  # the receiver still wants `hole`
    c.seg(t + 0.014, False, ACK | PSH, b"a" * 1000, seq=hole)
    counts = inspect_file(w.write(tmp_path / "f.pcap"))["counts"]
    assert counts["tcp_lost_segment"] == 1
    assert counts["tcp_dup_ack"] == 3
    assert counts["tcp_fast_retrans"] == 1 and counts["tcp_retrans"] == 1


def test_syn_retransmissions_and_no_synack(tmp_path: Path) -> None:
    w = PcapWriter()
    c = TcpConn(w, "10.0.0.1", 40001, "10.0.0.9", 443, random.Random(2))
    isn = c.cseq
    for delay in (0, 1, 3):
        c.seg(T0 + delay, True, SYN, seq=isn)
    counts = inspect_file(w.write(tmp_path / "s.pcap"))["counts"]
    assert counts["tcp_syn_no_synack"] == 3 and counts["tcp_retrans"] == 2


def test_zero_window_and_keep_alive(tmp_path: Path) -> None:
    w, c, t = _conn(3)
    c.seg(t + 0.01, False, ACK | PSH, b"x" * 500)
    c.seg(t + 0.02, True, ACK, win=0)  # receiver full
    c.seg(t + 5, False, ACK, seq=c.sseq - 1)  # keep-alive: one byte before next
    c.seg(t + 5.01, True, ACK, win=0)
    counts = inspect_file(w.write(tmp_path / "z.pcap"))["counts"]
    assert counts["tcp_zero_window"] == 2 and counts["tcp_keep_alive"] == 1


def test_acked_unseen_reported_once_per_hole(tmp_path: Path) -> None:
    # Wireshark 4.0 reports an ACK beyond all data seen once, then stays quiet until
    # the sender acks anew or a segment after a gap shows up.
    w, c, t = _conn(4)
    c.seg(t + 0.01, True, ACK | PSH, b"q" * 100)
    base = c.cseq
    c.cseq = base + 100
    c.seg(t + 0.02, False, ACK)  # acks 100 bytes never captured
    c.cseq = base + 200
    c.seg(t + 0.03, False, ACK)  # acks further: not reported again
    counts = inspect_file(w.write(tmp_path / "a.pcap"))["counts"]
    assert counts["tcp_ack_unseen"] == 1


def _download(tmp_path: Path, refill: str) -> dict[str, object]:
    """A 4 kB response whose second segment is lost, then resent fast, late (RTO) or never."""
    w, c, t = _conn(5)
    c.seg(t + 0.01, True, ACK | PSH, b"GET /f HTTP/1.1\r\nHost: h\r\n\r\n")
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n" + b"z" * 4000
    pieces = [response[i : i + 1000] for i in range(len(response))[::1000]]
    offsets = [c.sseq + i * 1000 for i in range(len(pieces))]
    now = t + 0.05
    for i, piece in enumerate(pieces):
        if i != 1:
            c.seg(now, False, ACK, piece, seq=offsets[i])
            if refill == "fast":
                c.seg(now + 0.0001, True, ACK, ack=offsets[1])  # the receiver asks for the hole
            now += 0.001
    if refill == "fast":
        c.seg(now + 0.001, False, ACK, pieces[1], seq=offsets[1])
    elif refill == "rto":
        c.seg(now + 0.3, False, ACK, pieces[1], seq=offsets[1])
    result = inspect_file(w.write(tmp_path / f"d{refill}.pcap"))
    return {"resp": result["counts"]["http_resp"], "fast": result["counts"]["tcp_fast_retrans"]}


def test_only_a_fast_retransmission_completes_a_response_with_a_hole(tmp_path: Path) -> None:
    # tshark 4.0 reassembles fast retransmissions into the HTTP PDU, but not RTO ones.
    assert _download(tmp_path, "fast") == {"resp": 1, "fast": 1}
    assert _download(tmp_path, "rto")["resp"] == 0
    assert _download(tmp_path, "never")["resp"] == 0
