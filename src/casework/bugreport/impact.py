"""Impact in numbers: each one a DuckDB query on the case store, kept with what it means.

Counts and shares come from the finding's scope (see :mod:`scope`); accounts,
customers, users, tenants or merchants come from id-like attributes of the
failing records, recognized by name and by cardinality (a value that never
varies is a constant, not an identity).
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from casework.bugreport.model import FindingFacts, Impact, Number
from casework.bugreport.scope import Scope, json_attr, scope_of
from casework.findings import Stat, iso

#: Failures in this last stretch of the evidence mean the problem is still going on.
TAIL_MINUTES = 15
_IDENTITY = re.compile(
    r"(?:^|[._-])(account|customer|user|tenant|merchant|org|organization|shop|client)"
    r"(?:[._-]?(?:id|uuid|key|name))?$",
    re.IGNORECASE,
)
_NOT_IDENTITY = re.compile(r"agent|trace|span|request|session|correlation|ip$|address", re.I)
MAX_IDENTITY_KEYS = 4
CHART_BUCKETS = 48


def impact(con: duckdb.DuckDBPyConnection, f: FindingFacts, scope: Scope | None = None) -> Impact:
    """The impact numbers of ``f`` (in ``scope``, by default its own); a note when nothing is countable."""
    scope = scope if scope is not None else scope_of(con, f)
    if scope is None:
        return Impact(scope="", note="not computed: the finding names no route or log template")
    numbers = _volume(con, scope)
    if not numbers or not numbers[0].value:
        return Impact(scope=scope.describe, numbers=tuple(numbers), note="no failing records found")
    numbers += _since_onset(con, scope, f)
    numbers += _identities(con, scope)
    series, minutes = _series(con, scope)
    return Impact(
        scope=scope.describe, numbers=tuple(numbers), series=series, bucket_minutes=minutes
    )


def _series(con: duckdb.DuckDBPyConnection, s: Scope) -> tuple[tuple[int, ...], int]:
    """Failing records per bucket from the first record of any kind to the last (about 48 buckets)."""
    span = con.execute(
        "SELECT epoch(max(t1)) - epoch(min(t0)) FROM (SELECT min(ts) t0, max(ts) t1 FROM events"
        " UNION ALL SELECT min(ts), max(ts) FROM requests)"
    ).fetchone()
    seconds = float(span[0]) if span and span[0] is not None else 0.0
    minutes = max(1, round(seconds / 60 / CHART_BUCKETS))
    rows = con.execute(
        f"WITH start AS (SELECT least((SELECT min(ts) FROM events), (SELECT min(ts) FROM requests)) t)"
        f" SELECT floor((epoch(ts) - epoch((SELECT t FROM start))) / {minutes * 60})::INTEGER b, count(*)"
        f" FROM {s.table} WHERE {s.failing} GROUP BY b ORDER BY b",
        list(s.params),
    ).fetchall()
    counts = dict(rows)
    last = int(seconds // (minutes * 60))
    return tuple(int(counts.get(b, 0)) for b in range(last + 1)), minutes


def evidence_end_sql() -> str:
    """The last timestamp of any record: where "still going on" is judged."""
    return (
        "SELECT max(t) FROM (SELECT max(ts) t FROM events UNION ALL SELECT max(ts) FROM requests)"
    )


def _volume(con: duckdb.DuckDBPyConnection, s: Scope) -> list[Number]:
    # Population and failing predicates take the same parameters (failing extends population).
    t, p = s.table, s.params
    what = "requests" if t == "requests" else "log records"
    first_q = f"SELECT min(ts) FROM {t} WHERE {s.failing}"
    end_q = evidence_end_sql()
    specs: list[tuple[str, str, str, tuple[Any, ...]]] = [
        (
            "failing",
            f"failing {what} ({s.describe})",
            f"SELECT count(*) FROM {t} WHERE {s.failing}",
            p,
        ),
        (
            "volume",
            f"all {what} in scope ({s.scope_volume})",
            f"SELECT count(*) FROM {t} WHERE {s.population}",
            p,
        ),
        (
            "volume_since_first_failure",
            f"{what} in scope from the first failure on",
            f"SELECT count(*) FROM {t} WHERE {s.population} AND ts >= ({first_q})",
            p + p,
        ),
        (
            "share_since_first_failure",
            f"share of {what} in scope that failed, from the first failure on",
            f"SELECT (SELECT count(*) FROM {t} WHERE {s.failing})::DOUBLE"
            f" / nullif((SELECT count(*) FROM {t} WHERE {s.population} AND ts >= ({first_q})), 0)",
            p + p + p,
        ),
        (
            "share_of_all",
            f"share of all {what} in the case that are these failures",
            f"SELECT (SELECT count(*) FROM {t} WHERE {s.failing})::DOUBLE"
            f" / nullif((SELECT count(*) FROM {t}), 0)",
            p,
        ),
        ("first_failure", "first failing record (UTC)", first_q, p),
        (
            "last_failure",
            "last failing record (UTC)",
            f"SELECT max(ts) FROM {t} WHERE {s.failing}",
            p,
        ),
        ("evidence_end", "last record of any kind in the case (UTC)", end_q, ()),
        (
            "failing_in_last_15_min",
            f"failing {what} in the last {TAIL_MINUTES} minutes of the evidence",
            f"SELECT count(*) FROM {t} WHERE {s.failing}"
            f" AND ts > ({end_q}) - INTERVAL {TAIL_MINUTES} MINUTE",
            p,
        ),
    ]
    if t == "requests":
        specs.append(
            (
                "succeeded_before_first_failure",
                f"{what} in scope that did not fail before the first failure",
                f"SELECT count(*) FROM {t} WHERE {s.population} AND NOT ({s.failing})"
                f" AND ts < ({first_q})",
                p + p + p,
            )
        )
    if s.correlated:
        specs.append(
            (
                "correlated_log_records",
                "log records with this route and an error level or status (application logs)",
                f"SELECT count(*) FROM events WHERE {s.correlated}",
                s.correlated_params,
            )
        )
    numbers = [_number(con, *spec) for spec in specs]
    tail = next(n for n in numbers if n.name == "failing_in_last_15_min")
    numbers.append(
        Number(
            name="ongoing",
            value=bool(tail.value),
            meaning=f"still failing at the end of the evidence (failures in its last {TAIL_MINUTES} minutes)",
            sql=tail.sql,
            params=tail.params,
        )
    )
    return numbers


#: Failures this long before the finding's onset are the scope's background: when there are
#: any, the incident is counted from its onset (failures a few minutes before it, right after
#: a deploy, are the incident's own first ones).
BACKGROUND_S = 600


def _since_onset(con: duckdb.DuckDBPyConnection, s: Scope, f: FindingFacts) -> list[Number]:
    """From the finding's onset on: the failures and the volume, when the scope also failed
    before it (a route's steady 502s before a flag broke it at 14:05): the incident's numbers,
    apart from the background's."""
    at = next(
        (
            float(v)
            for k in ("since_epoch", "onset_epoch")
            if isinstance(v := f.stat(k), int | float)
        ),
        None,
    )
    if at is None:
        return []
    t, p = s.table, s.params
    onset = f"to_timestamp({at})"
    before = con.execute(
        f"SELECT count(*) FROM {t} WHERE {s.failing} AND ts < {onset} - INTERVAL {BACKGROUND_S} SECOND",
        list(p),
    ).fetchone()
    if not before or not before[0]:
        return []
    what = "requests" if t == "requests" else "log records"
    specs: list[tuple[str, str, str, tuple[Any, ...]]] = [
        ("onset", "the finding's onset (UTC)", f"SELECT {onset}", ()),
        (
            "failing_since_onset",
            f"failing {what} from the onset on",
            f"SELECT count(*) FROM {t} WHERE {s.failing} AND ts >= {onset}",
            p,
        ),
        (
            "volume_since_onset",
            f"{what} in scope from the onset on",
            f"SELECT count(*) FROM {t} WHERE {s.population} AND ts >= {onset}",
            p,
        ),
        (
            "failing_before_onset",
            f"failing {what} before the onset",
            f"SELECT count(*) FROM {t} WHERE {s.failing} AND ts < {onset}",
            p,
        ),
    ]
    return [_number(con, *spec) for spec in specs]


def _identities(con: duckdb.DuckDBPyConnection, s: Scope) -> list[Number]:
    """Distinct accounts/customers/... among the failing records, per id-like attribute."""
    failing = f"SELECT attrs FROM {s.table} WHERE {s.failing}"
    params: tuple[Any, ...] = s.params
    if s.correlated:
        failing += f" UNION ALL SELECT attrs FROM events WHERE {s.correlated}"
        params += s.correlated_params
    keys = con.execute(
        f"SELECT k, count(*) FROM (SELECT unnest(json_keys(attrs)) k FROM ({failing}) WHERE attrs IS NOT NULL)"
        " GROUP BY k ORDER BY k",
        list(params),
    ).fetchall()
    out: list[Number] = []
    for key, _ in keys:
        if not _IDENTITY.search(key) or _NOT_IDENTITY.search(key):
            continue
        expr = json_attr(key)
        population, pparams = _population_sql(s, key)
        varying = con.execute(population, list(pparams)).fetchone()
        if not varying or int(varying[0]) < 2:
            continue  # the same value everywhere: a constant (an app name), not who is affected
        noun = _noun(key)
        out.append(
            _number(
                con,
                f"distinct:{key}",
                f"distinct {noun} ({key}) among the failing records",
                f"SELECT count(DISTINCT {expr}) FROM ({failing})",
                params,
            )
        )
        out.append(
            Number(
                f"population:{key}",
                int(varying[0]),
                f"distinct {noun} ({key}) seen in scope",
                population,
                pparams,
            )
        )
        if len(out) >= 2 * MAX_IDENTITY_KEYS:
            break
    return out


def _population_sql(s: Scope, key: str) -> tuple[str, tuple[object, ...]]:
    """Distinct values of ``key`` among every record in scope, failing or not."""
    records = f"SELECT attrs FROM {s.table} WHERE {s.population}"
    params: tuple[object, ...] = s.params
    if s.related:
        # Ids often live only in the application log: count its records on the same route too.
        records += f" UNION ALL SELECT attrs FROM events WHERE {s.related}"
        params += s.correlated_params
    return f"SELECT count(DISTINCT {json_attr(key)}) FROM ({records})", params


def _noun(key: str) -> str:
    m = _IDENTITY.search(key)
    word = m.group(1).lower() if m else "id"
    return {"org": "organizations", "organization": "organizations"}.get(word, word + "s")


def _number(
    con: duckdb.DuckDBPyConnection, name: str, meaning: str, sql: str, params: tuple[Any, ...]
) -> Number:
    row = con.execute(sql, list(params)).fetchone()
    value: Any = row[0] if row else None
    return Number(name=name, value=_stat(value), meaning=meaning, sql=sql, params=params)


def _stat(value: Any) -> Stat:
    if hasattr(value, "isoformat"):
        return iso(value)
    if isinstance(value, float):
        return round(value, 6)
    return value  # type: ignore[no-any-return]
