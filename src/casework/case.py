"""The read side of a case store, as analyzers see it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import duckdb

from casework.findings import Window
from casework.store import open_read_only

T = TypeVar("T")

#: A request's route for grouping: the route, else the URL's path, else (a response whose request
#: could not be read, as in a capture) the host it came from.
ROUTE_SQL = (
    "coalesce(nullif(route, ''), nullif(split_part(url, '?', 1), ''),"
    " '(unreadable request to ' || coalesce(host, 'unknown host') || ')')"
)


@dataclass
class Case:
    """An opened case database plus the investigation's window and options.

    Analyzers query ``con`` with SQL (DuckDB relations, not Python lists) and
    never write to it.
    """

    con: duckdb.DuckDBPyConnection
    window: Window | None = None
    #: Results derived from the store that several analyzers use (see :meth:`memo`).
    derived: dict[tuple[object, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    def memo(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """``compute()`` once per key and window: the store is read-only, so the result holds."""
        full = (*key, self.window)
        if full not in self.derived:
            self.derived[full] = compute()
        result: T = self.derived[full]
        return result

    def count(self, table: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.con.execute(sql, list(params)).fetchone()

    def file_envs(self) -> dict[str, str | None]:
        """Bundle path -> environment (inferred from folder or file names, or given by the user)."""
        return {path: env for path, env in self.rows("SELECT path, env FROM files")}

    @classmethod
    def open(cls, path: str, window: Window | None = None) -> Case:
        con = open_read_only(path)
        case = cls(con=con, window=window)
        if window is None:
            case.window = case.data_window()
        return case

    def data_window(self) -> Window | None:
        """The span of time covered by events, requests and spans."""
        row = self.one(
            "SELECT min(t0), max(t1) FROM ("
            " SELECT min(ts) t0, max(ts) t1 FROM events UNION ALL"
            " SELECT min(ts), max(ts) FROM requests UNION ALL"
            " SELECT min(start), max(start) FROM spans)"
        )
        if not row or row[0] is None:
            return None
        start: datetime = row[0]
        end: datetime = row[1]
        return Window(start, end)
