"""Latency sketches: request durations as mergeable log-spaced bins, and quantiles read from them.

A DDSketch-style relative-error sketch: a duration ``ms > 0`` falls in bin
``ceil(ln(ms) / ln(GAMMA))`` with ``GAMMA = (1 + ALPHA) / (1 - ALPHA)``, so bin
``i`` holds ``(GAMMA**(i-1), GAMMA**i]`` and its representative value
``2 * GAMMA**i / (GAMMA + 1)`` is within ``ALPHA`` (1%) of every duration in it.
Durations ``<= 0`` share the bin ``ZERO_BIN``, read back as 0. A sketch is rows
of (key columns..., bin, n); merging sketches is ``SUM(n)`` per key and bin,
so the scan can bin each task's requests and the merge add them up, on one
core or on a cluster, with the same result. Rows whose ``bin`` is NULL count
requests without a duration, so request counts per key stay exact.

Quantiles use the nearest-rank definition of DuckDB's ``quantile_disc`` (the
``ceil(q * n)``-th smallest value), so a sketch's quantile is the exact
``quantile_disc`` of the requests to within ``ALPHA``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: The relative error of a representative value: at most 1% of the durations it stands for.
ALPHA = 0.01
GAMMA = (1 + ALPHA) / (1 - ALPHA)
#: The bin of durations <= 0 (clock skew, cached responses): below every bin of a positive double.
ZERO_BIN = -(2**31)


def bin_sql(column: str) -> str:
    """SQL for the bin of the duration in ``column``: NULL for a missing or non-finite one."""
    return (
        f"CASE WHEN {column} IS NULL OR isnan({column}) OR isinf({column}) THEN NULL"
        f" WHEN {column} <= 0 THEN {ZERO_BIN}"
        f" ELSE CAST(ceil(ln({column}) / {math.log(GAMMA)!r}) AS INTEGER) END"
    )


def value_sql(column: str) -> str:
    """SQL for the representative duration (ms) of the bin in ``column``."""
    return (
        f"CASE WHEN {column} = {ZERO_BIN} THEN 0.0"
        f" ELSE 2 * pow({GAMMA!r}, {column}) / {GAMMA + 1!r} END"
    )


def _rank(q: float) -> str:
    # DuckDB's quantile_disc index, floating-point steps included, so ties at a bin edge agree.
    return f"greatest(1, total - floor(total - {q!r} * total)) - 1"


def quantiles_sql(source: str, keys: Sequence[str], qs: Sequence[float]) -> str:
    """A query over the sketch rows of ``source`` (a table or a parenthesized SELECT).

    One row per distinct ``keys``: the keys, ``requests`` (all requests, with or
    without a duration), ``timed`` (those with one) and ``p<q*100>`` per quantile
    (``p50``, ``p99.9``), NULL where no request had a duration. Keys must be
    column names of ``source``; with no keys the whole sketch is one row.
    """
    names = ", ".join(f'"{k}"' for k in keys)
    lead = f"{names}, " if keys else ""
    part = f"PARTITION BY {names} " if keys else ""
    picks = ", ".join(
        f'{value_sql(f"min(bin) FILTER (WHERE upto > {_rank(q)})")} AS "p{_label(q)}"' for q in qs
    )
    return f"""
        WITH cells AS (
            SELECT {lead}bin, sum(n) AS n FROM {source} GROUP BY ALL
        ), cumulative AS (
            SELECT *,
                sum(n) FILTER (WHERE bin IS NOT NULL) OVER ({part}) AS total,
                sum(n) FILTER (WHERE bin IS NOT NULL) OVER (
                    {part}ORDER BY bin ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                ) AS upto
            FROM cells
        )
        SELECT {lead}CAST(sum(n) AS BIGINT) AS requests,
            CAST(coalesce(sum(n) FILTER (WHERE bin IS NOT NULL), 0) AS BIGINT) AS timed,
            {picks}
        FROM cumulative
        {"GROUP BY " + names if keys else ""}
    """


def _label(q: float) -> str:
    return f"{q * 100:g}"
