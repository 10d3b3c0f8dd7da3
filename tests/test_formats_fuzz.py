"""Property test: random bytes and mutated real logs never make a sniffer or parser raise."""

from __future__ import annotations

import io
from itertools import islice

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.formats import FORMATS, ParseContext, sniff
from casework.model import LogLines, fast_record
from formats_support import LOGS, SHARED

SEEDS = [p.read_bytes() for p in sorted(LOGS.iterdir())] + [
    p.read_bytes()[:4096] for p in sorted((SHARED / "data" / "loghub2k").glob("*/*_2k.log"))
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["truncate", "flip", "splice", "insert", "drop_newlines"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "truncate":
            del data[pos:]
        elif action == "flip":
            for _ in range(draw(st.integers(1, 16))):
                i = draw(st.integers(0, max(0, len(data) - 1)))
                if data:
                    data[i] ^= 1 << draw(st.integers(0, 7))
        elif action == "splice":
            other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other)))
            data[pos:pos] = other[start : start + draw(st.integers(0, 2048))]
        elif action == "insert":
            data[pos:pos] = draw(st.binary(max_size=256))
        else:
            data = bytearray(bytes(data).replace(b"\n", b" "))
    return bytes(data)


def _run_all(data: bytes) -> None:
    sniff(data)
    for fmt in FORMATS:
        fmt.sniff(data)
        ctx = ParseContext("fuzz.log", year=2026)
        parsed = list(islice(fmt.parse(io.BytesIO(data), ctx), 5000))
        if fmt.scan is not None:  # a fast path reads what the parser reads
            ctx = ParseContext("fuzz.log", year=2026)
            scanned = [
                fast_record(item) if isinstance(item, tuple) else item
                for batch in fmt.scan(io.BytesIO(data), ctx)
                for item in (batch.items if isinstance(batch, LogLines) else [batch])
            ]
            assert scanned[:5000] == parsed, fmt.kind


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_logs(data: bytes) -> None:
    _run_all(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _run_all(data)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_random_text(data: str) -> None:
    _run_all(data.encode("utf-8", "surrogatepass"))


LONG_LINES = [
    b'a="' * 100_000,
    b"2026-03-01 12:00:00 " + b"[" * 200_000,
    b"2026-03-01T12:00:00Z\tINFO\t" + b"\t{" * 100_000 + b"}",
    b'{"a":' * 100_000,
    b"1.2.3.4 - - [" + b" " * 300_000,
]


def test_long_pathological_lines_finish() -> None:
    mine = {"access-log", "w3c-log", "postgres-log", "syslog", "jsonl", "logfmt", "java-log",
            "releases", "description"}  # fmt: skip
    for data in LONG_LINES:
        for fmt in FORMATS:
            if fmt.kind in mine:
                fmt.sniff(data[:65536])
                ctx = ParseContext("long.log")
                assert sum(1 for _ in fmt.parse(io.BytesIO(data + b"\n" + data), ctx)) <= 2


def test_a_utf16_mark_before_bytes_that_are_not_utf16() -> None:
    """Found by the fuzz test on a fresh clone: a byte-order mark of UTF-16 before an access
    log's bytes raised UnicodeDecodeError out of the HAR reader."""
    line = b'192.168.1.20 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326\n'
    _run_all(b"\xfe\xff\xd8" + line[1:] * 3)
