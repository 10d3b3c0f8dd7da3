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
  with time (sequence numbers, embedded timestamps) are excluded; many values
  one of which is common (a route among order ids) are a category.
* Every term of a cohort earns its place: among the records that carry its
  attribute, given the other terms, it must still separate failing from
  succeeding records (:mod:`casework.contrast_cells`).
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
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import duckdb

from casework import contrast_cells as counting
from casework import contrast_search as search
from casework import contrast_tables as tables
from casework.contrast_terms import (
    ALPHA,
    COLUMN_PREFIX,
    TIME_KEY,
    Attribute,
    Split,
    Term,
    display,
    epoch_sql,
    epoch_unit,
    fisher_greater,
    value_sql,
)
from casework.formats.httpfields import duration_unit

ID_DISTINCT_SHARE = 0.2
ID_MIN_DISTINCT = 100
#: A value this common makes an attribute with many distinct values a category, not an id.
HEAVY_SHARE = 0.1
TIME_PROXY_CORR = 0.95
MAX_CODES = 60
#: ``dir/file.go:214``, ``app.py:88:12``, ``Class.method(File.java:123)``: a file with a known
#: source extension and a line number (language syntax, not any customer's vocabulary).
CODE_LOCATION = (
    r"(?i)^[\w$./\\<>-]*(\(|^)?[\w$.-]+\.(go|py|java|kt|scala|groovy|js|mjs|cjs|ts|tsx|jsx|rb"
    r"|cs|php|c|cpp|cxx|h|hpp|exs|erl|swift|lua|dart):\d+(:\d+)?\)?$"
)

#: Names of fields that describe how a request ended (``statusDetails``, ``error.type``,
#: ``result``): with values no success ever has, they restate the failure, not whom it hits.
#: Inputs that may select whom it hits (``country_code``, ``refund_reason``) are not among them.
OUTCOME_NAME = (
    r"(?i)(status|error|(?:^|[._])err(?:[._]|$)|result|outcome|fault|exception"
    r"|response_?code)"
)
#: ...when this share of the failing records hold such a value.
OUTCOME_SHARE = 0.98

__all__ = ["ALPHA", "Attribute", "Split", "Term", "contrast", "fisher_greater"]


