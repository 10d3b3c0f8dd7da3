"""Opening bundles: every container shape, and every unsafe or broken one."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from casework.bundle import Bundle, Limits, Member
from casework.errors import BundleError

LOG = b"2026-03-01T10:00:00Z INFO service started\n2026-03-01T10:00:01Z ERROR boom\n"


def members(path: Path, tmp_path: Path, limits: Limits | None = None) -> dict[str, Member]:
    with Bundle(path, tmp_path / "work", limits) as bundle:
        found = {m.name: m for m in bundle.members()}
        # Read while the work dir still exists.
        for m in found.values():
            if m.problem is None:
                with m.open() as fh:
                    object.__setattr__(m, "bytes", len(fh.read()))
        return found


def make_tree(root: Path) -> None:
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "app.log").write_bytes(LOG)
    with gzip.open(root / "logs" / "app.log.1.gz", "wb") as fh:
        fh.write(LOG * 3)
    (root / "case.md").write_text("Refunds fail since yesterday.\n")


def test_directory_members_are_sorted_and_gz_members_decompress(tmp_path: Path) -> None:
    make_tree(tmp_path / "b")
    found = members(tmp_path / "b", tmp_path)
    assert list(found) == ["case.md", "logs/app.log", "logs/app.log.1.gz"]
    assert found["logs/app.log.1.gz"].bytes == len(LOG) * 3


@pytest.mark.parametrize("suffix,mode", [
    (".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz"), (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz"),
])  # fmt: skip
def test_tar_variants(tmp_path: Path, suffix: str, mode: str) -> None:
    make_tree(tmp_path / "b")
    archive = tmp_path / f"bundle{suffix}"
    with tarfile.open(archive, mode) as tf:  # type: ignore[call-overload]
        tf.add(tmp_path / "b", arcname="b")
    found = members(archive, tmp_path)
    assert set(found) == {"b/case.md", "b/logs/app.log", "b/logs/app.log.1.gz"}
    assert all(m.problem is None for m in found.values())


def test_zip_with_nested_archive_one_level(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tf:
        info = tarfile.TarInfo("db/postgres.log")
        info.size = len(LOG)
        tf.addfile(info, io.BytesIO(LOG))
    deeper = io.BytesIO()
    with zipfile.ZipFile(deeper, "w") as zf:
        zf.writestr("x.log", LOG)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("api.log", LOG)
        zf.writestr("more/db.tar.gz", inner.getvalue())
        zf.writestr("more/deep.zip", _zip_with("level2.zip", deeper.getvalue()))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(outer.getvalue())
    found = members(archive, tmp_path)
    assert found["more/db.tar.gz/db/postgres.log"].problem is None
    assert found["more/db.tar.gz/db/postgres.log"].bytes == len(LOG)
    # An archive inside a nested archive is two levels deep: reported, not opened.
    assert "nested more than one level" in (found["more/deep.zip/level2.zip"].problem or "")


def _zip_with(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def test_single_gz_file(tmp_path: Path) -> None:
    path = tmp_path / "api.log.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(LOG)
    found = members(path, tmp_path)
    assert list(found) == ["api.log.gz"]
    assert found["api.log.gz"].bytes == len(LOG)


def test_zip_slip_and_absolute_paths_are_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.log", LOG)
        zf.writestr("../../escaped.log", LOG)
        zf.writestr("/etc/cron.d/evil", LOG)
    found = members(archive, tmp_path)
    assert found["ok.log"].problem is None
    assert "escapes the bundle" in (found["../../escaped.log"].problem or "")
    assert "escapes the bundle" in (found["/etc/cron.d/evil"].problem or "")
    assert not (tmp_path / "escaped.log").exists()
    assert not list(tmp_path.rglob("escaped.log"))


def test_tar_symlink_and_traversal_members_are_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tf:
        link = tarfile.TarInfo("passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
        evil = tarfile.TarInfo("../up.log")
        evil.size = len(LOG)
        tf.addfile(evil, io.BytesIO(LOG))
        good = tarfile.TarInfo("good.log")
        good.size = len(LOG)
        tf.addfile(good, io.BytesIO(LOG))
    found = members(archive, tmp_path)
    assert "link" in (found["passwd"].problem or "")
    assert "escapes" in (found["../up.log"].problem or "")
    assert found["good.log"].problem is None


def test_symlinks_in_a_directory_are_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path / "b")
    secret = tmp_path / "outside.txt"
    secret.write_text("not part of the bundle")
    os.symlink(secret, tmp_path / "b" / "link.log")
    found = members(tmp_path / "b", tmp_path)
    assert "symbolic link" in (found["link.log"].problem or "")


def test_zip_bomb_ratio_cap(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.log", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(BundleError, match="archive bomb"):
        members(archive, tmp_path, Limits(max_ratio=50))


def test_total_size_cap(tmp_path: Path) -> None:
    archive = tmp_path / "big.tar"
    with tarfile.open(archive, "w") as tf:
        for i in range(3):
            info = tarfile.TarInfo(f"f{i}.log")
            info.size = 4096
            tf.addfile(info, io.BytesIO(b"x" * 4096))
    with pytest.raises(BundleError, match="extracted size exceeds"):
        members(archive, tmp_path, Limits(max_total_bytes=10_000))


def test_corrupt_zip_member_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.log", LOG * 50)
        zf.writestr("b.log", LOG * 50)
    data = bytearray(archive.read_bytes())
    # Corrupt the compressed body of the first member (after its local header).
    for i in range(40, 80):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))
    found = members(archive, tmp_path)
    assert "corrupt member" in (found["a.log"].problem or "")
    assert found["b.log"].problem is None


def test_truncated_tar_gz_keeps_complete_members(tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for i in range(5):
            payload = os.urandom(30_000)
            info = tarfile.TarInfo(f"f{i}.bin")
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    found = members(archive, tmp_path)
    readable = [n for n, m in found.items() if m.problem is None]
    assert readable and len(readable) < 5
    assert any("truncated or corrupt" in (m.problem or "") for m in found.values())


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", b"\x1f\x8b\x08garbage"])
def test_unusable_input_raises_bundle_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / ("x.zip" if content.startswith(b"PK") or not content else "x.tar.gz")
    path.write_bytes(content)
    with pytest.raises(BundleError):
        members(path, tmp_path)


def test_missing_path_raises_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such file"):
        Bundle(tmp_path / "nope", tmp_path / "work")
