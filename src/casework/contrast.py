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

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import numpy as np
from scipy.stats import fisher_exact

from casework.contrast_terms import (
    COLUMN_PREFIX,
    TIME_KEY,
    Term,
    categorical_term,
    display,
    threshold_term,
    value_sql,
)

#: Rows examined; above this the population is sampled (all failing rows kept).
SAMPLE_ROWS = 40_000
MIN_SUPPORT = 5
MAX_VALUES_PER_KEY = 400
MAX_SET_VALUES = 6
ID_DISTINCT_SHARE = 0.2
ID_MIN_DISTINCT = 100
TIME_PROXY_CORR = 0.95
TOP_TERMS = 12
MAX_CODES = 60
ALPHA = 0.01

__all__ = ["Attribute", "Split", "Term", "contrast", "fisher_greater"]


@dataclass(frozen=True, slots=True)
class Attribute:
    """What the engine learned about one attribute of the population."""

    key: str
    name: str
    kind: str  # categorical numeric date time | id time_proxy symptom outcome constant
    present: int
    distinct: int


@dataclass(frozen=True, slots=True)
class Split:
    """A cohort (a conjunction of terms) and how it separates failing from succeeding records."""

    terms: tuple[Term, ...]
    failing_in: int
    total_in: int
    failing_all: int
    total_all: int
    p_value: float
    attributes: tuple[Attribute, ...] = field(default=(), compare=False)

    @property
    def rate(self) -> float:
        return self.failing_in / self.total_in if self.total_in else 0.0

    @property
    def baseline_rate(self) -> float:
        out = self.total_all - self.total_in
        return (self.failing_all - self.failing_in) / out if out else 0.0

    @property
    def coverage(self) -> float:
        return self.failing_in / self.failing_all if self.failing_all else 0.0

    @property
    def lift(self) -> float:
        overall = self.failing_all / self.total_all if self.total_all else 0.0
        return self.rate / overall if overall else 0.0

    @property
    def f1(self) -> float:
        return _f1(self.failing_in, self.total_in, self.failing_all)

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    @property
    def where(self) -> str:
        """A SQL predicate selecting the cohort from the source relation."""
        return " AND ".join(f"({t.sql})" for t in self.terms) or "TRUE"

    def describe(self) -> str:
        return " and ".join(t.label for t in self.terms)


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact p that a/(a+b) exceeds c/(c+d)."""
    if a + b == 0 or c + d == 0:
        return 1.0
    return float(fisher_exact([[a, b], [c, d]], alternative="greater").pvalue)


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
    pop = _population(con, source, failing, [*columns, *outcome], attrs, time_column)
    totals = con.execute(f"SELECT sum(w), sum(w) FILTER (WHERE fail) FROM {pop}").fetchone()
    total_all = int(round(totals[0] or 0)) if totals else 0
    failing_all = int(round(totals[1] or 0)) if totals else 0
    if failing_all < MIN_SUPPORT or failing_all == total_all:
        return []
    _long_table(con, pop, columns, attrs, time_column, set(exclude) | set(outcome), outcome)
    profile = _profile(con, failing_all, total_all, len(outcome))
    terms: list[tuple[float, Term]] = []
    for attr in profile:
        expr = value_sql(attr.key, attrs, time_column)
        # Few distinct numbers are codes (an MCC, a status): equality sets as well as thresholds.
        if attr.kind == "categorical" or (attr.kind == "numeric" and attr.distinct <= MAX_CODES):
            terms += _categorical(con, attr.key, expr, failing_all, total_all)
        if attr.kind in ("numeric", "date", "time"):
            terms += _thresholds(con, attr, expr, failing_all)
    terms.sort(key=lambda x: (-x[0], x[1].label))
    best = _top_terms(terms)
    if not best:
        return []
    splits = _combine(con, pop, best, failing_all, total_all, max_terms, len(terms))
    out: list[Split] = []
    seen: set[tuple[object, ...]] = set()
    for s in splits:
        s = _refine(con, pop, s, failing_all, total_all)
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
            f" (SELECT *, json_transform(\"{attrs}\", '\"MAP(VARCHAR, VARCHAR)\"') AS m"
            f" FROM {pop} WHERE json_type(\"{attrs}\") = 'OBJECT')"
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
    value = "TRY_CAST(l.v AS DOUBLE)" if kind == "numeric" else "epoch(TRY_CAST(l.v AS TIMESTAMPTZ))"
    row = con.execute(
        f"SELECT corr({value}, CAST(t.v AS DOUBLE)) FROM _cw_long l"
        " JOIN (SELECT id, v FROM _cw_long WHERE k = ?) t USING (id) WHERE l.k = ?",
        [TIME_KEY, k],
    ).fetchone()
    if not row or row[0] is None or (isinstance(row[0], float) and math.isnan(row[0])):
        return False
    return abs(float(row[0])) >= TIME_PROXY_CORR


def _f1(failing_in: float, total_in: float, failing_all: float) -> float:
    return 2.0 * failing_in / (total_in + failing_all) if total_in + failing_all else 0.0


def _categorical(
    con: duckdb.DuckDBPyConnection, k: str, expr: str, failing_all: int, total_all: int
) -> list[tuple[float, Term]]:
    rows = con.execute(
        "SELECT v, sum(w) FILTER (WHERE fail), sum(w) FROM _cw_long WHERE k = ?"
        " GROUP BY v HAVING count(*) >= ? ORDER BY sum(w) DESC, v LIMIT ?",
        [k, MIN_SUPPORT, MAX_VALUES_PER_KEY],
    ).fetchall()
    base = failing_all / total_all
    vals = [(str(v), float(f or 0), float(t)) for v, f, t in rows if (f or 0) / t > base]
    vals.sort(key=lambda x: (-x[1] / x[2], -x[2], x[0]))
    best: tuple[float, int] = (0.0, 0)
    fi = ti = 0.0
    for i, (_, f, t) in enumerate(vals[:MAX_SET_VALUES], start=1):
        fi, ti = fi + f, ti + t
        score = _f1(fi, ti, failing_all)
        if score > best[0] + 1e-9:
            best = (score, i)
    if best[1] == 0:
        return []
    chosen = tuple(v for v, _, _ in vals[: best[1]])
    return [(best[0], categorical_term(k, expr, chosen))]


def _thresholds(
    con: duckdb.DuckDBPyConnection, attr: Attribute, expr: str, failing_all: int
) -> list[tuple[float, Term]]:
    value = "TRY_CAST(v AS DOUBLE)" if attr.kind in ("numeric", "time") else _EPOCH.format("v")
    rows = con.execute(
        f"SELECT {value} x, sum(w) FILTER (WHERE fail), sum(w) FROM _cw_long WHERE k = ?"
        " GROUP BY x HAVING x IS NOT NULL ORDER BY x",
        [attr.key],
    ).fetchall()
    best = _best_cut(rows, failing_all, None)
    if best is None:
        return []
    score, side, lo, hi = best
    return [(score, threshold_term(attr.key, expr, attr.kind, side, lo, hi))]


_EPOCH = "epoch(TRY_CAST({} AS TIMESTAMPTZ))"


def _best_cut(
    rows: list[tuple[Any, ...]], failing_all: int, side: str | None
) -> tuple[float, str, float, float] | None:
    """The threshold with the best F1 from ``(value, failing, total)`` rows sorted by value."""
    if len(rows) < 2:
        return None
    xs = np.array([float(r[0]) for r in rows])
    fails = np.array([float(r[1] or 0) for r in rows])
    tots = np.array([float(r[2] or 0) for r in rows])
    cf, ct = np.cumsum(fails), np.cumsum(tots)
    # A cut between xs[i] and xs[i+1]: the low side is [0..i], the high side [i+1..].
    low_f, low_t = cf[:-1], ct[:-1]
    high_f, high_t = cf[-1] - low_f, ct[-1] - low_t
    best: tuple[float, str, float, float] | None = None
    best_g = -1.0
    # The cut is placed by the likelihood ratio (which finds where the rate changes) and scored
    # by F1 (how well the side matches the failing set), so a small pure side does not win.
    g = _loglik(low_f, low_t) + _loglik(high_f, high_t) - _loglik(cf[-1:], ct[-1:])
    for op, f_side, t_side in ((">=", high_f, high_t), ("<", low_f, low_t)):
        if side is not None and op != side:
            continue
        rate = np.divide(f_side, t_side, out=np.zeros_like(f_side), where=t_side > 0)
        ok = (t_side >= MIN_SUPPORT) & (rate > cf[-1] / ct[-1])
        if not ok.any():
            continue
        i = int(np.argmax(np.where(ok, g, -1.0)))
        if g[i] > best_g:
            best_g = float(g[i])
            best = (float(2 * f_side[i] / (t_side[i] + failing_all)), op, float(xs[i]), float(xs[i + 1]))
    return best


def _loglik(hits: np.ndarray, totals: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(totals > 0, hits / np.maximum(totals, 1e-300), 0.0)
        a = np.where(hits > 0, hits * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(totals > hits, (totals - hits) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    return np.asarray(a + b, dtype=float)


def _refine(
    con: duckdb.DuckDBPyConnection, pop: str, split: Split, failing_all: int, total_all: int
) -> Split:
    """Re-place each threshold given the cohort's other terms: the cut is sharp only there."""
    terms = list(split.terms)
    for i, t in enumerate(terms):
        if t.threshold is None:
            continue
        others = " AND ".join(f"({o.sql})" for j, o in enumerate(terms) if j != i) or "TRUE"
        x = f"epoch({t.expr})" if t.kind == "time" else (
            _EPOCH.format(t.expr) if t.kind == "date" else f"TRY_CAST({t.expr} AS DOUBLE)"
        )  # fmt: skip
        rows = con.execute(
            f"SELECT {x} x, sum(w) FILTER (WHERE fail), sum(w) FROM {pop} WHERE {others}"
            " GROUP BY x HAVING x IS NOT NULL ORDER BY x"
        ).fetchall()
        best = _best_cut(rows, failing_all, t.op)
        if best is not None:
            terms[i] = threshold_term(t.key, t.expr, t.kind, t.op, best[2], best[3])
    return _count(con, pop, tuple(terms), failing_all, total_all, split.p_value)


