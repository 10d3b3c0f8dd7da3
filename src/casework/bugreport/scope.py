"""Which case-store rows a finding is about: its population and its failing records, as SQL.

A finding with a route (``POST /v1/refunds``) is about ``requests`` rows; a
finding with a log template is about ``events`` rows. Log records that carry
the same route and an error status or level (an application log next to the
access log) are the route's correlated records: they often hold the account
or customer ids the access log lacks.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import orjson

from casework.bugreport.facts import failing_status, route_of, template_of
from casework.bugreport.model import FindingFacts

ERROR_LEVELS = ("ERROR", "FATAL", "CRITICAL", "SEVERE", "ALERT", "EMERG", "PANIC")
_PATH_KEY = re.compile(r"(^|[._])(path|route|uri|target)$", re.IGNORECASE)
#: An event whose attributes' JSON text holds the parameter (as orjson writes it).
_MENTIONS = "contains(CAST(attrs AS VARCHAR), ?)"
_STATUS_KEY = re.compile(r"(^|[._])(status|code|status_code|statuscode)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Scope:
    """SQL predicates over one table: ``population`` (the volume) and ``failing`` (the symptom)."""

    table: Literal["requests", "events"]
    population: str
    failing: str
    params: tuple[Any, ...]
    describe: str
    scope_volume: str
    #: Predicates over ``events``: log records on the same route, and those of them that failed.
    related: str = ""
    correlated: str = ""
    correlated_params: tuple[Any, ...] = ()


def scope_of(con: duckdb.DuckDBPyConnection, f: FindingFacts) -> Scope | None:
    """The rows ``f`` talks about, or None when it names neither a route nor a log template."""
    method, path = route_of(f)
    if path:
        return _request_scope(con, f, method, path)
    template = template_of(f)
    if template:
        return Scope(
            table="events",
            population="file IN (SELECT DISTINCT file FROM events WHERE template_id = ?)",
            failing="template_id = ?",
            params=(template,),
            describe=f"log records of template {template}",
            scope_volume="every log record of the files this template appears in",
        )
    return None


def sql_literal(value: Any) -> str:
    """A parameter as SQL text, so a query shown in a report can be pasted into DuckDB."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def inline(sql: str, params: tuple[Any, ...]) -> str:
    """``sql`` with its ``?`` placeholders replaced by literals, whitespace collapsed."""
    pieces = sql.split("?")
    out = pieces[0]
    for value, piece in zip(params, pieces[1:], strict=True):
        out += sql_literal(value) + piece
    return " ".join(out.split())


def json_attr(key: str, column: str = "attrs") -> str:
    """The SQL expression reading one flattened attribute (keys contain dots) as text."""
    quoted = key.replace("\\", "\\\\").replace('"', '\\"').replace("'", "''")
    return f"json_extract_string({column}, '$.\"{quoted}\"')"


def _request_scope(
    con: duckdb.DuckDBPyConnection, f: FindingFacts, method: str | None, path: str
) -> Scope:
    terms, params = ["route = ?"], [path]
    if method:
        terms.append("method = ?")
        params.append(method)
    if f.entities.get("file"):  # a file, or the files of peer instances ("a, b")
        files = f.entities["file"].split(", ")
        terms.append(
            "file = ?" if len(files) == 1 else f"file IN ({', '.join('?' for _ in files)})"
        )
        params.extend(files)
    population = " AND ".join(terms)
    low, high, _ = failing_status(f)
    where = f"in {f.entities['file']}" if f.entities.get("file") else "in all request sources"
    described = f"{method + ' ' if method else ''}{path} requests {where}"
    related, correlated, cparams = _correlated(con, path)
    return Scope(
        table="requests",
        population=population,
        failing=f"{population} AND status BETWEEN {low} AND {high}",
        params=tuple(params),
        describe=described,
        scope_volume=described,
        related=related,
        correlated=correlated,
        correlated_params=cparams,
    )


def _correlated(con: duckdb.DuckDBPyConnection, path: str) -> tuple[str, str, tuple[Any, ...]]:
    """Events with the route in a path-like attribute and an error level or status >= 500.

    The predicates first look for the route in the attributes' JSON text, as orjson writes it
    (with its escapes): every writer of ``attrs`` serializes with orjson, so an attribute equal
    to the route is in that text, and the search is far cheaper than parsing the JSON of every
    event (37 s to 12 s for 77M events).
    """
    written = orjson.dumps(path).decode()[1:-1]
    keys = _keys_beside(con, written)
    path_keys = sorted(k for k in keys if _PATH_KEY.search(k))
    status_keys = sorted(k for k in keys if _STATUS_KEY.search(k))
    if not path_keys:
        return "", "", ()
    on_path = f"({_MENTIONS} AND (" + " OR ".join(f"{json_attr(k)} = ?" for k in path_keys) + "))"
    failed = [f"upper(level) IN ({', '.join(sql_literal(v) for v in ERROR_LEVELS)})"]
    failed += [f"TRY_CAST({json_attr(k)} AS INTEGER) >= 500" for k in status_keys]
    params = (written, *(path for _ in path_keys))
    return on_path, f"{on_path} AND ({' OR '.join(failed)})", params


#: Per connection (a report's), the keys found beside each route's text: a bug report asks for
#: the scopes of a finding and of its related findings, often on the same route.
_KEYS_BESIDE: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[str, tuple[str, ...]]] = (
    weakref.WeakKeyDictionary()
)


def _keys_beside(con: duckdb.DuckDBPyConnection, written: str) -> tuple[str, ...]:
    """The attribute keys of events whose attributes' JSON holds ``written``."""
    known = _KEYS_BESIDE.setdefault(con, {})
    if written not in known:
        known[written] = tuple(
            str(k)
            for (k,) in con.execute(
                "SELECT DISTINCT unnest(json_keys(attrs)) FROM events"
                f" WHERE attrs IS NOT NULL AND {_MENTIONS}",
                [written],
            ).fetchall()
        )
    return known[written]
