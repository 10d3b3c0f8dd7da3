"""The environment that matters for a finding: versions, regions, clients/SDKs and configs.

Read from the finding's entities, the ``changes`` table (what ran when the
failures started) and attributes of the failing records (user agents,
regions, versions), each fact with where it was read.
"""

from __future__ import annotations

import re
from datetime import datetime

import duckdb

from casework.bugreport.model import Fact, FindingFacts, Moment
from casework.bugreport.scope import Scope, json_attr
from casework.findings import iso
from casework.timeline import change_label

#: Entities that describe where the symptom lives rather than what it is.
_ENV_ENTITIES = re.compile(
    r"service|version|region|zone|env|host|cluster|node|pod|container|sdk|client|runtime|os|db|database|image",
    re.I,
)
_ATTR_ENV = re.compile(
    r"(?:^|[._])(region|zone|availability_zone|az|datacenter|dc|version|app_version|"
    r"service\.version|sdk|sdk_version|runtime|platform|os|browser|user_agent|useragent)$",
    re.IGNORECASE,
)
TOP_VALUES = 3
MAX_ATTR_FACTS = 8


def environment(
    con: duckdb.DuckDBPyConnection,
    f: FindingFacts,
    scope: Scope | None,
    first_failure: datetime | None,
) -> tuple[Fact, ...]:
    """Facts about the environment, entities first, then versions running, then failing-record attributes."""
    facts = [
        Fact(k, v, "finding")
        for k, v in sorted(f.entities.items())
        if _ENV_ENTITIES.search(k) and k not in ("file",)
    ]
    facts += _running_versions(con, first_failure)
    if scope is not None:
        facts += _attr_facts(con, scope)
    facts += _configs(con, f)
    return tuple(facts)


def changes(con: duckdb.DuckDBPyConnection) -> list[Moment]:
    """Every change in the case (releases, deploys, restarts, config), oldest first."""
    rows = con.execute(
        "SELECT ts, kind, what, version, source, line FROM changes WHERE ts IS NOT NULL"
        " ORDER BY ts, what, source, line"
    ).fetchall()
    return [
        Moment(ts, change_label(str(kind), str(what), str(version or "")), _where(source, line))
        for ts, kind, what, version, source, line in rows
    ]


def previous_version(
    con: duckdb.DuckDBPyConnection, what: str, version: str
) -> tuple[str, datetime, str] | None:
    """The version of ``what`` deployed before ``version``: the last one that ran without the change."""
    row = con.execute(
        "SELECT version, ts, source, line FROM changes WHERE what = ? AND version IS NOT NULL"
        " AND version <> ? AND ts < (SELECT min(ts) FROM changes WHERE what = ? AND version = ?)"
        " ORDER BY ts DESC LIMIT 1",
        [what, version, what, version],
    ).fetchone()
    if row is None:
        return None
    return str(row[0]), row[1], _where(row[2], row[3])


def _running_versions(con: duckdb.DuckDBPyConnection, at: datetime | None) -> list[Fact]:
    """For each changed thing, the version it ran when the failures started (or at the end)."""
    cutoff = "ts <= ?" if at is not None else "TRUE"
    rows = con.execute(
        "SELECT what, arg_max(version, ts), max(ts), arg_max(source, ts), arg_max(line, ts),"
        " arg_max(kind, ts)"
        f" FROM changes WHERE version IS NOT NULL AND ts IS NOT NULL AND {cutoff}"
        " GROUP BY what ORDER BY what",
        [at] if at is not None else [],
    ).fetchall()
    return [
        Fact(
            f"flag {what}" if kind == "flag" else f"{what} version",
            str(version),
            f"{_where(source, line)} ({iso(ts)})",
        )
        for what, version, ts, source, line, kind in rows
    ]


def _attr_facts(con: duckdb.DuckDBPyConnection, s: Scope) -> list[Fact]:
    failing = f"SELECT attrs FROM {s.table} WHERE {s.failing}"
    params = list(s.params)
    if s.correlated:
        failing += f" UNION ALL SELECT attrs FROM events WHERE {s.correlated}"
        params += list(s.correlated_params)
    keys = con.execute(
        f"SELECT DISTINCT k FROM (SELECT unnest(json_keys(attrs)) k FROM ({failing}) WHERE attrs IS NOT NULL) ORDER BY k",
        params,
    ).fetchall()
    facts: list[Fact] = []
    for (key,) in keys:
        if not _ATTR_ENV.search(key):
            continue
        expr = json_attr(key)
        rows = con.execute(
            f"SELECT {expr} v, count(*) n FROM ({failing}) WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {TOP_VALUES + 1}",
            params,
        ).fetchall()
        if not rows:
            continue
        total = sum(int(n) for _, n in rows)
        shown = "; ".join(f"{v}: {n}" for v, n in rows[:TOP_VALUES])
        more = " and others" if len(rows) > TOP_VALUES else ""
        facts.append(
            Fact(key, shown + more, f"attribute of the failing records ({total} carry it)")
        )
        if len(facts) >= MAX_ATTR_FACTS:
            break
    return facts


def _configs(con: duckdb.DuckDBPyConnection, f: FindingFacts) -> list[Fact]:
    """Config keys the finding names (an env diff names the key that differs)."""
    named = [v for v in f.entities.values() if v]
    if not named:
        return []
    rows = con.execute(
        "SELECT key, env, value, file, line FROM configs WHERE list_contains(?, key) ORDER BY key, env, file",
        [named],
    ).fetchall()
    return [
        Fact(f"config {key}" + (f" ({env})" if env else ""), str(value), _where(file, line))
        for key, env, value, file, line in rows
    ]


def _where(source: str | None, line: int | None) -> str:
    if not source:
        return "case store"
    return f"{source}:{line}" if line else source