def _count(
    con: duckdb.DuckDBPyConnection,
    pop: str,
    terms: tuple[Term, ...],
    failing_all: int,
    total_all: int,
    p_value: float,
) -> Split:
    where = " AND ".join(f"({t.sql})" for t in terms)
    row = con.execute(
        f"SELECT sum(w) FILTER (WHERE fail), sum(w) FROM {pop} WHERE {where}"
    ).fetchone()
    fi = round(float(row[0] or 0)) if row else 0
    ti = round(float(row[1] or 0)) if row else 0
    p = fisher_greater(fi, ti - fi, failing_all - fi, total_all - ti - failing_all + fi)
    return Split(terms, fi, ti, failing_all, total_all, max(p, min(1.0, p_value)))


def _top_terms(terms: list[tuple[float, Term]]) -> list[Term]:
    """The best term per attribute; an attribute restating another (``path``, ``http.path``) once."""
    chosen: list[Term] = []
    seen: set[tuple[object, ...]] = set()
    for score, t in terms:
        same = (round(score, 9), t.op, t.values, t.threshold)
        if same in seen:
            continue
        seen.add(same)
        chosen.append(t)
        if len(chosen) >= TOP_TERMS:
            break
    return chosen


def _combine(
    con: duckdb.DuckDBPyConnection,
    pop: str,
    terms: list[Term],
    failing_all: int,
    total_all: int,
    max_terms: int,
    tested: int,
) -> list[Split]:
    flags = ", ".join(f"coalesce(({t.sql}), FALSE) AS b{i}" for i, t in enumerate(terms))
    names = ", ".join(f"b{i}" for i in range(len(terms)))
    cells = con.execute(
        f"SELECT {names}, sum(w) FILTER (WHERE fail), sum(w) FROM"
        f" (SELECT fail, w, {flags} FROM {pop}) GROUP BY ALL"
    ).fetchall()
    truth = np.array([c[: len(terms)] for c in cells], dtype=bool)
    fails = np.array([float(c[len(terms)] or 0) for c in cells])
    tots = np.array([float(c[len(terms) + 1]) for c in cells])
    candidates: list[tuple[float, Split]] = []
    combos = 0
    for size in range(1, max_terms + 1):
        for idx in itertools.combinations(range(len(terms)), size):
            combos += 1
            mask = truth[:, list(idx)].all(axis=1)
            fi, ti = int(round(fails[mask].sum())), int(round(tots[mask].sum()))
            if ti < MIN_SUPPORT or fi == 0:
                continue
            p = fisher_greater(fi, ti - fi, failing_all - fi, total_all - ti - failing_all + fi)
            split = Split(tuple(terms[i] for i in idx), fi, ti, failing_all, total_all, p)
            candidates.append((split.f1, split))
    bonferroni = max(1, tested + combos)
    candidates.sort(key=lambda x: (-round(x[0], 6), len(x[1].terms), x[1].describe()))
    kept: list[Split] = []
    for score, s in candidates:
        s = Split(s.terms, s.failing_in, s.total_in, s.failing_all, s.total_all,
                  min(1.0, s.p_value * bonferroni))  # fmt: skip
        # A cohort must beat every cohort it extends, else the extra term says nothing.
        if any(set(k.terms) < set(s.terms) and k.f1 >= score - 0.02 for k in kept):
            continue
        if any(set(k.terms) <= set(s.terms) for k in kept if k.f1 >= score):
            continue
        kept.append(s)
    return kept
