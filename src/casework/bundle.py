"""Opening an evidence bundle safely: a directory, an archive, or a compressed file.

Archives are extracted into a private work directory (:mod:`casework.extract`:
no absolute paths, no ``..``, no links or devices, size and compression ratio
capped), and archives nested one level inside the bundle expanded the same
way. A member that cannot be read is reported as a :class:`Member` with a
``problem`` and the rest goes on. Bundles in object storage are listed by
:mod:`casework.bundle_remote` into the same members.
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
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Self, cast

from casework.errors import BundleError
from casework.extract import CORRUPT, Extractor, Limits
from casework.remote import StorageOptions, is_url, open_content, open_raw
from casework.transcode import utf8

__all__ = ["Bundle", "BundleBase", "Limits", "Member", "is_archive", "reason_of"]

_COMPRESSED: dict[str, Callable[[Path], BinaryIO]] = {
    ".gz": lambda p: cast(BinaryIO, gzip.GzipFile(p, "rb")),
    ".bz2": lambda p: cast(BinaryIO, bz2.BZ2File(p, "rb")),
    ".xz": lambda p: cast(BinaryIO, lzma.LZMAFile(p, "rb")),  # noqa: SIM115
}
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


@dataclass(frozen=True, slots=True)
class Member:
    """One file of the bundle.

    ``name`` is its path inside the bundle (archive members of a nested archive
    are shown as ``inner.zip/path``); ``disk`` is where it lies on disk, or
    ``url`` where it is read in place in object storage (with the ``storage``
    options to reach it, never printed); ``problem`` says why it cannot be
    read, when it cannot.
    """

    name: str
    disk: Path | None
    bytes: int
    problem: str | None = None
    url: str | None = None
    storage: StorageOptions = field(default=(), repr=False)
    mtime: float | None = None

    @classmethod
    def at(cls, name: str, location: str, size: int, storage: StorageOptions = ()) -> Member:
        """The member at ``location``: a local path or an object storage URL."""
        if is_url(location):
            return cls(name, None, size, url=location, storage=storage)
        return cls(name, Path(location), size)

    @property
    def location(self) -> str | None:
        """Where the content is read from (a path or a URL), None when it cannot be."""
        return self.url if self.url is not None else (None if self.disk is None else str(self.disk))

    def raw(self, block_size: int | None = None) -> BinaryIO:
        """The bytes as stored (not decompressed), seekable; ``block_size`` sizes remote reads."""
        if self.url is not None:
            return open_raw(self.url, self.storage, block_size)
        if self.disk is None:
            raise BundleError("member has no readable content", file=self.name)
        return self.disk.open("rb")

    def open(self, block_size: int | None = None) -> BinaryIO:
        """A fresh binary stream of the member's content, decompressed if it is a ``.gz``/``.bz2``/``.xz`` file,
        and UTF-8 if it is UTF-16 text (``transcode``)."""
        if self.url is not None:
            return utf8(open_content(self.url, self.storage, block_size))
        if self.disk is None:
            raise BundleError("member has no readable content", file=self.name)
        opener = _COMPRESSED.get(self.disk.suffix.lower())
        if opener is not None and not is_archive(self.disk):
            return utf8(opener(self.disk))
        return utf8(self.disk.open("rb"))


def is_archive(path: Path) -> bool:
    """True for a name that is a zip or tar archive (to extract), not a compressed single file."""
    name = path.name.lower()
    return name.endswith(".zip") or name.endswith(_TAR_SUFFIXES)


class BundleBase(ABC):
    """A bundle's members, with archives among them extracted safely into ``workdir``."""

    def __init__(self, workdir: Path, limits: Limits | None = None) -> None:
        self.workdir = workdir
        self.limits = limits or Limits()
        self.extractor = Extractor(workdir, self.limits)

    @abstractmethod
    def members(self) -> Iterator[Member]:
        """Every file of the bundle in a stable order (sorted by name)."""

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drain(self) -> Iterator[Member]:
        """Members that extraction rejected since the last drain."""
        problems, self.extractor.problems = self.extractor.problems, []
        for name, reason in problems:
            yield Member(name, None, 0, reason)

    def _unpack(self, archive: Path, label: str) -> Path:
        return self.extractor.unpack(archive, label)

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
        if is_archive(full):
            if depth >= 1:
                yield Member(rel, None, st.st_size, "archive nested more than one level; unpack it")
                return
            try:
                target = self._unpack(full, rel)
            except BundleError as exc:
                yield Member(rel, None, st.st_size, reason_of(exc))
                return
            yield from self._walk(target, prefix=rel + "/", depth=depth + 1)
            yield from self._drain()
            return
        yield Member(rel, full, st.st_size)


class Bundle(BundleBase):
    """A bundle on the local file system: a directory, an archive, or a compressed file."""

    def __init__(self, path: Path, workdir: Path, limits: Limits | None = None) -> None:
        super().__init__(workdir, limits)
        self.path = path
        if not path.exists():
            raise BundleError("no such file or directory; check the path", file=str(path))
        if path.is_symlink() and not path.resolve().exists():
            raise BundleError("is a broken symbolic link", file=str(path))
        if not (path.is_dir() or path.is_file()):
            raise BundleError("is neither a directory nor a file", file=str(path))
        if path.is_file() and is_archive(path):
            self._check_archive(path)

    def members(self) -> Iterator[Member]:
        """Every file of the bundle in a stable order (sorted by name)."""
        if self.path.is_dir():
            yield from self._walk(self.path, prefix="", depth=0)
        elif is_archive(self.path):
            target = self._unpack(self.path, "bundle")
            yield from self._walk(target, prefix="", depth=0)
            yield from self._drain()
        else:
            yield Member(self.path.name, self.path, self.path.stat().st_size)

    def _check_archive(self, path: Path) -> None:
        try:
            if path.name.lower().endswith(".zip"):
                with zipfile.ZipFile(path):
                    return
            with tarfile.open(path):
                return
        except CORRUPT as exc:
            raise BundleError(
                f"is not a readable archive ({type(exc).__name__}); "
                "pass the folder or a .zip/.tar.gz of it",
                file=str(path),
            ) from None


def reason_of(exc: BundleError) -> str:
    """A bundle error's message without the file it names (the member name is shown beside it)."""
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text
