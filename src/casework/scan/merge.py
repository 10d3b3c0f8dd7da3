"""Merging scan results into the case store, in task order: templates unified, line numbers restored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from casework.inventory import FileEntry
from casework.mining import TemplateMiner
from casework.scan.aggregates import GLOBAL_TEMPLATE_SQL, MERGES, load
from casework.scan.plan import Plan
from casework.scan.task import TASK_OF_PART, ScanResult
from casework.store import SCHEMA, Store

_LINE_COLUMNS = ("line", "end_line")


def merge(store: Store, plan: Plan, results: list[ScanResult], miner: TemplateMiner) -> None:
    """Load every task's parts into ``store`` and fill the inventory entries of ``plan``.

    Each task's local templates are fed to ``miner`` in task order, so the same
    template gets the same id whichever worker saw it first.
    """
    known_before = {t.id for t in miner.templates()}
    local = [[(cid, miner.add(text)) for cid, text in r.templates] for r in results]
    # Lists indexed by task index (SQL lists count from 1, hence the +1 in the lookups).
    size = max((r.index for r in results), default=-1) + 1
    base, offsets = [0] * size, [0] * size
    tids: list[str | None] = []
    patterns: dict[str, str] = {}
    # Global ids are read after every task's templates are in: a later task can widen a template.
    for result, clusters in zip(results, local, strict=True):
        base[result.index] = len(tids)
        row: list[str | None] = [None] * (max((cid for cid, _ in clusters), default=-1) + 1)
        for cid, g in clusters:
            template = miner.template(g)
            row[cid] = template.id
            patterns[template.id] = template.text
        tids.extend(row)
    seen: Counter[str] = Counter()
    for result in results:
        offsets[result.index] = seen[result.file]
        seen[result.file] += result.lines
    for table in SCHEMA:
        if table not in MERGES:
            _insert(store, table, results, offsets, base, tids)
    load(store.con, [r.out for r in results], offsets, base, tids)
    _fill_templates(store, patterns, known_before)
    _inventory(plan, results)


def _insert(
    store: Store,
    table: str,
    results: list[ScanResult],
    offsets: list[int],
    base: list[int],
    tids: list[str | None],
) -> None:
    """One INSERT per table over every task's part, in task order.

    One statement lets DuckDB read the parts in parallel and write full row groups
    (one per part took twice as long and made a case file twice the size). Line
    offsets and template ids are looked up by task index in list parameters, not
    joined: a join would not keep the rows in task order.
    """
    parts = [(Path(r.out) / f"{table}.parquet").as_posix() for r in results]
    parts = [p for p in parts if Path(p).exists()]
    if not parts:
        return
    select = []
    for name, _, _ in SCHEMA[table]:
        if name in _LINE_COLUMNS:
            select.append(f'p."{name}" + $offsets[p.task + 1]')
        elif table == "events" and name == "template_id":
            # Workers write a task-local cluster as "c<n>"; the merged id sits at base[task] + n.
            select.append(GLOBAL_TEMPLATE_SQL)
        else:
            select.append(f'p."{name}"')
    args: dict[str, object] = {"parts": parts}
    if any(name in _LINE_COLUMNS for name, _, _ in SCHEMA[table]):
        args["offsets"] = offsets
    if table == "events":
        args |= {"tids": tids, "base": base}
    store.con.execute(
        f"INSERT INTO {table} SELECT {', '.join(select)} FROM "
        f"(SELECT *, {TASK_OF_PART} AS task FROM read_parquet($parts, filename=true)) p",
        args,
    )


def _fill_templates(store: Store, patterns: dict[str, str], known_before: set[str]) -> None:
    con = store.con
    con.execute("CREATE TEMP TABLE tmap (tid VARCHAR, pattern VARCHAR)")
    if patterns:
        con.executemany("INSERT INTO tmap VALUES (?, ?)", sorted(patterns.items()))
    # From the event counts, not the events: the level a template's events have most often
    # (ties to the first level by name), how many there are, first and last seen.
    con.execute(
        """
        INSERT INTO templates
        SELECT c.template_id, any_value(m.pattern),
            arg_max(c.level, (c.n, -rank)) FILTER (WHERE c.level IS NOT NULL),
            sum(c.n), min(c.first_ts), max(c.last_ts), NULL
        FROM (
            SELECT template_id, level, sum(n) AS n, min(first_ts) AS first_ts,
                max(last_ts) AS last_ts, dense_rank() OVER (ORDER BY level) AS rank
            FROM event_counts GROUP BY template_id, level
        ) c JOIN tmap m ON c.template_id = m.tid
        GROUP BY c.template_id
        """
    )
    con.execute("DROP TABLE tmap")
    if known_before:
        con.execute("CREATE TEMP TABLE known (tid VARCHAR)")
        con.executemany("INSERT INTO known VALUES (?)", [(t,) for t in sorted(known_before)])
        con.execute("UPDATE templates SET new = template_id NOT IN (SELECT tid FROM known)")
        con.execute("DROP TABLE known")


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
