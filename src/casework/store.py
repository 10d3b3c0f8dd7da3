"""The case store: one DuckDB file per case, its schema, and a batched writer.

Rows arrive from the ingest step already redacted. They are buffered per
table and inserted as Arrow batches, which is far faster than row inserts.
Timestamps are stored as ``TIMESTAMPTZ`` in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

_TS = pa.timestamp("us", tz="UTC")

#: table -> ordered (column, DuckDB type, Arrow type). The single source of the schema.
SCHEMA: dict[str, tuple[tuple[str, str, pa.DataType], ...]] = {
    "files": (
        ("path", "VARCHAR", pa.string()),
        ("kind", "VARCHAR", pa.string()),
        ("category", "VARCHAR", pa.string()),
        ("bytes", "BIGINT", pa.int64()),
        ("sha256", "VARCHAR", pa.string()),
        ("status", "VARCHAR", pa.string()),
        ("reason", "VARCHAR", pa.string()),
        ("records", "BIGINT", pa.int64()),
        ("first_ts", "TIMESTAMPTZ", _TS),
        ("last_ts", "TIMESTAMPTZ", _TS),
        ("tz", "VARCHAR", pa.string()),
        ("env", "VARCHAR", pa.string()),
    ),
    "events": (
        ("file", "VARCHAR", pa.string()),
        ("line", "INTEGER", pa.int32()),
        ("end_line", "INTEGER", pa.int32()),
        ("ts", "TIMESTAMPTZ", _TS),
        ("level", "VARCHAR", pa.string()),
        ("service", "VARCHAR", pa.string()),
        ("logger", "VARCHAR", pa.string()),
        ("message", "VARCHAR", pa.string()),
        ("template_id", "VARCHAR", pa.string()),
        ("attrs", "JSON", pa.string()),
    ),
    "templates": (
        ("template_id", "VARCHAR", pa.string()),
        ("pattern", "VARCHAR", pa.string()),
        ("level", "VARCHAR", pa.string()),
        ("count", "BIGINT", pa.int64()),
        ("first_ts", "TIMESTAMPTZ", _TS),
        ("last_ts", "TIMESTAMPTZ", _TS),
        ("new", "BOOLEAN", pa.bool_()),
    ),
    "requests": (
        ("ts", "TIMESTAMPTZ", _TS),
        ("source", "VARCHAR", pa.string()),
        ("file", "VARCHAR", pa.string()),
        ("line", "INTEGER", pa.int32()),
        ("method", "VARCHAR", pa.string()),
        ("host", "VARCHAR", pa.string()),
        ("route", "VARCHAR", pa.string()),
        ("url", "VARCHAR", pa.string()),
        ("status", "INTEGER", pa.int32()),
        ("duration_ms", "DOUBLE", pa.float64()),
        ("bytes", "BIGINT", pa.int64()),
        ("client", "VARCHAR", pa.string()),
        ("attrs", "JSON", pa.string()),
    ),
    "changes": (
        ("ts", "TIMESTAMPTZ", _TS),
        ("kind", "VARCHAR", pa.string()),
        ("what", "VARCHAR", pa.string()),
        ("version", "VARCHAR", pa.string()),
        ("source", "VARCHAR", pa.string()),
        ("line", "INTEGER", pa.int32()),
        ("attrs", "JSON", pa.string()),
    ),
    "spans": (
        ("trace_id", "VARCHAR", pa.string()),
        ("span_id", "VARCHAR", pa.string()),
        ("parent_id", "VARCHAR", pa.string()),
        ("service", "VARCHAR", pa.string()),
        ("name", "VARCHAR", pa.string()),
        ("kind", "VARCHAR", pa.string()),
        ("start", "TIMESTAMPTZ", _TS),
        ("duration_ms", "DOUBLE", pa.float64()),
        ("status", "VARCHAR", pa.string()),
        ("error", "BOOLEAN", pa.bool_()),
        ("file", "VARCHAR", pa.string()),
        ("attrs", "JSON", pa.string()),
    ),
    "flows": (
        ("file", "VARCHAR", pa.string()),
        ("proto", "VARCHAR", pa.string()),
        ("src", "VARCHAR", pa.string()),
        ("sport", "INTEGER", pa.int32()),
        ("dst", "VARCHAR", pa.string()),
        ("dport", "INTEGER", pa.int32()),
        ("start", "TIMESTAMPTZ", _TS),
        ("end", "TIMESTAMPTZ", _TS),
        ("packets", "BIGINT", pa.int64()),
        ("bytes", "BIGINT", pa.int64()),
        ("attrs", "JSON", pa.string()),
    ),
    "plans": (
        ("plan_id", "VARCHAR", pa.string()),
        ("node_id", "INTEGER", pa.int32()),
        ("parent", "INTEGER", pa.int32()),
        ("node_type", "VARCHAR", pa.string()),
        ("relation", "VARCHAR", pa.string()),
        ("est_rows", "DOUBLE", pa.float64()),
        ("actual_rows", "DOUBLE", pa.float64()),
        ("loops", "DOUBLE", pa.float64()),
        ("total_ms", "DOUBLE", pa.float64()),
        ("file", "VARCHAR", pa.string()),
        ("attrs", "JSON", pa.string()),
    ),
    "configs": (
        ("env", "VARCHAR", pa.string()),
        ("file", "VARCHAR", pa.string()),
        ("key", "VARCHAR", pa.string()),
        ("value", "VARCHAR", pa.string()),
        ("line", "INTEGER", pa.int32()),
    ),
    "k8s": (
        ("ts", "TIMESTAMPTZ", _TS),
        ("object", "VARCHAR", pa.string()),
        ("reason", "VARCHAR", pa.string()),
        ("message", "VARCHAR", pa.string()),
        ("count", "INTEGER", pa.int32()),
        ("container", "VARCHAR", pa.string()),
        ("file", "VARCHAR", pa.string()),
        ("line", "INTEGER", pa.int32()),
        ("attrs", "JSON", pa.string()),
    ),
    # The case description (``case.md``, a pasted ticket), redacted.
    "notes": (
        ("file", "VARCHAR", pa.string()),
        ("text", "VARCHAR", pa.string()),
    ),
    # The scan's mergeable aggregates (casework.scan.aggregates), loaded by the merge in one
    # statement each and never written row by row.
    # Events per cell: ``second`` is ``ts`` cut to its whole UTC second (NULL: no ts), ``n`` the
    # events in the cell, ``first_ts``/``last_ts`` the exact extremes of their ts.
    "event_counts": (
        ("file", "VARCHAR", pa.string()),
        ("second", "TIMESTAMPTZ", _TS),
        ("template_id", "VARCHAR", pa.string()),
        ("level", "VARCHAR", pa.string()),
        ("n", "BIGINT", pa.int64()),
        ("first_ts", "TIMESTAMPTZ", _TS),
        ("last_ts", "TIMESTAMPTZ", _TS),
    ),
    # Request durations as a relative-error sketch (casework.sketch) per (file, UTC hour,
    # method, route, status): ``n`` requests fell in ``bin``; a NULL bin counts those without
    # a duration, so request counts per cell are exact. An hour, not a minute: in the 10 GB,
    # 180-day benchmark a minute held about one request per route and bin (67M cells for 77M
    # requests); an hour holds seven (10.5M).
    "latency_bins": (
        ("file", "VARCHAR", pa.string()),
        ("hour", "TIMESTAMPTZ", _TS),
        ("method", "VARCHAR", pa.string()),
        ("route", "VARCHAR", pa.string()),
        ("status", "INTEGER", pa.int32()),
        ("bin", "INTEGER", pa.int32()),
        ("n", "BIGINT", pa.int64()),
    ),
    # Evidence per template: its first events (at most 3) in bundle order, as (file, line) of events.
    "template_samples": (
        ("template_id", "VARCHAR", pa.string()),
        ("file", "VARCHAR", pa.string()),
        ("line", "INTEGER", pa.int32()),
    ),
    "redactions": (
        ("file", "VARCHAR", pa.string()),
        ("kind", "VARCHAR", pa.string()),
        ("count", "BIGINT", pa.int64()),
    ),
    "runs": (
        ("component", "VARCHAR", pa.string()),
        ("kind", "VARCHAR", pa.string()),
        ("status", "VARCHAR", pa.string()),
        ("reason", "VARCHAR", pa.string()),
        ("seconds", "DOUBLE", pa.float64()),
        ("findings", "INTEGER", pa.int32()),
    ),
}

_ARROW = {
    table: pa.schema([(name, arrow) for name, _, arrow in cols]) for table, cols in SCHEMA.items()
}
_JSON_COLUMNS = {
    table: {i for i, (_, duck, _) in enumerate(cols) if duck == "JSON"}
    for table, cols in SCHEMA.items()
}


def _column_type(duck: str) -> str:
    """A column's type as created. JSON columns are zstd-compressed: their text is unique per
    row, so DuckDB's default analysis of every string compression for them is wasted work. On
    the ingest benchmark it saves a fifth of the merge and 40% of the case file."""
    return f"{duck} USING COMPRESSION zstd" if duck == "JSON" else duck


def to_json_text(value: Any) -> str:
    """Serialize an attribute mapping for a JSON column (non-JSON values become strings)."""
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _array(values: Sequence[Any], column: pa.Field, json: bool) -> pa.Array:
    try:
        return pa.array(values, type=column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if not json:
            raise
    # a JSON column given mappings (most writers hand it JSON text already)
    return pa.array(
        [v if v is None or isinstance(v, str) else to_json_text(v) for v in values],
        type=column.type,
    )


class RowBuffer:
    """Rows appended per table in schema order, written out in Arrow batches by a subclass."""

    BATCH_ROWS: ClassVar[int] = 50_000

    def __init__(self) -> None:
        self._rows: dict[str, list[Sequence[Any]]] = {t: [] for t in SCHEMA}

    def add(self, table: str, row: Sequence[Any]) -> None:
        """Append one row (values in schema order); JSON columns take dicts or JSON text."""
        self.extend(table, (row,))

    def extend(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Append rows, as ``add`` does one."""
        held = self._rows[table]
        held.extend(rows)
        if len(held) >= self.BATCH_ROWS:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        """Write buffered rows of one table (or all tables)."""
        for name in [table] if table else list(SCHEMA):
            rows = self._rows[name]
            if not rows:
                continue
            self._rows[name] = []
            columns = list(zip(*rows, strict=True))
            batch = pa.Table.from_arrays(
                [
                    _array(col, f, i in _JSON_COLUMNS[name])
                    for i, (col, f) in enumerate(zip(columns, _ARROW[name], strict=True))
                ],
                schema=_ARROW[name],
            )
            self.write(name, batch)

    def write(self, table: str, batch: pa.Table) -> None:
        raise NotImplementedError


