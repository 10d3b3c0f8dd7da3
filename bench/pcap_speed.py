"""Packets per CPU-second of casework's capture analysis, beside a plain dpkt decode loop and tshark's two-pass oracle run.

Generates a mostly-TCP capture (HTTP downloads over keep-alive connections
with delayed ACKs and a little loss, plus DNS) of ``--packets`` frames in a
temporary directory, then times each reader on the same file with
``time.process_time`` (tshark: the child's user+system CPU time).

    .venv/bin/python bench/pcap_speed.py [--packets 1000000] [--no-tshark]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import dpkt

from casework.net.capture import Capture
from casework.net.pcap_reader import ReadStats, read_frames

ORACLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench" / "tshark_oracle.sh"
MAC = b"\x00\x16\x3e\x11\x22\x33\x00\x16\x3e\x44\x55\x66\x08\x00"


def generate(path: Path, packets: int, seed: int = 1) -> int:
    """Write a capture of about ``packets`` frames; returns the exact count."""
    rng = random.Random(seed)
    ip_head = struct.Struct("!BBHHHBBH4s4s")
    tcp_head = struct.Struct("!HHIIBBHHH")
    rec = struct.Struct("<IIII")
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
    count = 0
    t = 1_767_225_600.0
    payload = bytes(1448)

    def frame(src: bytes, dst: bytes, sp: int, dp: int, seq: int, ack: int, flags: int,
              data: bytes = b"") -> None:  # fmt: skip
        nonlocal count, t
        t += 0.00002
        tcp = tcp_head.pack(sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0)
        ip = ip_head.pack(0x45, 0, 40 + len(data), count & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
        body = MAC + ip + tcp + data
        sec = int(t)
        out.append(rec.pack(sec, int((t - sec) * 1e6), len(body), len(body)))
        out.append(body)
        count += 1

    conn = 0
    while count < packets:
        conn += 1
        client = bytes((10, 1, conn >> 8 & 255, conn & 255))
        server = bytes((10, 2, 0, 1 + conn % 50))
        cp = 20000 + conn % 40000
        cs, ss = rng.randrange(1 << 32), rng.randrange(1 << 32)
        frame(client, server, cp, 80, cs, 0, 0x02)
        frame(server, client, 80, cp, ss, cs + 1, 0x12)
        cs += 1
        ss += 1
        frame(client, server, cp, 80, cs, ss, 0x10)
        for _ in range(rng.randint(1, 4)):  # keep-alive requests, each a download
            request = b"GET /file HTTP/1.1\r\nHost: s\r\n\r\n"
            frame(client, server, cp, 80, cs, ss, 0x18, request)
            cs += len(request)
            size = rng.randint(20, 400) * 1448
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
            body = head + payload[: 1448 - len(head)]
            frame(server, client, 80, cp, ss, cs, 0x10, body)
            ss += len(body)
            remaining = size - (len(body) - len(head))
            n = 0
            while remaining > 0:
                chunk = payload[: min(1448, remaining)]
                if rng.random() < 0.001:  # a loss: the receiver's dup ACKs, then the resend
                    lost = ss
                    ss += len(chunk)
                    for _ in range(3):
                        frame(server, client, 80, cp, ss, cs, 0x10, chunk)
                        ss += len(chunk)
                        frame(client, server, cp, 80, cs, lost, 0x10)
                    frame(server, client, 80, cp, lost, cs, 0x10, chunk)
                    remaining -= 4 * len(chunk)
                    frame(client, server, cp, 80, cs, ss, 0x10)
                    continue
                frame(server, client, 80, cp, ss, cs, 0x10, chunk)
                ss += len(chunk)
                remaining -= len(chunk)
                n += 1
                if n % 2 == 0:
                    frame(client, server, cp, 80, cs, ss, 0x10)
            frame(client, server, cp, 80, cs, ss, 0x10)
        frame(client, server, cp, 80, cs, ss, 0x11)
        frame(server, client, 80, cp, ss, cs + 1, 0x11)
        frame(client, server, cp, 80, cs + 1, ss + 1, 0x10)
    path.write_bytes(b"".join(out))
    return count


def casework_run(path: Path) -> float:
    started = time.process_time()
    with path.open("rb") as stream:
        Capture().run(read_frames(stream, ReadStats()))
    return time.process_time() - started


def dpkt_run(path: Path) -> float:
    """The plain dpkt loop: decode Ethernet/IP/TCP objects and touch the fields TCP analysis needs."""
    started = time.process_time()
    with path.open("rb") as stream:
        for _ts, buf in dpkt.pcap.Reader(stream):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            tcp = ip.data
            _ = (
                ip.src,
                ip.dst,
                tcp.sport,
                tcp.dport,
                tcp.seq,
                tcp.ack,
                tcp.flags,
                tcp.win,
                len(tcp.data),
            )
    return time.process_time() - started


def tshark_run(path: Path) -> float | None:
    if shutil.which("tshark") is None or not ORACLE.exists():
        return None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["bash", str(ORACLE), str(path)], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--no-tshark", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pcap"
        n = generate(path, args.packets)
        print(f"capture: {n} frames, {path.stat().st_size / 1e6:.0f} MB")
        rows: list[tuple[str, float | None]] = [
            ("casework", casework_run(path)),
            ("dpkt loop", dpkt_run(path)),
        ]
        if not args.no_tshark:
            rows.append(("tshark -2 (oracle)", tshark_run(path)))
        base = rows[0][1] or 1.0
        for name, cpu in rows:
            if cpu is None:
                print(f"{name:20s} not installed")
                continue
            print(f"{name:20s} {cpu:7.2f} CPU-s  {n / cpu / 1000:7.0f}k pkt/CPU-s"
                  f"  {cpu / base:5.2f}x casework's time")  # fmt: skip


if __name__ == "__main__":
    main()
