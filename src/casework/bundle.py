"""Opening an evidence bundle safely: a directory, an archive, or a compressed file.

Archives are extracted into a private work directory with every member name
checked (no absolute paths, no ``..``, no links or devices), the total size
and the compression ratio capped against bombs, and archives nested one level
inside the bundle expanded the same way. A member that cannot be read is
reported as a :class:`Member` with a ``problem`` and the rest goes on.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, cast

from casework.errors import BundleError

_CORRUPT = (zipfile.BadZipFile, tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, OSError)
_COMPRESSED: dict[str, Callable[[Path], BinaryIO]] = {
    ".gz": lambda p: cast(BinaryIO, gzip.GzipFile(p, "rb")),
    ".bz2": lambda p: cast(BinaryIO, bz2.BZ2File(p, "rb")),
    ".xz": lambda p: cast(BinaryIO, lzma.LZMAFile(p, "rb")),  # noqa: SIM115
}
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps against archive bombs; all configurable."""

    max_total_bytes: int = 50 * 1024**3
    max_ratio: float = 200.0
    max_members: int = 100_000


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the bundle.

    ``name`` is its path inside the bundle (archive members of a nested archive
    are shown as ``inner.zip/path``); ``disk`` is where it lies on disk;
    ``problem`` says why it cannot be read, when it cannot.
    """

    name: str
    disk: Path | None
    bytes: int
    problem: str | None = None

    def open(self) -> BinaryIO:
        """A fresh binary stream of the member's content, decompressed if it is a ``.gz``/``.bz2``/``.xz`` file."""
        if self.disk is None:
            raise BundleError("member has no readable content", file=self.name)
        opener = _COMPRESSED.get(self.disk.suffix.lower())
        if opener is not None and not _is_archive(self.disk):
            return opener(self.disk)
        return self.disk.open("rb")


def _is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".zip") or name.endswith(_TAR_SUFFIXES)


