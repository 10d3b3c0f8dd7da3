"""Cohort contrast: which attribute values, thresholds and combinations explain the failing records.

The engine compares failing with succeeding records (or after with before,
slow with normal) on every attribute of a population: columns named by the
caller and every key of a JSON ``attrs`` column. Counting is done in DuckDB
(one pass to a long key/value table, GROUP BY per value); only aggregates
reach Python.

* Categorical attributes give value sets (``mcc in {5812, 5814}``): values
  ordered by failure rate, the prefix that best matches the failing set.
* Numeric and date attributes give thresholds (``account_created >=
  2026-02-15``), chosen over every distinct value with cumulative counts.
* Identifiers are recognized by statistics, not names: nearly unique
  categorical values (request ids, emails, trace ids) and numbers that grow
  with time (sequence numbers, embedded timestamps) are excluded.
* Keys present on failing records only (an error message) are symptoms, not
  a cohort; they are returned separately.
* The best single terms are combined up to ``max_terms`` by one GROUP BY over
  their truth values, so every combination is counted exactly.

Quality is the F1 of a cohort against the failing set (precision: failure
rate inside; coverage: share of failures inside), significance a one-sided
Fisher exact test with a Bonferroni factor for the candidates looked at.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import duckdb

from casework import contrast_search as search
from casework.contrast_terms import (
    ALPHA,
    COLUMN_PREFIX,
    TIME_KEY,
    Attribute,
    Split,
    Term,
    display,
    fisher_greater,
    value_sql,
)

#: Rows examined; above this the population is sampled (all failing rows kept).
SAMPLE_ROWS = 24_000
ID_DISTINCT_SHARE = 0.2
ID_MIN_DISTINCT = 100
TIME_PROXY_CORR = 0.95
MAX_CODES = 60

__all__ = ["ALPHA", "Attribute", "Split", "Term", "contrast", "fisher_greater"]


def contrast(
    con: duckdb.DuckDBPyConnection,
    source: str,
    failing: str,
    *,
    columns: Sequence[str] = (),
    attrs: str | None = "attrs",
    exclude: Sequence[str] = (),
    outcome: Sequence[str] = (),
    time_column: str | None = "ts",
    max_terms: int = 3,
    max_results: int = 5,
) -> list[Split]:
    """Cohorts that explain the rows of ``source`` (a SQL relation) where ``failing`` holds.

    ``columns`` are plain columns of ``source`` to compare besides the keys of
    ``attrs``; ``exclude`` names keys/columns never compared; ``outcome`` names
    columns that define the failure (status, duration): they and every key that
    mirrors one of them (equal text or |correlation| >= 0.98) are dropped.
    With ``time_column`` the time is an attribute too, so a cohort can read
    "... since 14:05". Results are best first and never a superset of a better one.
    """
    try:
        return _contrast(
            con,
            source,
            failing,
            columns,
            attrs,
            exclude,
            outcome,
            time_column,
            max_terms,
            max_results,
        )
    finally:
        # The work tables can be large; the cohorts' SQL refers to ``source``, not to them.
        for table in ("_cw_pop", "_cw_long", "_cw_bits"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _contrast(
    con: duckdb.DuckDBPyConnection,
    source: str,
    failing: str,
    columns: Sequence[str],
    attrs: str | None,
    exclude: Sequence[str],
    outcome: Sequence[str],
    time_column: str | None,
    max_terms: int,
    max_results: int,
) -> list[Split]:
    pop = _population(con, source, failing, [*columns, *outcome], attrs, time_column)
    totals = con.execute(f"SELECT sum(w), sum(w) FILTER (WHERE fail) FROM {pop}").fetchone()
    total_all = round(float(totals[0] or 0)) if totals else 0
    failing_all = round(float(totals[1] or 0)) if totals else 0
    if failing_all < search.MIN_SUPPORT or failing_all == total_all:
        return []
    _long_table(con, pop, columns, attrs, time_column, set(exclude) | set(outcome), outcome)
    profile = _profile(con, failing_all, total_all, len(outcome))
    terms: list[tuple[float, Term]] = []
    tested = 0
    for attr in profile:
        expr = value_sql(attr.key, attrs, time_column)
        # Few distinct numbers are codes (an MCC, a status): equality sets as well as thresholds.
        if attr.kind == "categorical" or (attr.kind == "numeric" and attr.distinct <= MAX_CODES):
            found, examined = search.categorical(con, attr.key, expr, failing_all, total_all)
            terms, tested = terms + found, tested + examined
        # Time gets both ends, so a burst reads "time >= 09:21 and time < 09:24".
        for side in (">=", "<") if attr.kind == "time" else (None,):
            if attr.kind in ("numeric", "date", "time"):
                found, examined = search.thresholds(
                    con, attr.key, attr.kind, expr, failing_all, side
                )
                terms, tested = terms + found, tested + examined
    best = search.top_terms(terms)
    if not best:
        return []
    search.mark(con, pop, best)
    splits = search.combine(con, best, failing_all, total_all, max_terms, tested)
    out: list[Split] = []
    seen: set[tuple[object, ...]] = set()
    for s in splits:
        s = search.refine(con, s, best, failing_all, total_all)
        same = (s.failing_in, s.total_in, tuple(sorted(t.value_text for t in s.terms)))
        if same not in seen:
            seen.add(same)
            out.append(replace(s, attributes=tuple(profile)))
        if len(out) >= max_results:
            break
    return out


def _population(
    con: duckdb.DuckDBPyConnection,
    source: str,
    failing: str,
    columns: Sequence[str],
    attrs: str | None,
    time_column: str | None,
) -> str:
    """A temp table: id, fail, weight, and the compared columns, sampled when large."""
    cols = [*columns, *([attrs] if attrs else []), *([time_column] if time_column else [])]
    picked = ", ".join(f'"{c}"' for c in dict.fromkeys(cols))
    flagged = f"SELECT coalesce(({failing}), FALSE) AS fail{', ' + picked if picked else ''} FROM ({source}) _s"
    row = con.execute(f"SELECT count(*), count(*) FILTER (WHERE fail) FROM ({flagged})").fetchone()
    n, nf = (int(row[0]), int(row[1])) if row else (0, 0)
    keep_fail = min(nf, SAMPLE_ROWS // 2)
    keep_ok = min(n - nf, SAMPLE_ROWS - keep_fail)
    w_fail = nf / keep_fail if keep_fail else 1.0
    w_ok = (n - nf) / keep_ok if keep_ok else 1.0
    # A fixed seed keeps the case store's findings the same on every run.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cw_pop AS SELECT row_number() OVER () AS id, * FROM ("
        f" (SELECT *, {w_fail} AS w FROM (FROM ({flagged}) WHERE fail)"
        f" USING SAMPLE reservoir({keep_fail} ROWS) REPEATABLE (7))"
        f" UNION ALL (SELECT *, {w_ok} AS w FROM (FROM ({flagged}) WHERE NOT fail)"
        f" USING SAMPLE reservoir({keep_ok} ROWS) REPEATABLE (7)))"
    )
    return "_cw_pop"


def _long_table(
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
    if attrs:
        # A MAP transform unnests keys and values far faster than per-key JSON paths.
        parts.append(
            f"SELECT id, fail, w, unnest(map_keys(m)) AS k, unnest(map_values(m)) AS v{extra} FROM"
            f' (SELECT *, json_transform("{attrs}", \'"MAP(VARCHAR, VARCHAR)"\') AS m'
            f" FROM {pop})"
        )
    union = " UNION ALL ".join(parts) if parts else "SELECT 0 id, FALSE fail, 1.0 w, '' k, '' v"
    skip = ", ".join(f"'{k}'" for k in exclude if "'" not in k) or "''"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cw_long AS SELECT * FROM ({union})"
        f" WHERE v IS NOT NULL AND v <> '' AND k NOT IN ({skip})"
        " AND NOT contains(k, '\"') AND NOT contains(k, '\\')"
    )


def _profile(
    con: duckdb.DuckDBPyConnection, failing_all: int, total_all: int, outcomes: int
) -> list[Attribute]:
    mirror = "".join(
        f", avg(CASE WHEN v = o{i} THEN 1.0 ELSE 0.0 END),"
        f" corr(TRY_CAST(v AS DOUBLE), TRY_CAST(o{i} AS DOUBLE))"
        for i in range(outcomes)
    )
    rows = con.execute(
        "SELECT k, sum(w), approx_count_distinct(v),"
        " sum(w) FILTER (WHERE fail), sum(w) FILTER (WHERE NOT fail),"
        " avg(CASE WHEN TRY_CAST(v AS DOUBLE) IS NOT NULL THEN 1.0 ELSE 0.0 END),"
        " avg(CASE WHEN regexp_matches(v, '^[0-9]{4}-[0-9]{2}-[0-9]{2}')"
        "   AND TRY_CAST(v AS TIMESTAMPTZ) IS NOT NULL THEN 1.0 ELSE 0.0 END),"
        f" count(*){mirror} FROM _cw_long GROUP BY k ORDER BY k"
    ).fetchall()
    out = []
    ok_all = total_all - failing_all
    for k, present, distinct, pf, po, num_share, date_share, n, *mirrors in rows:
        present_i, distinct_i = round(float(present)), int(distinct)
        kind = _kind(k, distinct_i, int(n), float(num_share), float(date_share))
        if distinct_i <= 1:
            kind = "constant"
        elif _mirrors_outcome(mirrors):
            kind = "outcome"
        elif (pf or 0) >= 0.5 * failing_all and (po or 0) <= 0.01 * ok_all:
            kind = "symptom"
        elif kind in ("numeric", "date") and _follows_time(con, k, kind):
            kind = "time_proxy"
        out.append(Attribute(k, display(k), kind, present_i, distinct_i))
    return out


def _mirrors_outcome(stats: list[Any]) -> bool:
    """A key that restates an outcome column (``status`` beside the status column)."""
    for same, corr in zip(stats[::2], stats[1::2], strict=True):
        if (same or 0) >= 0.98:
            return True
        if corr is not None and not math.isnan(corr) and abs(corr) >= 0.98:
            return True
    return False


def _kind(k: str, distinct: int, n: int, num_share: float, date_share: float) -> str:
    if k == TIME_KEY:
        return "time"
    if num_share >= 0.98:
        return "numeric"
    if date_share >= 0.98:
        return "date"
    if distinct >= ID_MIN_DISTINCT and distinct >= ID_DISTINCT_SHARE * n:
        return "id"
    return "categorical"


def _follows_time(con: duckdb.DuckDBPyConnection, k: str, kind: str) -> bool:
    """True when a number or date grows with the record's time (a sequence or a timestamp)."""
    value = (
        "TRY_CAST(l.v AS DOUBLE)" if kind == "numeric" else "epoch(TRY_CAST(l.v AS TIMESTAMPTZ))"
    )
    row = con.execute(
        f"SELECT corr({value}, CAST(t.v AS DOUBLE)) FROM _cw_long l"
        " JOIN (SELECT id, v FROM _cw_long WHERE k = ?) t USING (id) WHERE l.k = ?",
        [TIME_KEY, k],
    ).fetchone()
    if not row or row[0] is None or (isinstance(row[0], float) and math.isnan(row[0])):
        return False
    return abs(float(row[0])) >= TIME_PROXY_CORR
