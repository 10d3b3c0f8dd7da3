"""Merging scan results into the case store, in task order: templates unified, line numbers restored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from casework.inventory import FileEntry
from casework.mining import TemplateMiner
from casework.scan.plan import Plan
from casework.scan.task import ScanResult
from casework.store import SCHEMA, Store

_LINE_COLUMNS = ("line", "end_line")


def merge(store: Store, plan: Plan, results: list[ScanResult], miner: TemplateMiner) -> None:
    """Load every task's parts into ``store`` and fill the inventory entries of ``plan``.

    Each task's local templates are fed to ``miner`` in task order, so the same
    template gets the same id whichever worker saw it first.
    """
    known_before = {t.id for t in miner.templates()}
    mapping: list[tuple[int, str, int]] = []
    for result in results:
        for cid, text in result.templates:
            mapping.append((result.index, f"c{cid}", miner.add(text)))
    con = store.con
    con.execute("CREATE TEMP TABLE tmap (idx INTEGER, cid VARCHAR, tid VARCHAR, pattern VARCHAR)")
    rows = [(idx, cid, miner.template(g).id, miner.template(g).text) for idx, cid, g in mapping]
    if rows:
        con.executemany("INSERT INTO tmap VALUES (?, ?, ?, ?)", rows)
    offsets: Counter[str] = Counter()
    for result in results:
        _insert(store, result, offsets[result.file])
        offsets[result.file] += result.lines
    _fill_templates(store, known_before)
    con.execute("DROP TABLE tmap")
    _inventory(plan, results)


def _insert(store: Store, result: ScanResult, offset: int) -> None:
    for part in sorted(Path(result.out).glob("*.parquet")):
        table = part.stem
        names = [name for name, _, _ in SCHEMA[table]]
        select = []
        for name in names:
            if name in _LINE_COLUMNS:
                select.append(f'p."{name}" + {int(offset)}')
            elif table == "events" and name == "template_id":
                select.append("coalesce(m.tid, p.template_id)")
            else:
                select.append(f'p."{name}"')
        join = (
            f" LEFT JOIN tmap m ON m.idx = {int(result.index)} AND m.cid = p.template_id"
            if table == "events"
            else ""
        )
        store.con.execute(
            f"INSERT INTO {table} SELECT {', '.join(select)} FROM read_parquet(?) p{join}",
            [str(part)],
        )


def _fill_templates(store: Store, known_before: set[str]) -> None:
    store.con.execute(
        """
        INSERT INTO templates
        SELECT e.template_id, any_value(m.pattern), mode(e.level), count(*), min(e.ts), max(e.ts), NULL
        FROM events e JOIN (SELECT DISTINCT tid, pattern FROM tmap) m ON e.template_id = m.tid
        GROUP BY e.template_id
        """
    )
    if known_before:
        store.con.execute("CREATE TEMP TABLE known (tid VARCHAR)")
        store.con.executemany("INSERT INTO known VALUES (?)", [(t,) for t in sorted(known_before)])
        store.con.execute("UPDATE templates SET new = template_id NOT IN (SELECT tid FROM known)")
        store.con.execute("DROP TABLE known")


def _inventory(plan: Plan, results: list[ScanResult]) -> None:
    by_file: dict[str, list[ScanResult]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    for file, parts in by_file.items():
        entry = plan.entries[file]
        _fill(entry, parts)


def _fill(entry: FileEntry, parts: list[ScanResult]) -> None:
    entry.records = sum(p.records for p in parts)
    firsts = [p.first_ts for p in parts if p.first_ts is not None]
    lasts = [p.last_ts for p in parts if p.last_ts is not None]
    entry.first_ts = min(firsts) if firsts else None
    entry.last_ts = max(lasts) if lasts else None
    entry.seconds = sum(p.seconds for p in parts)
    for p in parts:
        entry.redactions.update(p.redactions)
    stopped = [p.stopped for p in parts if p.stopped]
    bad = sum(p.bad_records for p in parts)
    truncated = sum(p.truncated_lines for p in parts)
    problems: list[str] = list(dict.fromkeys(stopped))
    if bad:
        first = next((p.first_problem for p in parts if p.first_problem), "")
        problems.append(f"{bad} records not parsed (first: {first})")
    if truncated:
        problems.append(f"{truncated} lines longer than 1 MiB were cut")
    problems.extend(dict.fromkeys(n for p in parts for n in p.notes))
    entry.reason = "; ".join(problems)
    if entry.records == 0 and (stopped or bad):
        entry.status = "skipped"
    else:
        entry.status = "partial" if (stopped or bad) else "parsed"
    if entry.first_ts is not None:
        entry.tz = "assumed" if any(p.assumed for p in parts) else "from the file"