class Bundle:
    """The members of an evidence bundle, extracted where needed into ``workdir``."""

    def __init__(self, path: Path, workdir: Path, limits: Limits | None = None) -> None:
        self.path = path
        self.workdir = workdir
        self.limits = limits or Limits()
        self._extracted = 0
        self._archives = 0
        self._pending: list[Member] = []
        if not path.exists():
            raise BundleError("no such file or directory; check the path", file=str(path))
        if path.is_symlink() and not path.resolve().exists():
            raise BundleError("is a broken symbolic link", file=str(path))
        if not (path.is_dir() or path.is_file()):
            raise BundleError("is neither a directory nor a file", file=str(path))
        if path.is_file() and _is_archive(path):
            self._check_archive(path)

    def members(self) -> Iterator[Member]:
        """Every file of the bundle in a stable order (sorted by name)."""
        if self.path.is_dir():
            yield from self._walk(self.path, prefix="", depth=0)
        elif _is_archive(self.path):
            target = self._unpack(self.path, "bundle")
            yield from self._walk(target, prefix="", depth=0)
            yield from self._drain()
        else:
            yield Member(self.path.name, self.path, self.path.stat().st_size)

    def _drain(self) -> Iterator[Member]:
        pending, self._pending = self._pending, []
        yield from pending

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_archive(self, path: Path) -> None:
        try:
            if path.name.lower().endswith(".zip"):
                with zipfile.ZipFile(path):
                    return
            with tarfile.open(path):
                return
        except _CORRUPT as exc:
            raise BundleError(
                f"is not a readable archive ({type(exc).__name__}); "
                "pass the folder or a .zip/.tar.gz of it",
                file=str(path),
            ) from None

    def _walk(self, root: Path, prefix: str, depth: int) -> Iterator[Member]:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            base = Path(dirpath)
            for d in list(dirnames):
                if (base / d).is_symlink():
                    dirnames.remove(d)
                    rel = prefix + (base / d).relative_to(root).as_posix()
                    yield Member(rel, None, 0, "symbolic link to a directory; not followed")
            for fname in sorted(filenames):
                full = base / fname
                rel = prefix + full.relative_to(root).as_posix()
                yield from self._member(full, rel, depth)

    def _member(self, full: Path, rel: str, depth: int) -> Iterator[Member]:
        try:
            st = full.lstat()
        except OSError as exc:
            yield Member(rel, None, 0, f"cannot stat ({exc.strerror or type(exc).__name__})")
            return
        if stat.S_ISLNK(st.st_mode):
            yield Member(rel, None, 0, "symbolic link; not followed (copy the file itself)")
            return
        if not stat.S_ISREG(st.st_mode):
            yield Member(rel, None, 0, "not a regular file")
            return
        if not os.access(full, os.R_OK):
            yield Member(rel, None, st.st_size, "permission denied; make the file readable")
            return
        if _is_archive(full):
            if depth >= 1:
                yield Member(rel, None, st.st_size, "archive nested more than one level; unpack it")
                return
            try:
                target = self._unpack(full, rel)
            except BundleError as exc:
                yield Member(rel, None, st.st_size, _reason(exc))
                return
            yield from self._walk(target, prefix=rel + "/", depth=depth + 1)
            yield from self._drain()
            return
        yield Member(rel, full, st.st_size)

    def _unpack(self, archive: Path, label: str) -> Path:
        self._archives += 1
        target = self.workdir / f"a{self._archives}"
        target.mkdir(parents=True, exist_ok=False)
        try:
            if archive.name.lower().endswith(".zip"):
                self._unzip(archive, target, label)
            else:
                self._untar(archive, target, label)
        except _CORRUPT as exc:
            raise BundleError(f"unreadable archive ({type(exc).__name__})", file=label) from None
        return target

    def _safe_target(self, target: Path, name: str, label: str) -> Path | None:
        pure = PurePosixPath(name.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
            self._problem(label, name, "path escapes the bundle (absolute or '..'); rejected")
            return None
        if not pure.parts:
            return None
        return target.joinpath(*pure.parts)

    def _problem(self, label: str, name: str, reason: str) -> None:
        prefix = "" if label == "bundle" else label + "/"
        self._pending.append(Member(prefix + name, None, 0, reason))

    def _unzip(self, archive: Path, target: Path, label: str) -> None:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > self.limits.max_members:
                raise BundleError(f"more than {self.limits.max_members} members", file=label)
            for info in infos:
                if info.is_dir():
                    continue
                dest = self._safe_target(target, info.filename, label)
                if dest is None:
                    continue
                mode = (info.external_attr >> 16) & 0o170000
                if mode in (stat.S_IFLNK, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO):
                    self._problem(label, info.filename, "link or device member; rejected")
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                budget = _Budget(packed=max(info.compress_size, 1))
                try:
                    self._copy(zf.open(info), dest, budget, info.filename, label)
                except _CORRUPT as exc:
                    dest.unlink(missing_ok=True)
                    self._problem(
                        label, info.filename, f"corrupt member ({type(exc).__name__}); skipped"
                    )

    def _untar(self, archive: Path, target: Path, label: str) -> None:
        # A tar is compressed as a whole, so the ratio is checked over the archive.
        budget = _Budget(packed=max(archive.stat().st_size, 1))
        count = 0
        with tarfile.open(archive) as tf:
            while True:
                try:
                    info = tf.next()
                except _CORRUPT as exc:
                    self._problem(
                        label, "(rest of archive)", f"truncated or corrupt ({type(exc).__name__})"
                    )
                    break
                if info is None:
                    break
                count += 1
                if count > self.limits.max_members:
                    raise BundleError(f"more than {self.limits.max_members} members", file=label)
                if info.isdir():
                    continue
                dest = self._safe_target(target, info.name, label)
                if dest is None:
                    continue
                if not info.isfile():
                    self._problem(label, info.name, "link or device member; rejected")
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    src = tf.extractfile(info)
                    if src is not None:
                        self._copy(src, dest, budget, info.name, label)
                except _CORRUPT as exc:
                    dest.unlink(missing_ok=True)
                    self._problem(
                        label, info.name, f"corrupt member ({type(exc).__name__}); skipped"
                    )

    def _copy(self, src: IO[bytes], dest: Path, budget: _Budget, name: str, label: str) -> None:
        with src, dest.open("wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
                budget.written += len(chunk)
                self._extracted += len(chunk)
                if self._extracted > self.limits.max_total_bytes:
                    raise BundleError(
                        f"extracted size exceeds {self.limits.max_total_bytes} bytes; "
                        "raise the limit (--max-bytes) if this bundle is genuine",
                        file=label,
                    )
                ratio = budget.written / budget.packed
                if budget.written > 1 << 20 and ratio > self.limits.max_ratio:
                    raise BundleError(
                        f"{name!r} expands more than {self.limits.max_ratio:.0f}x; possible archive "
                        "bomb (raise --max-ratio if this bundle is genuine)",
                        file=label,
                    )


@dataclass(slots=True)
class _Budget:
    packed: int
    written: int = 0


def _reason(exc: BundleError) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text