#: DuckDB's memory cap in every connection casework opens: the coordinating process stays
#: small whatever the bundle's size (DuckDB spills to ``<case>.duckdb.tmp`` beyond it).
MEMORY_LIMIT = "1GB"


def open_read_only(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a case database, under the memory cap."""
    return _quiet(duckdb.connect(str(path), read_only=True, config={"memory_limit": MEMORY_LIMIT}))


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # DuckDB's own progress bar would print into the terminal between casework's lines.
    con.execute("SET enable_progress_bar = false")
    return con


class Store(RowBuffer):
    """A case database opened for writing: create the schema, then append rows in batches."""

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self.con = _quiet(duckdb.connect(str(self.path), config={"memory_limit": MEMORY_LIMIT}))
        self._summarize = False
        for table, cols in SCHEMA.items():
            body = ", ".join(f'"{name}" {_column_type(duck)}' for name, duck, _ in cols)
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")

    def write(self, table: str, batch: pa.Table) -> None:
        """Insert an Arrow table whose columns follow the schema of ``table``."""
        self._summarize = self._summarize or table in ("events", "requests")
        self.con.register("_casework_batch", batch)
        try:
            self.con.execute(f"INSERT INTO {table} SELECT * FROM _casework_batch")
        finally:
            self.con.unregister("_casework_batch")

    def close(self) -> None:
        """Write what is held; rows written here (not merged from a scan) get their aggregates."""
        self.flush()
        if self._summarize:
            # Imported here: the aggregates' SQL reads this module's schema.
            from casework.scan.aggregates import from_rows

            from_rows(self.con)
        self.con.close()


class PartWriter(RowBuffer):
    """Rows of one scan task written as Parquet files, one per table, for the coordinator to load."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}

    def write(self, table: str, batch: pa.Table) -> None:
        writer = self._writers.get(table)
        if writer is None:
            # No dictionary pages: with snappy the parts come out the same size, written in
            # 60% of the time (the parts are read once, by the merge).
            writer = pq.ParquetWriter(
                self.directory / f"{table}.parquet", _ARROW[table], use_dictionary=False
            )
            self._writers[table] = writer
        writer.write_table(batch)

    def tables(self) -> list[str]:
        return sorted(self._writers)

    def close(self) -> None:
        self.flush()
        for writer in self._writers.values():
            writer.close()
