"""Planning the scan: each member sniffed once, then cut into tasks; unreadable members inventoried."""

from __future__ import annotations

import hashlib
import lzma
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.bundle import Member
from casework.formats import Format, description, sniff
from casework.inventory import FileEntry
from casework.redact import RedactionPolicy, Redactor
from casework.remote import storage_error
from casework.scan.rangeio import NEWLINE_SEARCH, line_boundaries
from casework.scan.task import ScanTask, out_dir
from casework.scan.worker import unreadable
from casework.timeparse import find_any
from casework.transcode import utf16_bom

HEAD_BYTES = 64 * 1024
#: Files larger than this are cut into parts of about this size (when their format allows).
CHUNK_BYTES = 64 << 20
#: The smallest part a bundle's size alone makes (see :func:`chunk_for`).
MIN_CHUNK_BYTES = 16 << 20


def chunk_for(bundle_bytes: int) -> int:
    """The part size for a bundle: about 16 parts of it, between 16 and 64 MiB.

    Small bundles get smaller parts so both cores stay busy when a few big files
    dominate. It depends on the bundle only, never on the number of workers: the
    cut decides which records each task's miner sees, so it must be the same for
    every executor for their case stores to be identical.
    """
    return min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, bundle_bytes // 16))


@dataclass
class Plan:
    """The tasks to run and the inventory entries, in bundle order."""

    tasks: list[ScanTask] = field(default_factory=list)
    entries: dict[str, FileEntry] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settings:
    key: bytes
    policy: RedactionPolicy
    tz: str
    tz_given: bool
    work: Path
    chunk_bytes: int = CHUNK_BYTES


def plan(members: list[Member], settings: Settings, redactor: Redactor) -> Plan:
    """One entry per member; tasks for those with a known format."""
    out = Plan()
    firsts: dict[str, str] = {}  # file -> its first line, for the bundle's years
    for member in members:
        entry = FileEntry(path=redactor.text(member.name), bytes=member.bytes)
        out.entries[entry.path] = entry
        fmt, head = _sniffed(member, entry)
        if fmt is None:
            continue
        entry.kind, entry.category = fmt.kind, fmt.category
        firsts[entry.path] = head.split(b"\n", 1)[0].decode("utf-8", "replace")
        location = member.location
        assert location is not None
        cuts = [0, member.bytes]
        starts = (
            fmt.cut(head)
            if fmt.cut is not None
            and member.bytes > settings.chunk_bytes
            and not _compressed(location)
            and not _utf16(member)  # its byte offsets are not its UTF-8 text's
            else None
        )
        if starts is not None:
            try:
                # Remote objects: a few small ranged reads per cut, not a download.
                with member.raw(block_size=NEWLINE_SEARCH) as raw:
                    cuts = line_boundaries(raw, member.bytes, settings.chunk_bytes, starts)
            except Exception:  # cannot cut it here: one task, whose worker reports why
                cuts = [0, member.bytes]
        parts = len(cuts) - 1
        for part in range(parts):
            index = len(out.tasks)
            out.tasks.append(
                ScanTask(
                    index=index, file=entry.path, name=member.name, disk=location,
                    size=member.bytes, kind=fmt.kind, part=part, parts=parts, start=cuts[part],
                    end=cuts[part + 1] if parts > 1 else None, key=settings.key, policy=settings.policy,
                    tz=settings.tz, tz_given=settings.tz_given, year=_year_hint(member, head),
                    out=out_dir(settings.work.as_posix(), index), storage=member.storage,
                )
            )  # fmt: skip
    _years_from_the_bundle(out, firsts)
    return out


