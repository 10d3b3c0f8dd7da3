"""Bundles in object storage: a prefix or a single object behind an fsspec URL (s3://, gs://, abfs://...).

Plain objects (and single ``.gz``/``.bz2``/``.xz`` files) are not copied:
their members carry the URL and the scan workers read them in place, a
large one in line-aligned parts with ranged reads. Archives (``.zip``,
``.tar*``) are downloaded into the work directory and extracted there as
local ones are, because extraction needs random access to the whole file
and writes its members somewhere. Names are the keys relative to the
bundle's root, as for a local folder, so a case reads the same from either.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from casework.bundle import Bundle, BundleBase, Limits, Member, is_archive, reason_of
from casework.errors import BundleError
from casework.remote import (
    StorageOptions,
    display,
    filesystem,
    local_path,
    modified,
    storage_error,
)

_COPY_BLOCK = 8 << 20


def open_bundle(
    path: str | os.PathLike[str], workdir: Path, limits: Limits | None = None,
    storage: StorageOptions = (),
) -> BundleBase:  # fmt: skip
    """The bundle at ``path``: a local path or ``file://`` URL, or any other fsspec URL."""
    local = local_path(path)
    if local is not None:
        return Bundle(local, workdir, limits)
    return RemoteBundle(str(path), workdir, limits, storage)


class RemoteBundle(BundleBase):
    """The objects under an fsspec URL (a prefix) or the one object it names."""

    def __init__(
        self, url: str, workdir: Path, limits: Limits | None = None, storage: StorageOptions = ()
    ) -> None:
        super().__init__(workdir, limits)
        self.url = url
        self.shown = display(url)
        self.fs, self.root = filesystem(url, storage)
        # Options parsed from the URL itself (e.g. ftp user) travel with the members too.
        self.storage: StorageOptions = tuple(sorted(self.fs.storage_options.items()))
        self._downloads = 0
        try:
            self.info: dict[str, Any] = self.fs.info(self.root)
            self.listing = self._listing() if self.info.get("type") == "directory" else []
        except BundleError:
            raise
        except Exception as exc:  # backends raise their own types; the type alone says enough
            raise BundleError(storage_error(exc), file=self.shown) from None

    def _listing(self) -> list[tuple[str, dict[str, Any]]]:
        found: dict[str, dict[str, Any]] = self.fs.find(self.root, withdirs=False, detail=True)
        if len(found) > self.limits.max_members:
            raise BundleError(
                f"more than {self.limits.max_members} objects; narrow the prefix", file=self.shown
            )
        base = self.root.rstrip("/") + "/"
        # Empty keys ending in "/" are the folder markers consoles create, not evidence.
        rel = {
            p[len(base) :]: info
            for p, info in found.items()
            if p.startswith(base) and not (p.endswith("/") and not info.get("size"))
        }
        return sorted(rel.items())

    def members(self) -> Iterator[Member]:
        """Every object of the bundle in a stable order (sorted by key)."""
        if self.info.get("type") != "directory":
            name = PurePosixPath(self.root).name
            if is_archive(Path(name)):
                target = self._unpack(self._download(self.root, name, self.info), "bundle")
                yield from self._walk(target, prefix="", depth=0)
                yield from self._drain()
            else:
                yield self._object(self.root, name, self.info)
            return
        base = self.root.rstrip("/") + "/"
        for rel, info in self.listing:
            yield from self._entry(base + rel, rel, info)

    def _entry(self, path: str, rel: str, info: dict[str, Any]) -> Iterator[Member]:
        size = int(info.get("size") or 0)
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts) or "\\" in rel:
            yield Member(rel, None, size, "key has '.', '..' or empty path segments; rejected")
            return
        if info.get("islink"):
            yield Member(rel, None, size, "symbolic link; not followed (copy the file itself)")
            return
        if info.get("type") != "file":
            yield Member(rel, None, size, "not a regular object")
            return
        if not is_archive(Path(parts[-1])):
            yield self._object(path, rel, info)
            return
        try:
            target = self._unpack(self._download(path, rel, info), rel)
        except BundleError as exc:
            yield Member(rel, None, size, reason_of(exc))
            return
        yield from self._walk(target, prefix=rel + "/", depth=1)
        yield from self._drain()

    def _object(self, path: str, rel: str, info: dict[str, Any]) -> Member:
        return Member(
            rel, None, int(info.get("size") or 0), url=self.fs.unstrip_protocol(path),
            storage=self.storage, mtime=modified(info),
        )  # fmt: skip

    def _download(self, path: str, rel: str, info: dict[str, Any]) -> Path:
        """A local copy of an archive object, within the size cap."""
        size = int(info.get("size") or 0)
        cap = self.limits.max_total_bytes
        if size > cap:
            raise BundleError(f"archive of {size} bytes exceeds --max-bytes ({cap})", file=rel)
        self._downloads += 1
        folder = self.workdir / f"download-{self._downloads}"
        folder.mkdir(parents=True, exist_ok=False)
        # The local name is fixed apart from the suffix, so no key can place it elsewhere.
        dest = folder / ("archive" + _archive_suffix(rel))
        written = 0
        try:
            with self.fs.open(path, "rb", block_size=_COPY_BLOCK) as src, dest.open("wb") as out:
                while chunk := src.read(_COPY_BLOCK):
                    written += len(chunk)
                    if written > cap:
                        raise BundleError(f"archive exceeds --max-bytes ({cap})", file=rel)
                    out.write(chunk)
        except BundleError:
            raise
        except Exception as exc:
            raise BundleError(f"cannot download: {storage_error(exc)}", file=rel) from None
        return dest


def _archive_suffix(name: str) -> str:
    lower = name.lower()
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".tar", ".zip"):
        if lower.endswith(suffix):
            return suffix
    return ""
