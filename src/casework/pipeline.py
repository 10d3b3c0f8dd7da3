"""The pipeline of ``investigate``: the whole flow from a bundle path to a case directory with reports.

open → sniff → parse → redact → store → analyze → rank → render, in one
direction. The CLI is a thin layer over :func:`investigate`.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casework.bundle import Limits
from casework.bundle_remote import open_bundle
from casework.case import Case
from casework.clockalign import align
from casework.configs.envname import env_of
from casework.engine import Analyzer, AnalyzerRun, load_analyzers, run_analyzers
from casework.errors import BundleError
from casework.inventory import FileEntry
from casework.investigation import Investigation
from casework.mining import TemplateMiner
from casework.notes import description
from casework.rank import rank
from casework.redact import RedactionPolicy, Redactor
from casework.remote import StorageOptions, display, local_path
from casework.scan.executors import POOL_MIN_BYTES, default_workers, run_dask, run_local
from casework.scan.merge import merge
from casework.scan.plan import Settings, chunk_for, plan
from casework.scan.task import ScanResult, ScanTask
from casework.store import Store

CASE_DB = "case.duckdb"


@dataclass(frozen=True, slots=True)
class Options:
    """How to read the bundle: the zone for naive timestamps, caps, redaction policy."""

    tz: str | None = None
    limits: Limits = field(default_factory=Limits)
    policy: RedactionPolicy = field(default_factory=RedactionPolicy)
    templates_state: Path | None = None
    #: Path prefix inside the bundle -> environment name (``--env-a``/``--env-b``); wins over inference.
    envs: tuple[tuple[str, str], ...] = ()
    #: Where the scan runs: ``local`` (a process pool) or ``dask``; ``workers`` 0 means all cores.
    executor: str = "local"
    workers: int = 0
    scheduler: str | None = None
    #: Large line-oriented files are cut into parts of about this many bytes for the scan
    #: (None: chosen from the bundle's size, ``scan.plan.chunk_for``).
    chunk_bytes: int | None = None
    #: Inputs smaller than this are scanned in this process: starting a pool would cost more.
    pool_min_bytes: int = POOL_MIN_BYTES
    #: fsspec options for a bundle URL (``--storage-option``): may hold credentials, never shown.
    storage: StorageOptions = field(default=(), repr=False)


class Progress:
    """Callbacks the CLI uses to show progress; the library stays silent."""

    def start(self, total_bytes: int) -> None:
        """Called once the bundle's members are known."""

    def file(self, name: str, size: int) -> None:
        """Called before each file is read."""

    def advance(self, done_bytes: int) -> None:
        """Called with the number of bytes of the current file read so far."""

    def done(self) -> None:
        """Called after the last file."""


