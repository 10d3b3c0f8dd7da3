"""Safe extraction of archives into a private work directory, shared by local and remote bundles.

Every member name is checked (no absolute paths, no ``..``, no links or
devices), the total size and the compression ratio are capped against bombs,
and a member that cannot be extracted is recorded as a problem while the rest
goes on.
"""

from __future__ import annotations

import lzma
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from casework.errors import BundleError

CORRUPT = (zipfile.BadZipFile, tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, OSError)


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps against archive bombs; all configurable."""

    max_total_bytes: int = 50 * 1024**3
    max_ratio: float = 200.0
    max_members: int = 100_000


@dataclass(slots=True)
class Extractor:
    """Unpacks archives under ``workdir`` within ``limits``; ``problems`` are (member name, reason)."""

    workdir: Path
    limits: Limits = field(default_factory=Limits)
    problems: list[tuple[str, str]] = field(default_factory=list)
    _extracted: int = 0
    _archives: int = 0

    def unpack(self, archive: Path, label: str) -> Path:
        """Extract ``archive`` into a fresh folder and return it; ``label`` prefixes rejected names."""
        self._archives += 1
        target = self.workdir / f"a{self._archives}"
        target.mkdir(parents=True, exist_ok=False)
        try:
            if archive.name.lower().endswith(".zip"):
                self._unzip(archive, target, label)
            else:
                self._untar(archive, target, label)
        except CORRUPT as exc:
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
        self.problems.append((prefix + name, reason))

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
                except CORRUPT as exc:
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
                except CORRUPT as exc:
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
                except CORRUPT as exc:
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
