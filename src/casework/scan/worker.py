"""One scan task: parse, redact, mine and write Parquet parts, never raising for bad evidence."""

from __future__ import annotations

import contextlib
import gc
import shutil
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from casework.bundle import Member
from casework.formats import FORMATS, Format, ParseContext
from casework.ingest import RecordWriter
from casework.mining import TemplateMiner
from casework.redact import Redactor
from casework.scan.aggregates import aggregate
from casework.scan.rangeio import count_lines, open_range
from casework.scan.task import ScanResult, ScanTask
from casework.store import PartWriter

_BY_KIND: dict[str, Format] = {f.kind: f for f in FORMATS}


#: Allocations between two young-generation collections while a task runs (Python's default
#: is 700). A scan allocates millions of short-lived objects and makes no reference cycles
#: of note, so the collector's passes were pure cost: 0.83 s of a 9.1 s scan of the ingest
#: benchmark's 60 MB (1,581 collections); at 100,000 there are 4. Memory is unchanged.
COLLECT_EVERY = 100_000


class _RareCollections:
    """The collector's threshold raised while any scan runs in this process (a Dask worker
    may run several on threads), and restored when the last one ends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.saved = gc.get_threshold()

    def __enter__(self) -> None:
        with self.lock:
            if self.running == 0:
                self.saved = gc.get_threshold()
                gc.set_threshold(COLLECT_EVERY, *self.saved[1:])
            self.running += 1

    def __exit__(self, *_: object) -> None:
        with self.lock:
            self.running -= 1
            if self.running == 0:
                gc.set_threshold(*self.saved)


_rare_collections = _RareCollections()


def scan(task: ScanTask) -> ScanResult:
    """Read one task into ``task.out``; the result says what was read and what was not."""
    with _rare_collections:
        return _scan(task)


def _scan(task: ScanTask) -> ScanResult:
    started = time.perf_counter()
    result = ScanResult(index=task.index, file=task.file, part=task.part, out=task.out)
    redactor = Redactor(task.key, task.policy)
    miner = TemplateMiner()
    # A retry (Dask runs a task again when its worker dies) starts from nothing.
    shutil.rmtree(task.out, ignore_errors=True)
    parts = PartWriter(Path(task.out))
    writer = RecordWriter(parts, redactor, miner, task.file)
    fmt = _BY_KIND[task.kind]
    ctx = ParseContext(path=task.file, tz=ZoneInfo(task.tz), tz_given=task.tz_given, year=task.year)
    member = Member.at(task.name, task.disk, task.size, task.storage)
    try:
        try:
            with _open(member, task) as stream:
                for record in (fmt.scan or fmt.parse)(stream, ctx):
                    writer.write(record)
        finally:
            writer.close()  # what was read before a stop is kept
    except (OSError, EOFError, ValueError) as exc:
        result.stopped = f"reading stopped early: {unreadable(exc)}"
    except MemoryError:
        result.stopped = "ran out of memory reading this file; split it and retry"
    except Exception as exc:  # a parser bug: keep what was read, say where it stopped
        result.stopped = (
            f"parser {fmt.kind} failed after {writer.stats.records} records ({type(exc).__name__})"
        )
    parts.close()
    with contextlib.suppress(Exception):  # without them the merge aggregates the parts itself
        aggregate(Path(task.out))
    if task.parts > 1 and task.end is not None:
        # The parser counted the part's lines when it read it all; else read them again.
        result.lines = ctx.lines_read if ctx.lines_read is not None else part_lines(task)
    stats = writer.stats
    result.records, result.first_ts, result.last_ts, result.assumed = (
        stats.records, stats.first_ts, stats.last_ts, stats.assumed,
    )  # fmt: skip
    result.bad_records, result.truncated_lines = ctx.bad_records, ctx.truncated_lines
    result.first_problem = redactor.text(ctx.first_problem) if ctx.first_problem else None
    result.notes = [redactor.text(n) for n in ctx.notes]
    result.redactions = redactor.take_counts()
    result.templates = [(cid, miner.template(cid).text) for cid in sorted(writer.clusters)]
    result.seconds = time.perf_counter() - started
    return result


def lost(task: ScanTask, remedy: str) -> ScanResult:
    """The result of a task whose worker process died: nothing of it is kept (its parts may
    be half-written), and the inventory says why and ``remedy``. A later part's line numbers
    still count this part's lines."""
    shutil.rmtree(task.out, ignore_errors=True)
    result = ScanResult(index=task.index, file=task.file, part=task.part, out=task.out)
    result.stopped = (
        "the process reading it ended abruptly (killed, often for lack of memory), so nothing"
        f" of it was read; {remedy}"
    )
    if task.parts > 1 and task.end is not None:
        with contextlib.suppress(Exception):
            result.lines = part_lines(task)
    return result


def part_lines(task: ScanTask) -> int:
    """The lines in one part of a split file, counted from its raw bytes."""
    member = Member.at(task.name, task.disk, task.size, task.storage)
    with member.raw() as raw:
        return count_lines(raw, task.start, task.end or task.size)


def _open(member: Member, task: ScanTask):  # type: ignore[no-untyped-def]
    if task.parts == 1:
        return member.open()
    return open_range(member.raw(), task.start, task.end)


def unreadable(exc: BaseException) -> str:
    """A reason a file could not be read, with what to do next."""
    name = type(exc).__name__
    if name in {"BadGzipFile", "EOFError"} or "zlib" in str(type(exc)) or name in {"LZMAError"}:
        return f"compressed data is truncated or corrupt ({name}); re-export the file"
    if isinstance(exc, PermissionError):
        return "permission denied; make the file readable"
    return f"cannot read ({name})"