def _years_from_the_bundle(out: Plan, firsts: dict[str, str]) -> None:
    """A year-less file (syslog's ``May 14 09:38:01``) takes the year that puts its first line
    nearest the first lines of the bundle's dated files, when it has any: files attached to a
    ticket are often written (and so dated on disk) long after their lines."""
    dated: list[float] = []
    yearless: set[str] = set()
    for file, first in firsts.items():
        this, other = find_any(first, UTC, 2001), find_any(first, UTC, 2002)
        if this is None or other is None:
            continue
        if this[2].ts.year != other[2].ts.year:
            yearless.add(file)
        else:
            dated.append(this[2].ts.timestamp())
    if not dated or not yearless:
        return
    middle = sorted(dated)[len(dated) // 2]
    years = {datetime.fromtimestamp(t, UTC).year for t in dated}
    chosen: dict[str, int] = {}
    for file in yearless:
        gaps = [
            (abs(found[2].ts.timestamp() - middle), year)
            for year in sorted(years | {y - 1 for y in years})
            if (found := find_any(firsts[file], UTC, year)) is not None
        ]
        if gaps:
            chosen[file] = min(gaps)[1]
    out.tasks = [replace(t, year=chosen[t.file]) if t.file in chosen else t for t in out.tasks]


def _sniffed(member: Member, entry: FileEntry) -> tuple[Format | None, bytes]:
    """The member's format (None: the entry says why) and its first bytes."""
    if member.problem is not None or member.location is None:
        entry.reason = member.problem or "not readable"
        return None, b""
    try:
        # An object read in place is not hashed: that would download it once more, here.
        if member.disk is not None:
            entry.sha256 = _sha256(member.disk)
        with member.open(block_size=HEAD_BYTES) as stream:
            head = stream.read(HEAD_BYTES)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        entry.reason = unreadable(exc)
        return None, b""
    except Exception as exc:  # a storage backend's own error type; its text may carry secrets
        entry.reason = storage_error(exc)
        return None, b""
    if not head:
        entry.reason = "empty file"
        return None, head
    fmt, _confidence = sniff(head)
    if fmt is None and description.named(member.name, head):
        fmt = description.FORMAT
    if fmt is None:
        entry.reason = _unknown_reason(head)
    return fmt, head


def _utf16(member: Member) -> bool:
    with member.raw(block_size=NEWLINE_SEARCH) as raw:
        return utf16_bom(raw.read(2))


def _compressed(location: str) -> bool:
    return location.lower().endswith((".gz", ".bz2", ".xz"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _year_hint(member: Member, head: bytes) -> int | None:
    """The year of a file's first line when its times carry none: from its modification time.

    The modification time is when the last line was written; a first line later in the
    year than that (December lines in a file last written in January) began a year earlier.
    """
    try:
        mtime = member.disk.stat().st_mtime if member.disk is not None else member.mtime
        if mtime is None:
            return None
        written = datetime.fromtimestamp(mtime, UTC)
    except (OSError, ValueError, OverflowError):
        return None
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    this, last = find_any(first, UTC, written.year), find_any(first, UTC, written.year - 1)
    yearless = this is not None and last is not None and this[2].ts.year != last[2].ts.year
    if yearless and this is not None and this[2].ts > written + timedelta(days=1):
        return written.year - 1
    return written.year


def _unknown_reason(head: bytes) -> str:
    sample = head[:4096]
    text_bytes = set(range(32, 127)) | {9, 10, 13}
    odd = sum(1 for b in sample if b not in text_bytes and b < 128)
    if b"\x00" in sample or odd > 0.3 * len(sample):
        return "binary content of an unknown kind; not a log, capture, trace, plan or config casework reads"
    if _SQL.match(sample.decode("utf-8", "replace")):
        return (
            "SQL text: casework reads query plans, not queries; for a slow query attach"
            " EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output of it"
        )
    return "text of an unknown format; if it is a log, send a sample so a parser can be added"


#: A statement first, after comments and blank lines.
_SQL = re.compile(
    r"(?is)\A\ufeff?(?:\s+|--[^\n]*\n|/\*.*?\*/)*"
    r"(?:SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|ALTER|EXPLAIN)\b"
)
