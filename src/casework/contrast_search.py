"""The search of the contrast engine: best terms per attribute, their combinations, and sharp thresholds.

Works on the engine's temp tables: ``_cw_long`` (id, fail, w, k, v) and,
once terms are chosen, ``_cw_bits`` (id, fail, w, mask) with one bit per
term (see :mod:`casework.contrast_cells`), so combinations and refinements
are counted without parsing JSON again.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import duckdb
import numpy as np

from casework import contrast_cells as counting
from casework.contrast_terms import (
    Split,
    Term,
    categorical_term,
    epoch_sql,
    f1,
    fisher_greater,
    threshold_term,
)

MIN_SUPPORT = 5
#: A value with fewer failures is no concentration: picked for its rate from hundreds, one
#: failure in four requests looks like 25% by chance.
MIN_VALUE_FAILURES = 3
MAX_VALUES_PER_KEY = 400
MAX_SET_VALUES = 6
TOP_TERMS = 12
MAX_CUT_TESTS = 100
#: An extra term must raise F1 by this much, else the shorter cohort says the same.
MIN_GAIN = 0.02
#: Half the 99% chi-square quantile (1 degree of freedom): the likelihood interval of a cut.
LIKELIHOOD_BOUND = 3.32


def categorical(
    con: duckdb.DuckDBPyConnection, key: str, expr: str, failing_all: int, total_all: int
) -> tuple[list[tuple[float, Term]], int]:
    """The set of values (most failing first) whose union best matches the failing set."""
    rows = con.execute(
        "SELECT v, sum(w) FILTER (WHERE fail), sum(w) FROM _cw_long WHERE k = ?"
        " GROUP BY v HAVING count(*) >= ? ORDER BY sum(w) DESC, v LIMIT ?",
        [key, MIN_SUPPORT, MAX_VALUES_PER_KEY],
    ).fetchall()
    base = failing_all / total_all
    vals = [
        (str(v), float(f or 0), float(t))
        for v, f, t in rows
        if (f or 0) / t > base and (f or 0) >= MIN_VALUE_FAILURES
    ]
    vals.sort(key=lambda x: (-x[1] / x[2], -x[2], x[0]))
    best: tuple[float, int] = (0.0, 0)
    fi = ti = 0.0
    for i, (_, f, t) in enumerate(vals[:MAX_SET_VALUES], start=1):
        fi, ti = fi + f, ti + t
        score = f1(fi, ti, failing_all)
        if score > best[0] + 1e-9:
            best = (score, i)
    # Every value looked at is a test: the set was picked from them.
    examined = max(1, len(vals))
    if best[1] == 0:
        return [], examined
    chosen = tuple(v for v, _, _ in vals[: best[1]])
    return [(best[0], categorical_term(key, expr, chosen))], examined


def thresholds(
    con: duckdb.DuckDBPyConnection,
    key: str,
    kind: str,
    expr: str,
    failing_all: int,
    side: str | None = None,
) -> tuple[list[tuple[float, Term]], int]:
    """The best ``>=`` or ``<`` cut of a numeric, date or time attribute."""
    x = "TRY_CAST(v AS DOUBLE)" if kind in ("numeric", "time") else epoch_sql("v")
    rows = con.execute(
        f"SELECT {x} x, sum(w) FILTER (WHERE fail), sum(w) FROM _cw_long WHERE k = ?"
        " GROUP BY x HAVING x IS NOT NULL ORDER BY x",
        [key],
    ).fetchall()
    best = best_cut(rows, failing_all, side)
    # Neighbouring cuts are nearly the same test; counting each would be far too strict.
    examined = min(max(1, len(rows) - 1), MAX_CUT_TESTS)
    if best is None:
        return [], examined
    score, side, lo, hi, lo_ci, hi_ci = best
    return [(score, threshold_term(key, expr, kind, side, lo, hi, (lo_ci, hi_ci)))], examined


Cut = tuple[float, str, float, float, float, float]


def best_cut(rows: list[tuple[Any, ...]], failing_all: int, side: str | None) -> Cut | None:
    """The best cut of sorted (x, fail, total) rows.

    Returns (F1, side, last value below, first value above, and the same two
    for the widest cut within the likelihood bound of the best).

    The cut is placed by the likelihood ratio (which finds where the rate
    changes) and scored by F1 (how well the side matches the failing set),
    so a small pure side does not win by being pure.
    """
    if len(rows) < 2:
        return None
    xs = np.array([float(r[0]) for r in rows])
    fails = np.array([float(r[1] or 0) for r in rows])
    tots = np.array([float(r[2] or 0) for r in rows])
    cf, ct = np.cumsum(fails), np.cumsum(tots)
    low_f, low_t = cf[:-1], ct[:-1]
    high_f, high_t = cf[-1] - low_f, ct[-1] - low_t
    g = _loglik(low_f, low_t) + _loglik(high_f, high_t)
    best: Cut | None = None
    best_g = -np.inf
    for op, f_side, t_side in ((">=", high_f, high_t), ("<", low_f, low_t)):
        if side is not None and op != side:
            continue
        rate = np.divide(f_side, t_side, out=np.zeros_like(f_side), where=t_side > 0)
        ok = (t_side >= MIN_SUPPORT) & (rate > cf[-1] / ct[-1])
        if not ok.any():
            continue
        i = int(np.argmax(np.where(ok, g, -np.inf)))
        if g[i] > best_g:
            best_g = float(g[i])
            # Cuts whose likelihood is within the bound of the best are as plausible: the interval.
            near = np.nonzero(ok & (g >= g[i] - LIKELIHOOD_BOUND))[0]
            best = (
                float(2 * f_side[i] / (t_side[i] + failing_all)),
                op,
                float(xs[i]),
                float(xs[i + 1]),
                float(xs[near.min()]),
                float(xs[near.max() + 1]),
            )
    return best


def _loglik(hits: np.ndarray, totals: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(totals > 0, hits / np.maximum(totals, 1e-300), 0.0)
        a = np.where(hits > 0, hits * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(totals > hits, (totals - hits) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    return np.asarray(a + b, dtype=float)


def top_terms(terms: list[tuple[float, Term]]) -> list[Term]:
    """The best terms; an attribute restating another (``path``, ``http.path``) counts once."""
    chosen: list[Term] = []
    seen: set[tuple[object, ...]] = set()
    for score, t in sorted(terms, key=lambda x: (-x[0], x[1].label)):
        same = (round(score, 9), t.op, t.values, t.threshold)
        if same in seen:
            continue
        seen.add(same)
        chosen.append(t)
        if len(chosen) >= TOP_TERMS:
            break
    return chosen


def combine(
    con: duckdb.DuckDBPyConnection,
    terms: list[Term],
    failing_all: int,
    total_all: int,
    max_terms: int,
    tested: int,
) -> list[Split]:
    """Every conjunction of up to ``max_terms`` terms, counted exactly; best F1 first, minimal."""
    cells = counting.tally(con, "FROM _cw_bits")
    has = counting.key_bits(terms)
    bonferroni = counting.corrections(tested, len(terms), max_terms)
    candidates: list[Split] = []
    for size in range(1, max_terms + 1):
        for idx in itertools.combinations(range(len(terms)), size):
            bits = [1 << i for i in idx]
            fi, ti = counting.count(cells, sum(bits))
            if ti < MIN_SUPPORT or fi == 0:
                continue
            earned = counting.unearned(cells, bits, [has[i] for i in idx], bonferroni)
            if earned[1] > counting.REFINE_ALPHA:
                continue
            p = fisher_greater(fi, ti - fi, failing_all - fi, total_all - ti - failing_all + fi)
            candidates.append(
                Split(tuple(terms[i] for i in idx), fi, ti, failing_all, total_all, p)
            )
    candidates.sort(key=lambda s: (-round(s.f1, 6), len(s.terms), s.describe()))
    kept: list[Split] = []
    for s in candidates:
        s = replace(s, p_value=min(1.0, s.p_value * bonferroni))
        # A cohort must beat every cohort it extends, else the extra term says nothing.
        if any(set(k.terms) < set(s.terms) and k.f1 >= s.f1 - MIN_GAIN for k in kept):
            continue
        if any(set(k.terms) <= set(s.terms) for k in kept if k.f1 >= s.f1):
            continue
        kept.append(s)
    return kept


def refine(
    con: duckdb.DuckDBPyConnection,
    split: Split,
    terms: list[Term],
    failing_all: int,
    total_all: int,
) -> Split:
    """Re-place each threshold given the cohort's other terms: the cut is sharp only there."""
    current = list(split.terms)
    bit = {id(t): 1 << i for i, t in enumerate(terms)}
    # The other terms are selected by their original bits (a refined cut moves little).
    bits = [bit.get(id(t), 0) for t in split.terms]
    for i, t in enumerate(split.terms):
        if t.threshold is None or not bits[i]:
            continue
        others = sum(b for j, b in enumerate(bits) if j != i)
        x = "TRY_CAST(l.v AS DOUBLE)" if t.kind in ("numeric", "time") else epoch_sql("l.v")
        rows = con.execute(
            f"SELECT {x} x, sum(b.w) FILTER (WHERE b.fail), sum(b.w) FROM _cw_long l"
            " JOIN _cw_bits b USING (id) WHERE l.k = ? AND (b.mask & ?) = ?"
            " GROUP BY x HAVING x IS NOT NULL ORDER BY x",
            [t.key, others, others],
        ).fetchall()
        best = best_cut(rows, failing_all, t.op)
        if best is None:
            continue
        new = threshold_term(t.key, t.expr, t.kind, t.op, best[2], best[3], (best[4], best[5]))
        if new.threshold == t.threshold:
            continue
        row = con.execute(
            "SELECT sum(b.w) FILTER (WHERE b.fail), sum(b.w) FROM _cw_long l JOIN _cw_bits b"
            f" USING (id) WHERE l.k = ? AND (b.mask & ?) = ? AND ({new.vsql})",
            [t.key, others, others],
        ).fetchone()
        fi = round(float(row[0] or 0)) if row else 0
        ti = round(float(row[1] or 0)) if row else 0
        if f1(fi, ti, failing_all) + 1e-9 < split.f1:
            continue
        current[i] = new
        p = fisher_greater(fi, ti - fi, failing_all - fi, total_all - ti - failing_all + fi)
        split = Split(tuple(current), fi, ti, failing_all, total_all, max(p, split.p_value))
    return split
