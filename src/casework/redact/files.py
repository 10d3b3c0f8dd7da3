"""Format-preserving sanitizers behind ``casework redact``: HAR, JSON, text, gzip, archives, folders.

Each file is recognised by content. A HAR is rewritten structurally (still
a valid HAR with the same shape); other JSON and every text format (logs,
YAML, .env, INI, properties) are redacted in place as text, so layout,
comments and order survive. Binary files (captures, images) cannot be
redacted and are therefore left out of the output and listed as skipped.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from casework.errors import BundleError
from casework.redact.har import redact_json_text
from casework.redact.redactor import Redactor

CHUNK = 8 << 20
PEM_MAX = 1 << 20
MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 8 << 30


@dataclass
class Summary:
    """What one ``casework redact`` run replaced (kinds and counts, never values)."""

    counts: Counter[str] = field(default_factory=Counter)
    files_with_secrets: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    files: int = 0

    def add(self, path: str, counts: Counter[str]) -> None:
        """Record one file's replacements."""
        self.files += 1
        self.counts.update(counts)
        total = sum(counts.values())
        if total:
            self.files_with_secrets[path] = total


def redact_bytes(r: Redactor, data: bytes) -> bytes | None:
    """The redacted content of one file, or None when it is binary and cannot be redacted."""
    if data[:2] == b"\x1f\x8b":
        inner = redact_bytes(r, _gunzip(data))
        return None if inner is None else gzip.compress(inner, mtime=0)
    if b"\x00" in data[:8192]:
        return None
    text = data.decode("utf-8", "surrogateescape")
    if text.lstrip()[:1] in ("{", "[") and len(data) < (256 << 20):
        return redact_json_text(r, text).encode("utf-8", "surrogateescape")
    return _redact_text_chunks(r, text).encode("utf-8", "surrogateescape")


def _gunzip(data: bytes) -> bytes:
    d = zlib.decompressobj(wbits=47)
    out = d.decompress(data, MAX_MEMBER_BYTES)
    if d.unconsumed_tail:
        raise BundleError("a gzip file expands beyond the size limit")
    return out


def _redact_text_chunks(r: Redactor, text: str) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos + CHUNK)
        end = len(text) if end < 0 else end + 1
        # never cut a PEM block in two: its second half would not be recognised
        begin = text.rfind("-----BEGIN", pos, end)
        if begin >= 0 and text.rfind("-----END", begin, end) < 0:
            close = text.find("-----END", end, end + PEM_MAX)
            if close >= 0:
                nl = text.find("\n", close)
                end = len(text) if nl < 0 else nl + 1
        out.append(r.text(text[pos:end]))
        pos = end
    return "".join(out)


def redact_path(r: Redactor, src: Path, dst: Path, summary: Summary) -> None:
    """Redact a file, folder, zip or tar archive into ``dst`` of the same kind."""
    if src.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if path.is_symlink():
                summary.skipped[str(rel)] = "symbolic link"
            elif path.is_dir():
                (dst / rel).mkdir(parents=True, exist_ok=True)
            elif path.is_file():
                _redact_member(r, path, dst / rel, str(rel), summary)
        return
    if zipfile.is_zipfile(src) or _is_tar(src):
        with tempfile.TemporaryDirectory() as tmp:
            raw, clean = Path(tmp, "in"), Path(tmp, "out")
            _extract(src, raw, summary)
            redact_path(r, raw, clean, summary)
            _pack(clean, dst, like=src)
        return
    _redact_member(r, src, dst, src.name, summary)


def _redact_member(r: Redactor, path: Path, dst: Path, rel: str, summary: Summary) -> None:
    if zipfile.is_zipfile(path) or _is_tar(path):
        redact_path(r, path, dst, summary)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        summary.skipped[rel] = f"unreadable ({exc.strerror or 'I/O error'})"
        return
    r.take_counts()
    out = redact_bytes(r, data)
    if out is None:
        summary.skipped[rel] = "binary content cannot be redacted; left out"
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(out)
    summary.add(rel, r.take_counts())


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _safe_name(name: str) -> PurePosixPath | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    return p


def _extract(src: Path, dst: Path, summary: Summary) -> None:
    """Extract regular files only, inside ``dst`` (no absolute paths, ``..`` or links)."""
    dst.mkdir(parents=True)
    total = 0
    if zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as zf:
            for info in zf.infolist():
                name = _safe_name(info.filename)
                if info.is_dir():
                    continue
                if name is None or (info.external_attr >> 16) & 0o170000 == 0o120000:
                    summary.skipped[info.filename] = "unsafe path or link in archive"
                    continue
                total += info.file_size
                if info.file_size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                    raise BundleError("archive expands beyond the size limit", file=str(src))
                target = dst / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as fin, target.open("wb") as fout:
                    shutil.copyfileobj(fin, fout)
        return
    with tarfile.open(src) as tf:
        for member in tf:
            name = _safe_name(member.name)
            if member.isdir():
                continue
            if name is None or not member.isfile():
                summary.skipped[member.name] = "unsafe path, link or device in archive"
                continue
            total += member.size
            if member.size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                raise BundleError("archive expands beyond the size limit", file=str(src))
            member_file = tf.extractfile(member)
            if member_file is None:
                continue
            target = dst / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with member_file, target.open("wb") as fout:
                shutil.copyfileobj(member_file, fout)


def _pack(folder: Path, dst: Path, *, like: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if zipfile.is_zipfile(like):
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in files:
                zf.write(p, p.relative_to(folder).as_posix())
        return
    head = like.read_bytes()[:6]
    mode = {b"\x1f\x8b": "w:gz", b"BZ": "w:bz2", b"\xfd7": "w:xz"}.get(head[:2], "w")
    with tarfile.open(dst, mode) as tf:  # type: ignore[call-overload]
        for p in files:
            tf.add(p, p.relative_to(folder).as_posix())


def redact_stream(r: Redactor, data: bytes) -> bytes:
    """Standard input to standard output: binary input is refused rather than passed through."""
    out = redact_bytes(r, data)
    if out is None:
        raise BundleError(
            "standard input is binary; casework redact only handles text, JSON and HAR"
        )
    return out


__all__ = ["Summary", "redact_bytes", "redact_path", "redact_stream"]