def contrast(
    con: duckdb.DuckDBPyConnection,
    source: str | tables.TableRows,
    failing: str,
    *,
    columns: Sequence[str] = (),
    attrs: str | None = "attrs",
    exclude: Sequence[str] = (),
    outcome: Sequence[str] = (),
    time_column: str | None = "ts",
    max_terms: int = 3,
    max_results: int = 5,
    symptom_of: str | None = None,
    writers: Sequence[str] = (),
) -> list[Split]:
    """Cohorts that explain the rows of ``source`` (a SQL relation, or a table's rows where a
    condition holds: those are sampled without reading the rows left out) where ``failing`` holds.

    ``columns`` are plain columns of ``source`` to compare besides the keys of
    ``attrs``; ``exclude`` names keys/columns never compared; ``outcome`` names
    columns that define the failure (status, duration): they and every key that
    mirrors one of them (equal text or |correlation| >= 0.98) are dropped.
    With ``time_column`` the time is an attribute too, so a cohort can read
    "... since 14:05". ``symptom_of`` is a wider condition (``status >= 400``):
    keys that records where it holds carry and the others almost never do (an
    error text, a Retry-After) are symptoms, not a cohort, and are dropped.
    ``writers`` name what wrote a record (a logger): one whose failing records
    nearly all come from writers that never wrote anything else restates the
    failure (where it is logged), like an outcome field.
    Results are best first and never a superset of a better one.
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
            symptom_of,
            writers,
        )
    finally:
        # The work tables can be large; the cohorts' SQL refers to ``source``, not to them.
        for table in ("_cw_pop", "_cw_long", "_cw_bits"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _contrast(
    con: duckdb.DuckDBPyConnection,
    source: str | tables.TableRows,
    failing: str,
    columns: Sequence[str],
    attrs: str | None,
    exclude: Sequence[str],
    outcome: Sequence[str],
    time_column: str | None,
    max_terms: int,
    max_results: int,
    symptom_of: str | None,
    writers: Sequence[str],
) -> list[Split]:
    pop = tables.population(
        con, source, failing, [*columns, *outcome], attrs, time_column, symptom_of
    )
    totals = con.execute(
        f"SELECT sum(w), sum(w) FILTER (WHERE fail), count(*) FROM {pop}"
    ).fetchone()
    total_all = round(float(totals[0] or 0)) if totals else 0
    failing_all = round(float(totals[1] or 0)) if totals else 0
    sample = int(totals[2]) if totals and int(totals[2]) < total_all else 0
    if failing_all < search.MIN_SUPPORT or failing_all == total_all:
        return []
    tables.long_table(con, pop, columns, attrs, time_column, set(exclude) | set(outcome), outcome)
    if symptom_of:
        tables.drop_symptoms(con)
    writer_keys = {COLUMN_PREFIX + c for c in writers}
    profile = _profile(con, failing_all, total_all, len(outcome), writer_keys)
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
    counting.mark(con, pop, best)
    splits = search.combine(con, best, failing_all, total_all, max_terms, tested)
    bonferroni = counting.corrections(tested, len(best), max_terms)
    out: list[Split] = []
    seen: set[tuple[object, ...]] = set()
    for s in splits:
        s = search.refine(con, s, best, failing_all, total_all)
        # A refined cut can leave another term with nothing to add: every stated term earns its place.
        settled = counting.settle(con, pop, s, bonferroni)
        if settled is None:
            continue
        s = settled
        same = (s.failing_in, s.total_in, tuple(sorted(t.value_text for t in s.terms)))
        if same not in seen:
            seen.add(same)
            out.append(replace(s, attributes=tuple(profile), sample=sample))
        if len(out) >= max_results:
            break
    # Dropping a term changes a cohort's F1: order again, as ``combine`` does.
    out.sort(key=lambda s: (-round(s.f1, 6), len(s.terms), s.describe()))
    return out


def _profile(
    con: duckdb.DuckDBPyConnection,
    failing_all: int,
    total_all: int,
    outcomes: int,
    writers: set[str],
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
        " min(TRY_CAST(v AS DOUBLE)), max(TRY_CAST(v AS DOUBLE)),"
        f" count(*){mirror} FROM _cw_long GROUP BY k ORDER BY k"
    ).fetchall()
    kinds = {r[0]: _kind(r[0], int(r[2]), int(r[9]), float(r[5]), float(r[6]), r[7], r[8])
             for r in rows}  # fmt: skip
    common = _common_values(con, [k for k, kind in kinds.items() if kind == "id"])
    restating = _code_locations(
        con, [k for k, kind in kinds.items() if kind in ("categorical", "id")]
    ) | _outcome_fields(
        con,
        [
            k for k, kind in kinds.items()
            if kind == "categorical" and (k in writers or re.search(OUTCOME_NAME, k))
        ],
    ) | _limits(
        con, [k for k, kind in kinds.items() if kind == "numeric" and duration_unit(display(k))]
    )  # fmt: skip
    out = []
    ok_all = total_all - failing_all
    for k, present, distinct, pf, po, _, _, _, _, n, *mirrors in rows:
        present_i, distinct_i = round(float(present)), int(distinct)
        kind = kinds[k]
        if kind == "id" and common.get(k, 0) >= HEAVY_SHARE * int(n):
            # Many distinct values, but one of them is common (a route among order ids): a
            # cohort can name it, and the set search never looks at the rare values anyway.
            kind = "categorical"
        if distinct_i <= 1:
            kind = "constant"
        elif _mirrors_outcome(mirrors) or k in restating:
            kind = "outcome"
        elif (pf or 0) >= 0.5 * failing_all and (po or 0) <= 0.01 * ok_all:
            kind = "symptom"
        elif kind in ("numeric", "date") and _follows_time(con, k, kind):
            kind = "time_proxy"
        out.append(Attribute(k, display(k), kind, present_i, distinct_i))
    return out


def _common_values(con: duckdb.DuckDBPyConnection, keys: list[str]) -> dict[str, int]:
    """Records holding each key's most common value."""
    if not keys:
        return {}
    rows = con.execute(
        "SELECT k, max(n) FROM (SELECT k, v, count(*) n FROM _cw_long"
        " WHERE k IN (SELECT unnest(?::VARCHAR[])) GROUP BY k, v) GROUP BY k",
        [keys],
    ).fetchall()
    return {str(k): int(n) for k, n in rows}


def _code_locations(con: duckdb.DuckDBPyConnection, keys: list[str]) -> set[str]:
    """Keys whose values are source locations (zap's ``caller``: ``pay/handler.go:214``).

    The line of code that wrote a record is part of what the record is (an error is
    logged from its own line), like its template: it restates the outcome and never
    says for whom something fails.
    """
    if not keys:
        return set()
    rows = con.execute(
        "SELECT k FROM (SELECT DISTINCT k, v FROM _cw_long WHERE k IN (SELECT unnest(?::VARCHAR[])))"
        " GROUP BY k HAVING avg(CASE WHEN regexp_matches(v, ?) THEN 1.0 ELSE 0.0 END) >= 0.98",
        [keys, CODE_LOCATION],
    ).fetchall()
    return {str(r[0]) for r in rows}


