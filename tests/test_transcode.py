"""UTF-16 text (Windows logs with a byte-order mark) is read as UTF-8, in any chunking, and a
bundle's UTF-16 log is parsed like any text log, whole, with its own line numbers."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from hypothesis import example, given
from hypothesis import strategies as st

from casework.pipeline import Options, investigate
from casework.transcode import utf8


@given(st.text(max_size=300), st.sampled_from(["utf-16-le", "utf-16-be"]), st.integers(1, 9))
@example("é" * 70_000, "utf-16-le", 4096)  # past one decoding chunk
def test_utf16_with_a_mark_reads_as_utf8(text: str, codec: str, size: int) -> None:
    raw = "\ufeff".encode(codec) + text.encode(codec)
    stream = utf8(io.BufferedReader(io.BytesIO(raw)))
    chunks = iter(lambda: stream.read(size), b"")
    assert b"".join(chunks) == text.encode("utf-8")


def test_other_bytes_pass_untouched_and_broken_utf16_is_marked_not_dropped() -> None:
    plain = io.BufferedReader(io.BytesIO(b"\xff\xd8 a jpeg, say"))
    assert utf8(plain) is plain and plain.read() == b"\xff\xd8 a jpeg, say"
    odd = "\ufeffok".encode("utf-16-le") + b"\x41"  # a byte short of a code unit
    assert utf8(io.BufferedReader(io.BytesIO(odd))).read() == "ok\ufffd".encode()


def test_utf16_logs_are_read_whole_with_their_line_numbers(tmp_path: Path) -> None:
    start = datetime(2026, 11, 26, 8, 0, 0)
    lines = [
        f"{start + timedelta(seconds=3 * i):%Y-%m-%d %H:%M:%S}, Info                  CBS"
        f"    Loaded Servicing Stack v10.0.{19041 + i % 7} with Core: C:\\Windows\\winsxs"
        for i in range(6000)
    ]
    lines[4321] = lines[4321].replace("Info ", "Error").replace("Loaded", "Failed to load")
    records = [
        json.dumps({"TimeCreated": f"{start + timedelta(seconds=i):%Y-%m-%dT%H:%M:%S}Z",
                    "LevelDisplayName": "Error" if i == 2718 else "Information",
                    "Message": f"Service Control Manager: state change {i}"})
        for i in range(6000)
    ]  # fmt: skip
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    le, be = "\ufeff".encode("utf-16-le"), "\ufeff".encode("utf-16-be")
    (bundle / "CBS.log").write_bytes(le + "\r\n".join(lines).encode("utf-16-le"))
    # PowerShell 5's Out-File writes UTF-16 too (big-endian here, for the other mark).
    (bundle / "events.jsonl").write_bytes(be + "\n".join(records).encode("utf-16-be"))
    # Parts of 64 KiB would cut plain files of these sizes in ten; UTF-16 files stay whole.
    investigate(bundle, tmp_path / "case", Options(chunk_bytes=64 * 1024))
    con = duckdb.connect(str(tmp_path / "case" / "case.duckdb"), read_only=True)
    files = con.execute("SELECT path, status, records FROM files ORDER BY path").fetchall()
    marked = con.execute(
        "SELECT file, line FROM events WHERE message LIKE '%Failed to load%' OR level = 'ERROR'"
        " ORDER BY file"
    ).fetchall()
    con.close()
    assert files == [("CBS.log", "parsed", len(lines)), ("events.jsonl", "parsed", len(records))]
    assert marked == [("CBS.log", 4322), ("events.jsonl", 2719)]
