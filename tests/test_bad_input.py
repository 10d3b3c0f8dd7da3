"""Bad evidence never crashes an investigation and never hides the good evidence beside it."""

from __future__ import annotations

import gzip
import random
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.inventory import FileEntry
from casework.pipeline import Options, investigate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

GOOD_LINES = [
    f'{{"time":"2026-03-01T10:{i % 60:02d}:00Z","severity":"ERROR","message":"payment {i} declined",'
    f'"merchant":{{"id":"m-{i % 7}"}}}}'
    for i in range(200)
]
GOOD = ("\n".join(GOOD_LINES) + "\n").encode()


def run(tmp_path: Path, files: dict[str, bytes]) -> dict[str, FileEntry]:
    bundle = tmp_path / "bundle"
    bundle.mkdir(exist_ok=True)
    for name, data in files.items():
        target = bundle / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    result = investigate(bundle, tmp_path / "out")
    return {e.path: e for e in result.inventory}


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


def test_each_bad_input_is_inventoried_with_a_reason_and_the_rest_analyzed(tmp_path: Path) -> None:
    files = {
        "good/app.jsonl": GOOD,
        "empty.log": b"",
        "junk.log": random.Random(1).randbytes(20_000),
        "truncated.log.1.gz": gz(GOOD * 20)[:700],
        "invalid.json": b'{"resourceSpans": [ {"scopeSpans": [',
        "unknown.txt": b"\n".join(b"%d;%d;%d" % (i, i * 3, i * 7) for i in range(100)),
        # a query beside its plan, as customers send it (a real one, comment first)
        "slow.sql": (
            SHARED / "plans" / "pev2_samples" / "03_three_joins_missing_an_index.sql"
        ).read_bytes(),
    }
    inv = run(tmp_path, files)
    assert inv["good/app.jsonl"].status == "parsed"
    assert inv["good/app.jsonl"].records == 200
    assert inv["empty.log"].status == "skipped" and inv["empty.log"].reason == "empty file"
    assert inv["junk.log"].status == "skipped" and "binary" in inv["junk.log"].reason
    truncated = inv["truncated.log.1.gz"]
    assert truncated.status in {"partial", "skipped"}
    assert "truncated or corrupt" in truncated.reason
    for name in ("invalid.json", "unknown.txt"):
        assert inv[name].status in {"skipped", "partial"}, name
        assert inv[name].reason, name
    # What to send instead: a query is not a plan.
    assert inv["slow.sql"].status == "skipped" and "EXPLAIN (ANALYZE" in inv["slow.sql"].reason
    assert "SQL" not in inv["unknown.txt"].reason
    assert (tmp_path / "out" / "findings.json").is_file()


def test_a_huge_single_line_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    # A 64 MiB line stands in for the 2 GB one: the reader cuts at 1 MiB and skips the rest
    # in bounded reads, so memory does not depend on the line's length.
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    with (bundle / "one-line.log").open("wb") as fh:
        fh.write(b"2026-03-01T10:00:00Z INFO start " + b"x" * (64 << 20) + b"\n")
        fh.write(b"2026-03-01T10:00:01Z INFO next line\n")
    (bundle / "app.jsonl").write_bytes(GOOD)
    tracemalloc.start()
    result = investigate(
        bundle, tmp_path / "out", Options(workers=1)
    )  # in-process, so it is measured
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    entries = {e.path: e for e in result.inventory}
    assert entries["app.jsonl"].status == "parsed"
    assert entries["one-line.log"].status != "skipped" or entries["one-line.log"].reason
    assert peak < 24 << 20, f"peak {peak / 2**20:.1f} MiB"


def _real_samples() -> list[bytes]:
    samples: list[bytes] = []
    for pattern in (
        "loghub2k/*/*_2k.log",
        "har/*.har",
        "pcap/*.pcap*",
        "traces/*/*.json",
        "plans/*/*",
    ):
        for path in sorted(SHARED.glob(pattern))[:6]:
            if path.is_file():
                samples.append(path.read_bytes()[:40_000])
    return samples


REAL = _real_samples()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["random", "truncate", "bitflip", "splice"]))
    if kind == "random" or not REAL:
        return draw(st.binary(min_size=0, max_size=4000))
    base = REAL[draw(st.integers(0, len(REAL) - 1))]
    if kind == "truncate":
        return base[: draw(st.integers(0, len(base)))]
    if kind == "bitflip":
        data = bytearray(base)
        for _ in range(draw(st.integers(1, 50))):
            i = draw(st.integers(0, max(len(data) - 1, 0)))
            if data:
                data[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    other = REAL[draw(st.integers(0, len(REAL) - 1))]
    cut_a = draw(st.integers(0, len(base)))
    cut_b = draw(st.integers(0, len(other)))
    return base[:cut_a] + other[cut_b:]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=mutated(),
    name=st.sampled_from(["a.log", "b.json", "c.har", "d.pcap", "e.log.gz", "f.txt"]),
)
def test_mutated_and_random_files_never_escape_the_run_engine(
    tmp_path: Path, data: bytes, name: str
) -> None:
    out = tmp_path / "case"
    bundle = tmp_path / "fuzz"
    bundle.mkdir(exist_ok=True)
    for old in bundle.iterdir():
        old.unlink()
    (bundle / name).write_bytes(data)
    (bundle / "good.jsonl").write_bytes(GOOD)
    result = investigate(bundle, out)
    entries = {e.path: e for e in result.inventory}
    assert entries["good.jsonl"].records == 200
    bad = entries[name]
    assert bad.status in {"parsed", "partial", "skipped"}
    if bad.status != "parsed":
        assert bad.reason