def _outcome_fields(con: duckdb.DuckDBPyConnection, named: list[str]) -> set[str]:
    """Of keys named for how a request ended (``OUTCOME_NAME``) or for what wrote a record,
    those whose failing records nearly all hold a value no succeeding record has
    (``backend_timeout`` where successes say ``response_sent_by_backend``; a logger that
    writes nothing but errors)."""
    if not named:
        return set()
    rows = con.execute(
        "WITH ok AS (SELECT DISTINCT k, v FROM _cw_long WHERE NOT fail"
        "  AND k IN (SELECT unnest(?::VARCHAR[])))"
        " SELECT l.k, sum(l.w) FILTER (WHERE ok.v IS NULL), sum(l.w) FROM _cw_long l"
        " LEFT JOIN ok ON ok.k = l.k AND ok.v = l.v"
        " WHERE l.fail AND l.k IN (SELECT unnest(?::VARCHAR[])) GROUP BY l.k",
        [named, named],
    ).fetchall()
    return {str(k) for k, only, all_ in rows if only and only >= OUTCOME_SHARE * all_}


def _limits(con: duckdb.DuckDBPyConnection, keys: list[str]) -> set[str]:
    """Of duration-named keys (``elapsed_ms``, ``took``), those whose failing records nearly
    all (``OUTCOME_SHARE``) ran to one value that no succeeding record reached: a limit (a
    timeout of 10000 ms). The failures' duration says how they ended, not whom they hit."""
    if not keys:
        return set()
    rows = con.execute(
        "WITH f AS (SELECT k, TRY_CAST(v AS DOUBLE) x, sum(w) n FROM _cw_long"
        "  WHERE fail AND k IN (SELECT unnest(?::VARCHAR[])) GROUP BY k, x),"
        " top AS (SELECT k, arg_max(x, n) x, max(n) n, sum(n) total FROM f GROUP BY k),"
        " ok AS (SELECT k, max(TRY_CAST(v AS DOUBLE)) hi FROM _cw_long"
        "  WHERE NOT fail AND k IN (SELECT unnest(?::VARCHAR[])) GROUP BY k)"
        " SELECT top.k FROM top LEFT JOIN ok USING (k)"
        " WHERE top.n >= ? * top.total AND (ok.hi IS NULL OR ok.hi < top.x)",
        [keys, keys, OUTCOME_SHARE],
    ).fetchall()
    return {str(r[0]) for r in rows}


def _mirrors_outcome(stats: list[Any]) -> bool:
    """A key that restates an outcome column (``status`` beside the status column)."""
    for same, corr in zip(stats[::2], stats[1::2], strict=True):
        if (same or 0) >= 0.98:
            return True
        if corr is not None and not math.isnan(corr) and abs(corr) >= 0.98:
            return True
    return False


def _kind(k: str, distinct: int, n: int, num_share: float, date_share: float,
          low: float | None, high: float | None) -> str:  # fmt: skip
    if k == TIME_KEY:
        return "time"
    if num_share >= 0.98:
        # Many distinct numbers all in one unit's 1990..2100 band are epoch dates
        # (``signup_ts: 1712345678``): cut and named as dates, not as 1.7e+09.
        if distinct > MAX_CODES and low is not None and high is not None \
                and epoch_unit(low, high) is not None:  # fmt: skip
            return "date"
        return "numeric"
    if date_share >= 0.98:
        return "date"
    if distinct >= ID_MIN_DISTINCT and distinct >= ID_DISTINCT_SHARE * n:
        return "id"
    return "categorical"


def _follows_time(con: duckdb.DuckDBPyConnection, k: str, kind: str) -> bool:
    """True when a number or date grows with the record's time (a sequence or a timestamp)."""
    value = "TRY_CAST(l.v AS DOUBLE)" if kind == "numeric" else epoch_sql("l.v")
    row = con.execute(
        f"SELECT corr({value}, CAST(t.v AS DOUBLE)) FROM _cw_long l"
        " JOIN (SELECT id, v FROM _cw_long WHERE k = ?) t USING (id) WHERE l.k = ?",
        [TIME_KEY, k],
    ).fetchone()
    if not row or row[0] is None or (isinstance(row[0], float) and math.isnan(row[0])):
        return False
    return abs(float(row[0])) >= TIME_PROXY_CORR
