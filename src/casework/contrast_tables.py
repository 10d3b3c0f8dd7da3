"""The contrast engine's work tables: the sampled population and one row per record, key and value.

``_cw_pop`` holds id, fail, weight and the compared columns of the source,
sampled when large (every failing record up to half the sample); ``_cw_long``
holds (id, fail, w, k, v) for every plain column, the record time and every
key of the JSON attributes, with the outcome columns alongside.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from casework.contrast_terms import COLUMN_PREFIX, TIME_KEY

#: Rows examined; above this the population is sampled (all failing rows kept).
SAMPLE_ROWS = 24_000
#: A key on this share of ``symptom_of`` records and at most that share of the others is a symptom.
SYMPTOM_SHARE = 0.2
SYMPTOM_ELSEWHERE = 0.01
#: Keys of ``attrs`` compared at most (the most common).
MAX_KEYS = 400


@dataclass(frozen=True, slots=True)
class TableRows:
    """The rows of one stored table where ``where`` holds, as a contrast's source.

    Sampled by row id: the rows left out are never read past the columns of
    ``where`` and the failing condition (a hash of whole rows read every
    record's ``attrs``, 8.5 s for 38M requests at 10 GB).
    """

    table: str
    where: str

    def sql(self) -> str:
        return f"SELECT * FROM {self.table} WHERE {self.where}"


def population(
    con: duckdb.DuckDBPyConnection,
    source: str | TableRows,
    failing: str,
    columns: Sequence[str],
    attrs: str | None,
    time_column: str | None,
    symptom_of: str | None,
) -> str:
    """A temp table: id, fail, weight, and the compared columns, sampled when large.

    The counts read only the outcome's columns; the sample is one pass over the
    source: each stratum (failing, not failing) keeps a row when a hash of the
    row falls under its rate, so the wide columns (``attrs``) are read once.
    The weights make each stratum sum to its true count.
    """
    cols = [*columns, *([attrs] if attrs else []), *([time_column] if time_column else [])]
    picked = ", ".join(f'"{c}"' for c in dict.fromkeys(cols))
    bad = f"coalesce(({symptom_of}), FALSE)" if symptom_of else "FALSE"
    fail = f"coalesce(({failing}), FALSE)"
    rows = source.sql() if isinstance(source, TableRows) else source
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {fail}) FROM ({rows}) _s"
    ).fetchone()
    n, nf = (int(row[0]), int(row[1])) if row else (0, 0)
    keep_fail = min(nf, SAMPLE_ROWS // 2)
    keep_ok = min(n - nf, SAMPLE_ROWS - keep_fail)
    # A hash of the row (or of its row id), not random(): the case store's findings are the
    # same on every run.
    buckets = 1 << 30
    cut_fail = math.ceil(buckets * keep_fail / nf) if nf else 0
    cut_ok = math.ceil(buckets * keep_ok / (n - nf)) if n > nf else 0
    if isinstance(source, TableRows):
        rows = (
            f"SELECT * FROM {source.table} WHERE rowid IN (SELECT rowid FROM {source.table}"
            f" WHERE ({source.where}) AND hash(rowid) % {buckets}"
            f" < CASE WHEN {fail} THEN {cut_fail} ELSE {cut_ok} END)"
        )
        sampled = "TRUE"
    else:
        sampled = f"hash(_f) % {buckets} < CASE WHEN fail THEN {cut_fail} ELSE {cut_ok} END"
    flagged = (
        f"SELECT {fail} AS fail, {bad} AS bad{', ' + picked if picked else ''} FROM ({rows}) _s"
    )
    # Weights are multiples of 1/1024, so every sum of them is exact in a double whatever
    # order parallel threads add them in: a finding's numbers are the same on every run.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cw_pop AS SELECT row_number() OVER () AS id, *,"
        f" round(1024.0 * CASE WHEN fail THEN {nf} ELSE {n - nf} END"
        " / count(*) OVER (PARTITION BY fail)) / 1024 AS w"
        f" FROM ({flagged}) _f WHERE {sampled}"
    )
    return "_cw_pop"


def drop_symptoms(con: duckdb.DuckDBPyConnection) -> None:
    """Drop keys that records where ``symptom_of`` holds carry and the others almost never do."""
    con.execute(
        "DELETE FROM _cw_long WHERE k IN (SELECT l.k FROM _cw_long l JOIN _cw_pop p USING (id)"
        " GROUP BY l.k HAVING"
        " sum(l.w) FILTER (WHERE p.bad) >= ? * (SELECT sum(w) FILTER (WHERE bad) FROM _cw_pop)"
        " AND coalesce(sum(l.w) FILTER (WHERE NOT p.bad), 0)"
        " <= ? * (SELECT sum(w) FILTER (WHERE NOT bad) FROM _cw_pop))",
        [SYMPTOM_SHARE, SYMPTOM_ELSEWHERE],
    )


def long_table(
    con: duckdb.DuckDBPyConnection,
    pop: str,
    columns: Sequence[str],
    attrs: str | None,
    time_column: str | None,
    exclude: set[str],
    outcome: Sequence[str],
) -> None:
    """One row per (record, key, value); the outcome columns ride along to spot mirrors."""
    extra = "".join(f', CAST("{c}" AS VARCHAR) AS o{i}' for i, c in enumerate(outcome))
    parts = [
        f"SELECT id, fail, w, '{COLUMN_PREFIX}{c}' AS k, CAST(\"{c}\" AS VARCHAR) AS v{extra}"
        f' FROM {pop} WHERE "{c}" IS NOT NULL'
        for c in columns
        if c not in exclude and "'" not in c and '"' not in c
    ]
    if time_column:
        parts.append(
            f"SELECT id, fail, w, '{TIME_KEY}' AS k, CAST(epoch(\"{time_column}\") AS VARCHAR)"
            f' AS v{extra} FROM {pop} WHERE "{time_column}" IS NOT NULL'
        )
    params: list[object] = []
    keys = _attr_keys(con, pop, attrs, exclude) if attrs else []
    if keys:
        # One parse per record pulls every key at once (a list of paths): several times faster
        # than a MAP transform, and far faster than one JSON path per key.
        parts.append(
            f"SELECT id, fail, w, unnest(?::VARCHAR[]) AS k,"
            f' unnest(json_extract_string("{attrs}", ?::VARCHAR[])) AS v{extra} FROM {pop}'
        )
        params += [keys, [f'$."{k}"' for k in keys]]
    union = " UNION ALL ".join(parts) if parts else "SELECT 0 id, FALSE fail, 1.0 w, '' k, '' v"
    skip = ", ".join(f"'{k}'" for k in exclude if "'" not in k) or "''"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cw_long AS SELECT * FROM ({union})"
        f" WHERE v IS NOT NULL AND v <> '' AND k NOT IN ({skip})",
        params,
    )


def _attr_keys(
    con: duckdb.DuckDBPyConnection, pop: str, attrs: str, exclude: set[str]
) -> list[str]:
    """The most common top-level keys of ``attrs`` in the population, by name.

    A key a JSON path cannot name (a quote or backslash in it) is left out, and
    records with ever new keys (an id as a key) would make every record parse
    that many paths, so the rarest keys beyond ``MAX_KEYS`` are left out too.
    """
    rows = con.execute(
        f'SELECT k FROM (SELECT unnest(json_keys("{attrs}")) AS k FROM {pop})'
        " GROUP BY k ORDER BY count(*) DESC, k",
    ).fetchall()
    keys = [str(r[0]) for r in rows if r[0] and not set('"\\') & set(str(r[0]))]
    return sorted([k for k in keys if k not in exclude][:MAX_KEYS])
