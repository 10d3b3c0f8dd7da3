"""A scan task's mergeable aggregates (event counts, latency sketches, samples) and their merge.

A worker writes them next to its task's Parquet parts, computed from those
parts, so analyzers can read merged aggregates instead of raw rows once the
rows outgrow one machine. Each merges by addition (counts, sketch bins), a
min/max, or a first-k in task order, so the case store gets the same rows
whichever executor ran the tasks and however the files were cut. A task whose
aggregate step failed has its aggregates computed by the merge from its parts,
with the same SQL.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

from casework.case import ROUTE_SQL
from casework.scan.task import TASK_OF_PART
from casework.sketch import bin_sql
from casework.store import SCHEMA

#: The events of each template kept as evidence, per task and in the case store.
SAMPLES = 3

#: A task's template label ("c<n>", local to the task) as the case store's template id, in a
#: row ``p`` with its ``task`` index; ``$base`` and ``$tids`` are made by ``merge.merge``.
GLOBAL_TEMPLATE_SQL = "$tids[$base[p.task + 1] + CAST(p.template_id[2:] AS INTEGER) + 1]"


#: part file -> (row table whose part it is made from, SQL over ``src``: that part plus
#: ``seq``, each row's position in it).
AGGREGATES: dict[str, tuple[str, str]] = {
    # One row per (file, second, template, level): what happened when, how often.
    "event_counts": (
        "events",
        """
        SELECT file, time_bucket(INTERVAL 1 SECOND, ts) AS second, template_id, level,
            count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts
        FROM src GROUP BY ALL
        """,
    ),
    # A relative-error sketch of durations (casework.sketch) per (file, hour, method, route,
    # status); the route as analyzers group requests (``ROUTE_SQL``: the URL's path or the host
    # when a request has no route), so the sketch answers what they ask without the rows.
    "latency_bins": (
        "requests",
        f"""
        SELECT file, time_bucket(INTERVAL 1 HOUR, ts) AS hour, method, {ROUTE_SQL} AS route,
            status,
            {bin_sql("duration_ms")} AS bin, count(*) AS n
        FROM src GROUP BY ALL
        """,
    ),
    # The first events of each template in the order they were written (the file's order).
    "samples": (
        "events",
        f"""
        SELECT template_id, unnest(first, recursive := true) FROM (
            -- a top-k per template: a third of the time of a window over every event
            SELECT template_id,
                unnest(min_by({{'file': file, 'line': line, 'seq': seq}}, seq, {SAMPLES})) AS first
            FROM src WHERE template_id IS NOT NULL GROUP BY template_id
        )
        """,
    ),
}

#: case store table -> (part file, its merge: SQL over ``p``, every task's part with ``task``).
MERGES: dict[str, tuple[str, str]] = {
    "event_counts": (
        "event_counts",
        f"""
        SELECT file, second, template_id, level, sum(n), min(first_ts), max(last_ts) FROM (
            SELECT p.file, p.second, {GLOBAL_TEMPLATE_SQL} AS template_id, p.level, p.n,
                p.first_ts, p.last_ts
            FROM p
        ) GROUP BY ALL ORDER BY file, second, template_id, level
        """,
    ),
    "latency_bins": (
        "latency_bins",
        """
        SELECT file, hour, method, route, status, bin, sum(n) FROM p
        GROUP BY ALL ORDER BY file, hour, method, route, status, bin
        """,
    ),
    "template_samples": (
        "samples",
        f"""
        SELECT template_id, file, line FROM (
            SELECT {GLOBAL_TEMPLATE_SQL} AS template_id, p.file, p.line + $offsets[p.task + 1] AS line,
                p.task, p.seq
            FROM p
        )
        QUALIFY row_number() OVER (PARTITION BY template_id ORDER BY task, seq) <= {SAMPLES}
        ORDER BY template_id, task, seq
        """,
    ),
}


def aggregate(out: Path) -> None:
    """Write the aggregates of the parts in task directory ``out`` (those whose part exists)."""
    # One thread: the scan already runs one task per core.
    con = duckdb.connect(config={"threads": 1, "memory_limit": "512MB"})
    try:
        con.execute("SET enable_progress_bar = false")
        for name in AGGREGATES:
            write(con, out, name)
    finally:
        con.close()


def write(con: duckdb.DuckDBPyConnection, out: Path, name: str) -> None:
    """Write aggregate ``name`` of task directory ``out`` with ``con``, if its source part exists.

    The file appears under its final name only once complete: a failure leaves
    it absent, never half-written, and the merge computes it again.
    """
    table, sql = AGGREGATES[name]
    part = out / f"{table}.parquet"
    if not part.exists():
        return
    partial = out / f"{name}.parquet.partial"
    source = (
        f"SELECT *, file_row_number AS seq FROM read_parquet({_quoted(part)}, file_row_number=true)"
    )
    con.execute(f"COPY (WITH src AS ({source}) {sql}) TO {_quoted(partial)} (FORMAT parquet)")
    os.replace(partial, out / f"{name}.parquet")


def load(
    con: duckdb.DuckDBPyConnection,
    outs: Sequence[str],
    offsets: list[int],
    base: list[int],
    tids: list[str | None],
) -> None:
    """Merge the aggregates of the tasks writing into ``outs`` into the case store, one INSERT each.

    A task whose aggregate is missing while its source part exists (its
    aggregate step failed) gets it computed here first, so no row goes uncounted.
    """
    for name in AGGREGATES:
        for out in outs:
            if not (Path(out) / f"{name}.parquet").exists():
                write(con, Path(out), name)
    for table, (name, sql) in MERGES.items():
        parts = [(Path(o) / f"{name}.parquet").as_posix() for o in outs]
        parts = [p for p in parts if Path(p).exists()]
        if not parts:
            continue
        used = {
            k: v
            for k, v in (("offsets", offsets), ("base", base), ("tids", tids))
            if f"${k}" in sql
        }
        con.execute(
            f"INSERT INTO {table} WITH p AS (SELECT *, {TASK_OF_PART} AS task"
            f" FROM read_parquet($parts, filename=true)) {sql}",
            {"parts": parts} | used,
        )


def from_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Make a case store's aggregates again from its own rows (a store written row by row, as
    tests and tools do, rather than merged from a scan), with the same SQL."""
    for table, (name, _) in MERGES.items():
        source, sql = AGGREGATES[name]
        columns = ", ".join(f'"{c}"' for c, _, _ in SCHEMA[table])
        con.execute(f"DELETE FROM {table}")
        con.execute(
            f"INSERT INTO {table} WITH src AS (SELECT *, rowid AS seq FROM {source})"
            f" SELECT {columns} FROM ({sql}) ORDER BY ALL"
        )


def _quoted(path: Path) -> str:
    # COPY takes no parameters; the task directories are named by casework, never by a bundle.
    return "'" + path.as_posix().replace("'", "''") + "'"
