"""Ingest: every bundle member is sniffed, parsed, redacted, mined and stored.

One file's failure never stops the others: what cannot be read is recorded
in its inventory entry with the reason, and whatever was read before a
failure is kept (status ``partial``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo

from casework.bundle import Member
from casework.derive import change_from_message, request_from_attrs
from casework.formats import FORMATS, Format, ParseContext, sniff
from casework.inventory import FileEntry
from casework.mining import TemplateMiner
from casework.model import ChangeRecord, LogRecord, Record, RequestRecord
from casework.redact import Redactor
from casework.sinks import SINKS
from casework.store import Store

HEAD_BYTES = 64 * 1024

Progress = Callable[[int], None]


class Ingest:
    """Reads bundle members into a store, one at a time, keeping an inventory."""

    def __init__(
        self,
        store: Store,
        redactor: Redactor,
        miner: TemplateMiner,
        *,
        tz: tzinfo,
        tz_given: bool,
        formats: tuple[Format, ...] = FORMATS,
    ) -> None:
        self.store = store
        self.redactor = redactor
        self.miner = miner
        self.tz = tz
        self.tz_given = tz_given
        self.formats = formats
        self.inventory: list[FileEntry] = []
        self._assumed = False

    def add(self, member: Member, progress: Progress | None = None) -> FileEntry:
        """Read one member; never raises for bad evidence."""
        started = time.perf_counter()
        entry = FileEntry(path=self.redactor.text(member.name), bytes=member.bytes)
        self.inventory.append(entry)
        try:
            self._read(member, entry, progress)
        except MemoryError:
            entry.status = "skipped" if entry.records == 0 else "partial"
            entry.reason = "ran out of memory reading this file; split it and retry"
        finally:
            entry.redactions.update(self.redactor.take_counts())
            entry.seconds = time.perf_counter() - started
            self.store.flush()
        return entry

    def _read(self, member: Member, entry: FileEntry, progress: Progress | None) -> None:
        if member.problem is not None or member.disk is None:
            entry.reason = member.problem or "not readable"
            return
        try:
            entry.sha256 = _sha256(member)
            with member.open() as stream:
                head = stream.read(HEAD_BYTES)
        except (OSError, EOFError, ValueError) as exc:
            entry.reason = _unreadable(exc)
            return
        if not head:
            entry.reason = "empty file"
            return
        fmt, _confidence = sniff(head, self.formats)
        if fmt is None:
            entry.reason = _unknown_reason(head)
            return
        entry.kind, entry.category = fmt.kind, fmt.category
        ctx = ParseContext(
            path=entry.path, tz=self.tz, tz_given=self.tz_given, year=_year_hint(member)
        )
        stopped: str | None = None
        self._assumed = False
        try:
            with member.open() as stream:
                for record in fmt.parse(stream, ctx):
                    self._store(record, entry)
                    if progress is not None and entry.records % 4096 == 0:
                        progress(stream.tell() if stream.seekable() else 0)
        except (OSError, EOFError, ValueError) as exc:
            stopped = f"reading stopped early: {_unreadable(exc)}"
        except Exception as exc:  # a parser bug: keep what was read, say where it stopped
            stopped = f"parser {fmt.kind} failed after {entry.records} records ({type(exc).__name__})"
        self._finish(entry, ctx, stopped)

    def _finish(self, entry: FileEntry, ctx: ParseContext, stopped: str | None) -> None:
        problems = []
        if stopped:
            problems.append(stopped)
        if ctx.bad_records:
            problems.append(
                f"{ctx.bad_records} records not parsed (first: {self.redactor.text(ctx.first_problem or '')})"
            )
        if ctx.truncated_lines:
            problems.append(f"{ctx.truncated_lines} lines longer than 1 MiB were cut")
        problems.extend(self.redactor.text(n) for n in ctx.notes)
        entry.reason = "; ".join(problems)
        if entry.records == 0 and (stopped or ctx.bad_records):
            entry.status = "skipped"
        else:
            entry.status = "partial" if problems and (stopped or ctx.bad_records) else "parsed"
        if entry.first_ts is not None:
            entry.tz = f"{self.tz} (assumed)" if self._assumed else "from the file"

    def _store(self, record: Record, entry: FileEntry) -> None:
        entry.records += 1
        if isinstance(record, LogRecord):
            self._event(record, entry)
        elif isinstance(record, RequestRecord):
            self._request(record, entry.path, "capture")
        elif isinstance(record, ChangeRecord):
            self._change(record, entry.path)
        else:
            sink = SINKS.get(type(record))
            if sink is not None:
                sink(self.store, self.redactor, record, entry.path)
        ts = getattr(record, "ts", None) or getattr(record, "start", None)
        if isinstance(ts, datetime):
            if entry.first_ts is None or ts < entry.first_ts:
                entry.first_ts = ts
            if entry.last_ts is None or ts > entry.last_ts:
                entry.last_ts = ts

    def _event(self, rec: LogRecord, entry: FileEntry) -> None:
        r = self.redactor
        message = r.text(rec.message)
        attrs = r.json(rec.attrs) if rec.attrs else {}
        cluster = self.miner.add(message)
        if rec.ts_assumed:
            self._assumed = True
        self.store.add(
            "events",
            (
                entry.path,
                rec.line,
                rec.end_line or rec.line,
                rec.ts,
                rec.level,
                r.text(rec.service) if rec.service else None,
                r.text(rec.logger) if rec.logger else None,
                message,
                f"c{cluster}",
                attrs,
            ),
        )
        request = request_from_attrs(attrs, rec.ts, rec.line) if attrs else None
        if request is not None:
            self._request(request, entry.path, "log", redacted=True)
        change = change_from_message(message, rec.ts, rec.line, rec.service)
        if change is not None:
            self._change(change, entry.path, redacted=True)

    def _request(
        self, rec: RequestRecord, file: str, source: str, *, redacted: bool = False
    ) -> None:
        r = self.redactor
        text = _identity if redacted else r.text
        self.store.add(
            "requests",
            (
                rec.ts,
                source,
                file,
                rec.line,
                rec.method,
                text(rec.host) if rec.host else None,
                text(rec.route) if rec.route else None,
                (rec.url if redacted else r.url(rec.url)) if rec.url else None,
                rec.status,
                rec.duration_ms,
                rec.bytes,
                text(rec.client) if rec.client else None,
                rec.attrs if redacted else r.json(rec.attrs),
            ),
        )

    def _change(self, rec: ChangeRecord, file: str, *, redacted: bool = False) -> None:
        text = _identity if redacted else self.redactor.text
        self.store.add(
            "changes",
            (
                rec.ts,
                rec.kind,
                text(rec.what),
                text(rec.version) if rec.version else None,
                file,
                rec.line,
                rec.attrs if redacted else self.redactor.json(rec.attrs),
            ),
        )


def _identity(value: str) -> str:
    return value


def _sha256(member: Member) -> str:
    assert member.disk is not None
    digest = hashlib.sha256()
    with member.disk.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _year_hint(member: Member) -> int | None:
    if member.disk is None:
        return None
    try:
        return datetime.fromtimestamp(member.disk.stat().st_mtime).year
    except (OSError, ValueError, OverflowError):
        return None


def _unreadable(exc: BaseException) -> str:
    name = type(exc).__name__
    if name in {"BadGzipFile", "EOFError"}:
        return f"compressed data is truncated or corrupt ({name}); re-export the file"
    if isinstance(exc, PermissionError):
        return "permission denied; make the file readable"
    return f"cannot read ({name})"


def _unknown_reason(head: bytes) -> str:
    sample = head[:4096]
    if b"\x00" in sample or _binary_share(sample) > 0.3:
        return "binary content of an unknown kind; not a log, capture, trace, plan or config casework reads"
    return "text of an unknown format; if it is a log, send a sample so a parser can be added"


def _binary_share(sample: bytes) -> float:
    if not sample:
        return 0.0
    text_bytes = set(range(32, 127)) | {9, 10, 13}
    odd = sum(1 for b in sample if b not in text_bytes and b < 128)
    return odd / len(sample)


def iter_members(members: Iterator[Member]) -> Iterator[Member]:
    """Members in the order they are ingested (kept stable for reproducible case stores)."""
    return iter(sorted(members, key=lambda m: m.name))
