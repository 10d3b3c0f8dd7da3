"""Damaged evidence never crashes: cut and bit-flipped captures are counted and reported; HAR quirks are read."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from casework.formats import har as har_format
from casework.formats import pcap as pcap_format
from casework.formats.base import ParseContext
from casework.model import FlowRecord, RequestRecord
from casework.net.capture import Capture
from casework.net.facts import conversations, counts, timing
from casework.net.pcap_reader import ReadStats, read_frames
from casework.net.records import flow_records, request_records
from netgen import har_entry, write_har

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
CAPTURES = sorted(p for p in (DATA / "pcap").iterdir() if p.suffix in (".pcap", ".pcapng"))


def _analyze(data: bytes) -> tuple[ReadStats, Capture]:
    stats = ReadStats()
    cap = Capture().run(read_frames(io.BytesIO(data), stats))
    counts(cap, stats), timing(cap), conversations(cap)
    list(flow_records(cap)), list(request_records(cap))
    return stats, cap


@pytest.mark.parametrize("seed", range(4))
def test_cut_captures_report_truncation(seed: int) -> None:
    rng = random.Random(seed)
    for path in CAPTURES:
        data = path.read_bytes()
        whole, _ = _analyze(data)
        cut = rng.randrange(40, len(data) - 1) if len(data) > 41 else len(data) - 1
        stats, cap = _analyze(data[:cut])
        assert stats.truncated or stats.frames < whole.frames or cut >= len(data)
        assert cap.frames <= whole.frames


def test_bit_flips_never_raise() -> None:
    rng = random.Random(11)
    damaged = 0
    for _ in range(400):
        data = bytearray(rng.choice(CAPTURES).read_bytes())
        for _ in range(rng.randint(1, 40)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        stats, cap = _analyze(bytes(data))
        damaged += bool(stats.bad_records or stats.problems or cap.malformed or stats.truncated)
    assert damaged > 0  # some damage is detected and reported, none raised


def test_pcap_format_reports_damage_to_the_inventory() -> None:
    data = (DATA / "pcap" / "zeek__wikipedia.pcap").read_bytes()
    ctx = ParseContext("cut.pcap")
    records = list(pcap_format.parse(io.BytesIO(data[: len(data) // 2]), ctx))
    assert any(isinstance(r, FlowRecord) for r in records)
    assert any("cut short" in note for note in ctx.notes)


def test_not_a_capture_is_a_bad_record() -> None:
    ctx = ParseContext("x.pcap")
    assert list(pcap_format.parse(io.BytesIO(b"\xd4\xc3\xb2\xa1" + b"\x00" * 5), ctx)) == []
    assert ctx.bad_records + len(ctx.notes) >= 1


def test_har_quirks(tmp_path: Path) -> None:
    firefox_style = har_entry(
        "2026-01-01T10:00:00.000+01:00", "GET", "https://a.example.com/x", 200, time=300,
        timings={"blocked": -1, "dns": 10, "connect": 40, "ssl": 60, "send": 1, "wait": 180,
                 "receive": 9},
    )  # fmt: skip
    chrome_style = har_entry(
        "2026-01-01T10:00:01.000Z", "GET", "https://a.example.com/y", 0, time=5,
        timings={"blocked": 1, "dns": -1, "connect": 70, "ssl": 50, "send": 0, "wait": 0,
                 "receive": 0},
    )  # fmt: skip
    chrome_style["response"]["_error"] = "net::ERR_CONNECTION_RESET"
    del chrome_style["cache"]
    broken: dict[str, object] = {"startedDateTime": "not a date", "request": "nonsense"}
    path = write_har(tmp_path / "quirks.har", [firefox_style, chrome_style, broken], bom=True)
    ctx = ParseContext(path.name)
    with path.open("rb") as stream:
        records = [r for r in har_format.parse(stream, ctx) if isinstance(r, RequestRecord)]
    assert len(records) == 3 and ctx.bad_records == 0
    first, second, third = records
    assert first.ts is not None and first.ts.hour == 9  # +01:00 normalized to UTC
    assert "timings.blocked" not in first.attrs  # -1 means not applicable
    assert (
        first.attrs["timings.ssl_in_connect"] is False and first.attrs["timings.tcp_connect"] == 40
    )
    assert (
        second.attrs["timings.ssl_in_connect"] is True and second.attrs["timings.tcp_connect"] == 20
    )
    assert second.status == 0 and second.attrs["error"] == "net::ERR_CONNECTION_RESET"
    assert third.ts is None and third.method is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [(b"{", "invalid JSON"), (b'{"log": {"version": "1.2"}}', "no entries"), (b"[]", "no log")],
)
def test_invalid_har_is_reported(text: bytes, problem: str) -> None:
    ctx = ParseContext("bad.har")
    assert list(har_format.parse(io.BytesIO(text), ctx)) == []
    assert ctx.bad_records == 1 and problem in (ctx.first_problem or "")


def test_har_sniffer() -> None:
    assert har_format.sniff(b'\xef\xbb\xbf{\n  "log": {"version": "1.2", "creator": {}') > 0.9
    assert har_format.sniff(json.dumps({"logs": []}).encode()) == 0.0
    assert pcap_format.sniff(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a") == 1.0


def test_small_read_chunks_give_the_same_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    from casework.net import pcap_reader

    data = {p: p.read_bytes() for p in CAPTURES[:12]}
    expected = {p: list(read_frames(io.BytesIO(d), ReadStats())) for p, d in data.items()}
    monkeypatch.setattr(pcap_reader, "CHUNK", 97)  # records straddle every boundary
    for path, frames in expected.items():
        assert list(read_frames(io.BytesIO(data[path]), ReadStats())) == frames, path.name


def test_registered_formats_pick_captures_and_hars() -> None:
    from casework.formats import sniff

    for path, kind in (
        (DATA / "pcap" / "zeek__wikipedia.pcap", "pcap"),
        (DATA / "pcap" / "chrissanders__tcp_dupack.pcapng", "pcap"),
        (DATA / "har" / "mitmproxy__har_files_firefox.har", "har"),
    ):
        fmt, _ = sniff(path.read_bytes()[:65536])
        assert fmt is not None and fmt.kind == kind