def investigate(
    path: str | Path,
    out: str | Path,
    options: Options | None = None,
    *,
    progress: Progress | None = None,
    analyzers: list[Analyzer] | None = None,
) -> Investigation:
    """Investigate the bundle at ``path``, writing the case store and reports into ``out``.

    ``path`` is a local path or an fsspec URL (``s3://bucket/prefix/``), reached with ``options.storage``.
    """
    options = options or Options()
    progress = progress or Progress()
    started = time.perf_counter()
    source = local_path(path)  # None for a bundle in object storage
    zone = _zone(options.tz)
    out_dir = Path(out)
    _prepare_out(out_dir, source)
    case_path = out_dir / CASE_DB
    key = os.urandom(32)
    redactor = Redactor(key, options.policy)
    miner = (
        TemplateMiner.load(options.templates_state)
        if options.templates_state and options.templates_state.exists()
        else TemplateMiner()
    )
    store = Store(case_path)
    work = out_dir / ".work"
    with open_bundle(path, work / "bundle", options.limits, options.storage) as bundle:
        members = sorted(bundle.members(), key=lambda m: m.name)
        settings = Settings(
            key,
            options.policy,
            str(zone),
            options.tz is not None,
            work / "parts",
            options.chunk_bytes or chunk_for(sum(m.bytes for m in members)),
        )
        scan_plan = plan(members, settings, redactor)
        progress.start(sum(t.size if t.end is None else t.end - t.start for t in scan_plan.tasks))
        results = _run(scan_plan.tasks, options, progress)
        progress.done()
        read = time.perf_counter()
        merge(store, scan_plan, results, miner)
    inventory = list(scan_plan.entries.values())
    for entry in inventory:
        if entry.tz == "assumed":
            entry.tz = f"{zone} (assumed)"
    if options.tz is None:  # a zone the user chose is kept
        align(store.con, inventory)
    _write_inventory(store, inventory, dict(options.envs))
    if options.templates_state:
        miner.save(options.templates_state)
    store.close()
    shutil.rmtree(work, ignore_errors=True)
    merged = time.perf_counter()

    case = Case.open(str(case_path))
    try:
        findings, runs = run_analyzers(
            case, analyzers if analyzers is not None else load_analyzers()
        )
        window = case.window
        reported = description(case.con)
    finally:
        case.con.close()
    _write_runs(case_path, runs)
    redactions: Counter[str] = Counter()
    for entry in inventory:
        redactions.update(entry.redactions)
    result = Investigation(
        bundle=redactor.text(display(str(path))),
        out=out_dir,
        case_path=case_path,
        inventory=inventory,
        findings=rank(findings),
        runs=runs,
        window=window,
        tz=str(zone),
        tz_given=options.tz is not None,
        redactions=redactions,
        description=reported,
    )
    from casework.report import write_all

    now = time.perf_counter()
    result.seconds = now - started
    result.phases = {"read": read - started, "merge": merged - read, "analysis": now - merged}
    write_all(result)
    from casework.bugreport import write_bugreport

    write_bugreport(out_dir)  # bugreport.md for the top finding, from the files just written
    return result


def _run(tasks: list[ScanTask], options: Options, progress: Progress) -> list[ScanResult]:
    def done(task: ScanTask, result: ScanResult) -> None:
        progress.file(task.name, task.size if task.end is None else task.end - task.start)
        progress.advance(task.size if task.end is None else task.end - task.start)

    workers = options.workers or default_workers()
    if options.executor == "dask":
        return run_dask(tasks, options.scheduler, workers, done)
    return run_local(tasks, workers, done, options.pool_min_bytes)


def _zone(name: str | None) -> ZoneInfo:
    if name is None:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BundleError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC"
        ) from None


def _prepare_out(out_dir: Path, source: Path | None) -> None:
    if source is not None and not source.exists():
        raise BundleError("no such file or directory; check the path", file=str(source))
    if source is not None and (
        out_dir.resolve() == source.resolve() or source.resolve() in out_dir.resolve().parents
    ):
        # Writing inside the bundle would make the reports part of the next run's evidence.
        raise BundleError(
            "the output directory must not be inside the bundle; choose --out elsewhere"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CASE_DB).unlink(missing_ok=True)
    (out_dir / (CASE_DB + ".wal")).unlink(missing_ok=True)
    shutil.rmtree(out_dir / ".work", ignore_errors=True)


def _write_inventory(store: Store, inventory: list[FileEntry], envs: dict[str, str]) -> None:
    for e in inventory:
        store.add(
            "files",
            (
                e.path, e.kind, e.category, e.bytes, e.sha256, e.status,
                e.reason, e.records, e.first_ts, e.last_ts, e.tz, env_of(e.path, envs),
            ),
        )  # fmt: skip
        for kind, count in sorted(e.redactions.items()):
            store.add("redactions", (e.path, kind, count))
    store.flush()
    # Config rows were labelled by inference while reading; the files table has the final say.
    store.con.execute("UPDATE configs SET env = f.env FROM files f WHERE configs.file = f.path")


def _write_runs(case_path: Path, runs: list[AnalyzerRun]) -> None:
    store = Store(case_path)
    for r in runs:
        store.add("runs", (r.key, "analyzer", r.status, r.reason, r.seconds, r.findings))
    store.close()
