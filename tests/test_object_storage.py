"""Bundles in object storage: a real S3 endpoint (moto's server) through s3fs, and fsspec's memory://."""

from __future__ import annotations

import gzip
import importlib
import io
import json
import logging
import os
import random
import socket
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from casework.bundle import Limits
from casework.bundle_remote import RemoteBundle
from casework.cli import main
from casework.errors import BundleError
from casework.pipeline import Options, Progress, investigate
from casework.redact import RedactionPolicy, Redactor
from casework.remote import StorageOptions, display, parse_storage_options
from casework.scan.plan import Settings, plan

CHUNK = 100_000  # small parts, so the large JSON-lines object is read in several ranged parts
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"  # moto accepts any secret; none may leak


def make_bundle(root: Path, seed: int = 7) -> None:
    """Two days of JSON logs (two gzip-rotated, one large plain), an access log and a zipped Java log."""
    rng = random.Random(seed)
    start = datetime(2026, 5, 4, tzinfo=UTC)
    incident = start + timedelta(days=1, hours=6)
    root.mkdir(parents=True)
    lines: list[str] = []
    access: list[str] = []
    t = start
    while t < start + timedelta(days=2):
        t += timedelta(seconds=rng.uniform(4, 20))
        route = rng.choice(["/api/cart", "/api/pay", "/api/search"])
        status = 503 if t >= incident and route == "/api/pay" and rng.random() < 0.7 else 200
        lines.append(json.dumps({
            "time": t.isoformat().replace("+00:00", "Z"), "level": "error" if status >= 500 else "info",
            "msg": f"payment {rng.getrandbits(20):x} failed: upstream timeout" if status >= 500 else f"served {route}",
            "route": route, "status": status, "took_ms": rng.randint(2, 400),
        }))  # fmt: skip
        access.append(f'10.0.{rng.randint(0, 9)}.{rng.randint(1, 250)} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] '
                      f'"POST {route} HTTP/1.1" {status} {rng.randint(100, 900)} "-" "app/2.1"')  # fmt: skip
    third = len(lines) // 3
    for n, part in ((2, lines[:third]), (1, lines[third : 2 * third])):
        (root / f"app.log.{n}.gz").write_bytes(gzip.compress(("\n".join(part) + "\n").encode()))
    (root / "app.log").write_text("\n".join(lines[2 * third :]) + "\n")
    (root / "nginx").mkdir()
    (root / "nginx" / "access.log").write_text("\n".join(access) + "\n")
    java = []
    for i in range(300):
        ts = start + timedelta(minutes=9 * i)
        java.append(f"{ts:%Y-%m-%d %H:%M:%S},{i:03d} INFO  [pool-1] c.e.Pay - batch {i} settled")
        if ts >= incident and i % 4 == 0:
            java += [f"{ts:%Y-%m-%d %H:%M:%S},{i:03d} ERROR [pool-1] c.e.Pay - settle failed",
                     "java.net.SocketTimeoutException: Read timed out", "\tat c.e.Pay.settle(Pay.java:88)"]  # fmt: skip
    with zipfile.ZipFile(root / "services.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("payments/server.log", "\n".join(java) + "\n")


def upload(fs: Any, local: Path, prefix: str) -> None:
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        fs.pipe(f"{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())


def snapshot(case: Path) -> dict[str, Any]:
    findings = json.loads((case / "findings.json").read_text())
    inventory = json.loads((case / "inventory.json").read_text())
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    events = con.execute("SELECT file, line, template_id, message FROM events ORDER BY file, line")
    rows = events.fetchall()
    con.close()
    files = [
        {k: v for k, v in f.items() if k not in ("seconds", "sha256")} for f in inventory["files"]
    ]
    return {
        "findings": findings["findings"],
        "window": findings["window"],
        "files": files,
        "events": rows,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[StorageOptions]:
    """A real S3 endpoint on localhost, and the storage options that reach it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield (
            ("client_kwargs", {"region_name": "eu-west-1"}),
            ("endpoint_url", f"http://127.0.0.1:{port}"),
            ("key", "AKIAEXAMPLE"),
            ("secret", SECRET),
        )
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("objstore") / "bundle"
    make_bundle(root)
    return root


@pytest.fixture(scope="module")
def bucket(s3: StorageOptions, local_bundle: Path) -> str:
    fs = fsspec.filesystem("s3", **dict(s3))
    fs.mkdir("evidence")
    upload(fs, local_bundle, "evidence/case-42")
    # The empty "folder" object a console creates: not evidence, not listed.
    fs.call_s3("put_object", Bucket="evidence", Key="case-42/nginx/", Body=b"")
    assert "evidence/case-42/nginx/" in fs.find("evidence/case-42", withdirs=False)
    return "s3://evidence/case-42/"


@pytest.fixture(scope="module")
def local_case(local_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("objstore-local") / "case"
    investigate(local_bundle, out, Options(workers=1, chunk_bytes=CHUNK))
    return out


def test_s3_prefix_gives_the_findings_of_the_local_folder(
    bucket: str, s3: StorageOptions, local_bundle: Path, local_case: Path, tmp_path: Path
) -> None:
    # Two worker processes, each opening the objects by URL.
    options = Options(workers=2, chunk_bytes=CHUNK, pool_min_bytes=0, storage=s3)
    remote = investigate(bucket, tmp_path / "case", options)
    a, b = snapshot(local_case), snapshot(tmp_path / "case")
    assert a["findings"] and a["findings"] == b["findings"]
    assert a["window"] == b["window"]
    assert a["files"] == b["files"]
    assert a["events"] == b["events"]
    # Split parts keep the object's real line numbers, as local files do.
    lines = [line for file, line, _t, _m in b["events"] if file == "app.log"]
    assert lines == list(range(1, len((local_bundle / "app.log").read_text().splitlines()) + 1))
    assert {e.path for e in remote.inventory} >= {"services.zip/payments/server.log"}
    assert "timeout" in remote.findings[0].title.lower() or "503" in remote.findings[0].title
    assert json.loads((tmp_path / "case" / "findings.json").read_text())["bundle"]["path"] == bucket


def test_large_objects_are_planned_as_ranged_parts_read_in_place(
    bucket: str, s3: StorageOptions, tmp_path: Path
) -> None:
    settings = Settings(b"k" * 32, RedactionPolicy(), "UTC", False, tmp_path / "parts", CHUNK)
    with RemoteBundle(bucket, tmp_path / "work", storage=s3) as bundle:
        members = list(bundle.members())
        scan_plan = plan(members, settings, Redactor(b"k" * 32, RedactionPolicy()))
        downloaded = sorted(p.name for p in (tmp_path / "work").rglob("*") if p.is_file())
    parts = [t for t in scan_plan.tasks if t.name == "app.log"]
    assert len(parts) > 1
    assert all(t.disk == "s3://evidence/case-42/app.log" for t in parts)
    assert [t.start for t in parts[1:]] == [t.end for t in parts[:-1]]
    assert parts[-1].end == parts[0].size
    # Only the archive was copied to the work dir; plain and .gz objects are read by URL.
    assert downloaded == ["archive.zip", "server.log"]
    gz = [t for t in scan_plan.tasks if t.name.endswith(".gz")]
    assert len(gz) == 2 and all(t.disk.startswith("s3://") and t.parts == 1 for t in gz)
    assert SECRET not in repr(scan_plan.tasks[0])


def test_dask_workers_open_the_urls_themselves(
    bucket: str, s3: StorageOptions, local_case: Path, tmp_path: Path
) -> None:
    options = Options(executor="dask", workers=2, chunk_bytes=CHUNK, storage=s3)
    investigate(bucket, tmp_path / "case", options)
    assert snapshot(tmp_path / "case") == snapshot(local_case)


def test_single_archive_object(s3: StorageOptions, local_bundle: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(p for p in local_bundle.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(local_bundle).as_posix())
    (tmp_path / "bundle.zip").write_bytes(buffer.getvalue())
    fs = fsspec.filesystem("s3", **dict(s3))
    fs.mkdir("single")
    fs.pipe("single/bundle.zip", buffer.getvalue())
    local = investigate(tmp_path / "bundle.zip", tmp_path / "a", Options(chunk_bytes=CHUNK))
    remote = investigate(
        "s3://single/bundle.zip", tmp_path / "b", Options(chunk_bytes=CHUNK, storage=s3)
    )
    assert [f.to_json() for f in remote.findings] == [f.to_json() for f in local.findings]
    assert [e.path for e in remote.inventory] == [e.path for e in local.inventory]


def test_corrupt_gz_object_is_reported_and_the_rest_analyzed(
    s3: StorageOptions, tmp_path: Path
) -> None:
    rng = random.Random(1)
    lines = [
        json.dumps({"time": f"2026-05-04T{m // 60 % 24:02d}:{m % 60:02d}:00Z", "level": "info",
                    "msg": f"tick {m}", "id": f"{rng.getrandbits(64):x}"}) + "\n"
        for m in range(4000)
    ]  # fmt: skip
    good = "".join(lines[:60]).encode()
    big = gzip.compress("".join(lines).encode())
    fs = fsspec.filesystem("s3", **dict(s3))
    fs.mkdir("broken")
    fs.pipe("broken/b/app.jsonl", good)
    fs.pipe("broken/b/old.jsonl.gz", big[: len(big) // 2])  # truncated mid-stream
    fs.pipe("broken/b/junk.log.gz", b"\x1f\x8b\x08\x00 not really gzip" * 8)
    fs.pipe("broken/b/gone.jsonl", good)
    fs.call_s3("put_object", Bucket="broken", Key="b/x/../escape.log", Body=good)

    class DeleteAfterPlanning(Progress):
        def start(self, total_bytes: int) -> None:
            fs.rm("broken/b/gone.jsonl")  # vanishes between listing and reading

    result = investigate(
        "s3://broken/b", tmp_path / "case", Options(storage=s3), progress=DeleteAfterPlanning()
    )
    entries = {e.path: e for e in result.inventory}
    assert entries["gone.jsonl"].status == "skipped"
    assert "FileNotFoundError" in entries["gone.jsonl"].reason
    assert (
        entries["x/../escape.log"].status == "skipped" and entries["x/../escape.log"].records == 0
    )
    assert "rejected" in entries["x/../escape.log"].reason
    assert entries["app.jsonl"].status == "parsed" and entries["app.jsonl"].records == 60
    assert entries["old.jsonl.gz"].status == "partial"
    assert "truncated or corrupt" in entries["old.jsonl.gz"].reason
    assert 0 < entries["old.jsonl.gz"].records < 4000
    assert entries["junk.log.gz"].status == "skipped"
    assert "corrupt" in entries["junk.log.gz"].reason


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["investigate", *args, "--quiet"])


def storage_args(s3: StorageOptions) -> list[str]:
    out = []
    for key, value in s3:
        out += [
            "--storage-option",
            f"{key}={json.dumps(value) if isinstance(value, dict) else value}",
        ]
    return out


def test_cli_reads_s3_and_no_secret_reaches_any_output(
    bucket: str, s3: StorageOptions, tmp_path: Path
) -> None:
    result = run_cli(bucket, "--out", str(tmp_path / "case"), *storage_args(s3))
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    for path in (tmp_path / "case").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path.name


def test_missing_bucket_exits_2_with_one_line(s3: StorageOptions, tmp_path: Path) -> None:
    result = run_cli("s3://no-such-bucket/x/", "--out", str(tmp_path / "o"), *storage_args(s3))
    assert result.exit_code == 2
    assert "Traceback" not in result.output and SECRET not in result.output
    assert "no such bucket" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_no_credentials_exits_2_with_one_line(
    s3: StorageOptions, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata wait
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    endpoint = dict(s3)["endpoint_url"]
    result = run_cli(
        "s3://evidence/case-42/", "--out", str(tmp_path / "o"),
        "--storage-option", f"endpoint_url={endpoint}",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no credentials found" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_credentials_in_the_url_are_never_printed(s3: StorageOptions, tmp_path: Path) -> None:
    url = "s3://admin:hunter2pass@no-such-bucket/x/?sig=abc123"
    result = run_cli(url, "--out", str(tmp_path / "o"), *storage_args(s3))
    assert result.exit_code == 2
    assert "s3://no-such-bucket/x/" in result.output
    assert "hunter2pass" not in result.output and "abc123" not in result.output
    assert display("s3://admin:hunter2pass@b/x?sig=abc123#f") == "s3://b/x"


def test_unknown_protocol_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("nosuchfs://bucket/x/", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "unknown storage protocol nosuchfs://" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # As if s3fs were not installed: the import fails and fsspec has no class cached for s3.
    monkeypatch.setitem(sys.modules, "s3fs", None)
    cached = importlib.import_module("fsspec.registry")._registry
    for protocol in ("s3", "s3a"):
        monkeypatch.delitem(cached, protocol, raising=False)
    result = run_cli("s3://bucket/x/", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "pip install 'casework[s3]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_storage_option_exits_2_without_echoing_it(tmp_path: Path) -> None:
    result = run_cli(
        "memory://b/x/", "--storage-option", f"novalue{SECRET}", "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 2
    assert SECRET not in result.output and "KEY=VALUE" in result.output


def test_storage_option_values_are_typed_and_credentials_stay_strings() -> None:
    given = [
        "anon=false",
        'client_kwargs={"region_name": "eu-west-1"}',
        "default_block_size=1048576",
    ]
    assert parse_storage_options([*given, "secret=123456", "token=007"]) == (
        ("anon", False),
        ("client_kwargs", {"region_name": "eu-west-1"}),
        ("default_block_size", 1048576),
        ("secret", "123456"),
        ("token", "007"),
    )


def test_memory_bundle_matches_local_and_rejects_unsafe_keys(
    local_bundle: Path, local_case: Path, tmp_path: Path
) -> None:
    fs = fsspec.filesystem("memory")
    upload(fs, local_bundle, "/mem-evidence/case")
    # Keys no local folder could hold: they are inventoried as rejected, never read.
    fs.pipe("/mem-evidence/case/x/../../escape.log", b"should not be read\n")
    fs.pipe("/mem-evidence/case/a//b.log", b"should not be read\n")
    try:
        # memory:// lives in this process, so the scan must run here too (workers=1).
        result = investigate(
            "memory://mem-evidence/case", tmp_path / "case", Options(workers=1, chunk_bytes=CHUNK)
        )
    finally:
        fs.rm("/mem-evidence", recursive=True)
    a, b = snapshot(local_case), snapshot(tmp_path / "case")
    assert a["findings"] == b["findings"] and a["events"] == b["events"]
    rejected = {e.path: e.reason for e in result.inventory if "rejected" in e.reason}
    assert set(rejected) == {"x/../../escape.log", "a//b.log"}
    assert {f["path"] for f in b["files"]} - set(rejected) == {f["path"] for f in a["files"]}


def test_memory_single_object_and_member_cap(local_bundle: Path, tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    upload(fs, local_bundle, "/mem-single")
    try:
        one = investigate("memory://mem-single/app.log.1.gz", tmp_path / "one", Options(workers=1))
        with pytest.raises(BundleError, match="more than 3 objects"):
            investigate(
                "memory://mem-single", tmp_path / "cap", Options(limits=Limits(max_members=3))
            )
    finally:
        fs.rm("/mem-single", recursive=True)
    assert [(e.path, e.status) for e in one.inventory] == [("app.log.1.gz", "parsed")]
    assert one.inventory[0].records > 0
