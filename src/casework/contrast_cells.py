"""Counting cohorts by bit masks, and the test each term of a cohort must pass to be stated.

Each record of the contrast population gets a mask: one bit per term it
satisfies and one per term's key it carries at all. A GROUP BY over the
masks gives "cells" (mask, failing weight, weight), from which every
conjunction of the terms and every "cohort without one term" is counted
exactly in numpy, without going back to the records.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np

from casework.contrast_terms import Split, Term, fisher_greater


def mark(con: duckdb.DuckDBPyConnection, pop: str, terms: list[Term]) -> None:
    """``_cw_bits``: per record, a bit mask of the terms it satisfies (one pass over ``_cw_long``).

    Bit ``i`` is term ``i``; bit ``len(terms) + j`` says the record carries the ``j``-th
    distinct key of the terms at all (see :func:`key_bits`).
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cw_bits AS {masks(pop, terms)}")


def key_bits(terms: list[Term]) -> list[int]:
    """Per term, the bit saying a record carries the term's key (after the terms' own bits)."""
    keys = list(dict.fromkeys(t.key for t in terms))
    return [1 << (len(terms) + keys.index(t.key)) for t in terms]


def masks(pop: str, terms: list[Term]) -> str:
    """SQL of (id, fail, w, mask) for every record of ``pop``, bits as in :func:`mark`."""

    def q(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    keys = list(dict.fromkeys(t.key for t in terms))
    bits = [
        f"max(CASE WHEN k = {q(t.key)} AND ({t.vsql}) THEN {1 << i} ELSE 0 END)"
        for i, t in enumerate(terms)
    ] + [
        f"max(CASE WHEN k = {q(k)} THEN {1 << (len(terms) + j)} ELSE 0 END)"
        for j, k in enumerate(keys)
    ]
    return (
        "SELECT p.id, p.fail, p.w, coalesce(m.mask, 0) AS mask FROM"
        f" {pop} p LEFT JOIN (SELECT id, {' + '.join(bits)} AS mask FROM _cw_long"
        f" WHERE k IN ({', '.join(q(k) for k in keys)}) GROUP BY id) m USING (id)"
    )


Cells = tuple[np.ndarray, np.ndarray, np.ndarray]


def tally(con: duckdb.DuckDBPyConnection, source: str) -> Cells:
    """(mask, failing weight, weight) per distinct mask of a ``(fail, w, mask)`` relation."""
    rows = con.execute(
        f"SELECT mask, sum(w) FILTER (WHERE fail), sum(w) FROM ({source}) GROUP BY mask"
    ).fetchall()
    return (
        np.array([int(r[0]) for r in rows], dtype=np.int64),
        np.array([float(r[1] or 0) for r in rows]),
        np.array([float(r[2] or 0) for r in rows]),
    )


def count(cells: Cells, want: int) -> tuple[int, int]:
    """(failing, total) of the records whose mask has every bit of ``want``."""
    mask, fails, tots = cells
    inside = (mask & want) == want
    return round(float(fails[inside].sum())), round(float(tots[inside].sum()))


#: How surely an extra term must add to a cohort (after correction) to be kept.
REFINE_ALPHA = 0.01


def corrections(tested: int, n_terms: int, max_terms: int) -> int:
    """The Bonferroni factor of a search: the single terms looked at plus every conjunction."""
    combos = sum(math.comb(n_terms, k) for k in range(1, max_terms + 1))
    return max(1, tested + combos)


def unearned(cells: Cells, bits: list[int], has: list[int], bonferroni: int) -> tuple[int, float]:
    """The term of a cohort that least earns its place, and its corrected p.

    Within the cohort one term smaller, the term must still separate failing
    from succeeding records (one-sided Fisher exact, corrected for everything
    tried), else it only fits noise (a refund amount that happens to cut off
    the last three successes). The comparison is among records that carry
    the term's attribute at all: an amount cut on a log where only refunds
    have an amount would otherwise earn its place by picking refunds, not
    by its value. A cohort of one term is compared with every record that
    carries its attribute.
    """
    want = sum(bits)
    fi, ti = count(cells, want)
    worst, worst_p = -1, 0.0
    for i, (bit, key) in enumerate(zip(bits, has, strict=True)):
        pf, pt = count(cells, (want & ~bit) | key)
        ok_in = ti - fi
        p = fisher_greater(fi, ok_in, pf - fi, (pt - pf) - ok_in) * bonferroni
        if p > worst_p:
            worst, worst_p = i, p
    return worst, worst_p


def settle(con: duckdb.DuckDBPyConnection, pop: str, split: Split, bonferroni: int) -> Split | None:
    """Drop the terms of a refined cohort that no longer earn their place, one at a time.

    Refining a cut given the other terms can make another term redundant
    (a sharper date cut leaves nothing for an amount cut to remove), so the
    test of :func:`unearned` runs again on the cohort as it will be stated.
    None when no term is left.
    """
    terms = list(split.terms)
    while terms:
        cells = tally(con, masks(pop, terms))
        worst, p = unearned(cells, [1 << i for i in range(len(terms))], key_bits(terms), bonferroni)
        if p <= REFINE_ALPHA:
            break
        del terms[worst]
    if len(terms) == len(split.terms):
        return split
    if not terms:
        return None
    fi, ti = count(cells, (1 << len(terms)) - 1)
    fa, ta = split.failing_all, split.total_all
    p = fisher_greater(fi, ti - fi, fa - fi, ta - ti - fa + fi)
    return Split(tuple(terms), fi, ti, fa, ta, min(1.0, p * bonferroni))
