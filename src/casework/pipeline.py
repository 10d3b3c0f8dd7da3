"""The pipeline of ``investigate``: the whole flow from a bundle path to a case directory with reports.

open → sniff → parse → redact → store → analyze → rank → render, in one
direction. The CLI is a thin layer over :func:`investigate`.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casework.bundle import Bundle, Limits
from casework.case import Case
from casework.configs.envname import env_of
from casework.engine import Analyzer, AnalyzerRun, load_analyzers, run_analyzers
from casework.errors import BundleError
from casework.ingest import Ingest
from casework.inventory import FileEntry
from casework.investigation import Investigation
from casework.mining import TemplateMiner
from casework.rank import rank
from casework.redact import Redactor, RedactionPolicy
from casework.store import Store

CASE_DB = "case.duckdb"


@dataclass(frozen=True, slots=True)
class Options:
    """How to read the bundle: the zone for naive timestamps, caps, redaction policy."""

    tz: str | None = None
    limits: Limits = Limits()
    policy: RedactionPolicy = RedactionPolicy()
    templates_state: Path | None = None
    #: Path prefix inside the bundle -> environment name (``--env-a``/``--env-b``); wins over inference.
    envs: tuple[tuple[str, str], ...] = ()


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
    """Investigate the bundle at ``path``, writing the case store and reports into ``out``."""
    options = options or Options()
    progress = progress or Progress()
    started = time.perf_counter()
    source = Path(path)
    zone = _zone(options.tz)
    out_dir = Path(out)
    _prepare_out(out_dir, source)
    case_path = out_dir / CASE_DB
    redactor = Redactor(os.urandom(32), options.policy)
    miner = (
        TemplateMiner.load(options.templates_state)
        if options.templates_state and options.templates_state.exists()
        else TemplateMiner()
    )
    store = Store(case_path)
    with Bundle(source, out_dir / ".work", options.limits) as bundle:
        members = sorted(bundle.members(), key=lambda m: m.name)
        ingest = Ingest(store, redactor, miner, tz=zone, tz_given=options.tz is not None)
        progress.start(sum(m.bytes for m in members))
        for member in members:
            progress.file(member.name, member.bytes)
            ingest.add(member, progress.advance)
        progress.done()
    _finish_templates(store, miner)
    _write_inventory(store, ingest.inventory, dict(options.envs))
    if options.templates_state:
        miner.save(options.templates_state)
    store.close()

    case = Case.open(str(case_path))
    try:
        findings, runs = run_analyzers(case, analyzers if analyzers is not None else load_analyzers())
        window = case.window
    finally:
        case.con.close()
    _write_runs(case_path, runs)
    redactions: Counter[str] = Counter()
    for entry in ingest.inventory:
        redactions.update(entry.redactions)
    result = Investigation(
        bundle=redactor.text(str(source)),
        out=out_dir,
        case_path=case_path,
        inventory=ingest.inventory,
        findings=rank(findings),
        runs=runs,
        window=window,
        tz=str(zone),
        tz_given=options.tz is not None,
        redactions=redactions,
    )
    from casework.report import write_all

    result.seconds = time.perf_counter() - started
    write_all(result)
    from casework.bugreport import write_bugreport

    write_bugreport(out_dir)  # bugreport.md for the top finding, from the files just written
    return result


def _zone(name: str | None) -> ZoneInfo:
    if name is None:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BundleError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC"
        ) from None


def _prepare_out(out_dir: Path, source: Path) -> None:
    if not source.exists():
        raise BundleError("no such file or directory; check the path", file=str(source))
    if out_dir.resolve() == source.resolve() or source.resolve() in out_dir.resolve().parents:
        # Writing inside the bundle would make the reports part of the next run's evidence.
        raise BundleError("the output directory must not be inside the bundle; choose --out elsewhere")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CASE_DB).unlink(missing_ok=True)
    (out_dir / (CASE_DB + ".wal")).unlink(missing_ok=True)
    shutil.rmtree(out_dir / ".work", ignore_errors=True)


def _finish_templates(store: Store, miner: TemplateMiner) -> None:
    """Map each event's cluster to its final template id, and fill the templates table."""
    store.flush()
    clusters = store.con.execute(
        "SELECT DISTINCT template_id FROM events WHERE template_id LIKE 'c%'"
    ).fetchall()
    mapping = []
    for (cid,) in clusters:
        template = miner.template(int(cid[1:]))
        mapping.append((cid, template.id, template.text))
    if not mapping:
        return
    store.con.execute("CREATE TEMP TABLE cluster_map (cid VARCHAR, tid VARCHAR, pattern VARCHAR)")
    store.con.executemany("INSERT INTO cluster_map VALUES (?, ?, ?)", mapping)
    store.con.execute(
        "UPDATE events SET template_id = m.tid FROM cluster_map m WHERE events.template_id = m.cid"
    )
    store.con.execute(
        """
        INSERT INTO templates
        SELECT e.template_id, any_value(m.pattern), mode(e.level), count(*), min(e.ts), max(e.ts), NULL
        FROM events e JOIN (SELECT DISTINCT tid, pattern FROM cluster_map) m ON e.template_id = m.tid
        GROUP BY e.template_id
        """
    )
    store.con.execute("DROP TABLE cluster_map")


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

