"""Time series for the report charts, read from the case store (read-only).

Events are counted per bucket and level class (from the per-second event counts: buckets
start on whole seconds), requests per bucket with their
5xx share, and changes (releases, deploys) become markers. The bucket width
comes from ``casework.timeline`` so the charts line up with the analyzers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from casework.findings import Window
from casework.store import open_read_only
from casework.timeline import bucket_count, bucket_seconds, bucket_sql, bucket_start

#: Level classes in stacking order (bottom first) and the raw levels they take.
LEVEL_CLASSES: dict[str, tuple[str, ...]] = {
    "error": ("error", "err", "fatal", "critical", "crit", "severe", "alert", "emerg", "panic"),
    "warn": ("warn", "warning"),
    "info": ("info", "notice", "information"),
}
OTHER = "other"
MAX_MARKERS = 20


@dataclass(frozen=True, slots=True)
class Marker:
    """A change drawn as a vertical line: a release, deploy or restart."""

    ts: datetime
    label: str


@dataclass(slots=True)
class Series:
    """Aligned per-bucket series for one window."""

    window: Window
    width: int
    starts: list[datetime]
    levels: dict[str, list[int]] = field(default_factory=dict)
    requests: list[int] = field(default_factory=list)
    requests_5xx: list[int] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)

    @property
    def events(self) -> list[int]:
        return [sum(col) for col in zip(*self.levels.values(), strict=True)] or [0] * len(
            self.starts
        )

    def share_5xx(self) -> list[float | None]:
        return [h / t if t else None for h, t in zip(self.requests_5xx, self.requests, strict=True)]

    def share_errors(self) -> list[float | None]:
        errors = self.levels.get("error", [0] * len(self.starts))
        return [e / t if t else None for e, t in zip(errors, self.events, strict=True)]


def load_series(case_path: Path, window: Window | None) -> Series | None:
    """Read the chart series from the case database; ``None`` without a window or database."""
    if window is None or not case_path.exists():
        return None
    try:
        con = open_read_only(case_path)
    except duckdb.Error:
        return None
    try:
        return _read(con, window)
    finally:
        con.close()


def _read(con: duckdb.DuckDBPyConnection, window: Window) -> Series:
    width = bucket_seconds(window)
    n = bucket_count(window, width)
    series = Series(window, width, [bucket_start(window, width, i) for i in range(n)])
    series.levels = {name: [0] * n for name in (*LEVEL_CLASSES, OTHER)}
    klass = (
        "CASE "
        + " ".join(
            f"WHEN lower(level) IN ({', '.join(repr(v) for v in values)}) THEN '{name}'"
            for name, values in LEVEL_CLASSES.items()
        )
        + f" ELSE '{OTHER}' END"
    )
    for b, k, c in con.execute(
        f"SELECT {bucket_sql('second', window, width)} b, {klass} k, sum(n) FROM event_counts"
        " WHERE second IS NOT NULL GROUP BY b, k"
    ).fetchall():
        if 0 <= b < n:
            series.levels[str(k)][b] = int(c)
    series.requests, series.requests_5xx = [0] * n, [0] * n
    for b, total, fails in con.execute(
        f"SELECT {bucket_sql('ts', window, width)} b, count(*),"
        " count(*) FILTER (WHERE status BETWEEN 500 AND 599) FROM requests"
        " WHERE ts IS NOT NULL GROUP BY b"
    ).fetchall():
        if 0 <= b < n:
            series.requests[b], series.requests_5xx[b] = int(total), int(fails)
    rows = con.execute(
        "SELECT ts, kind, coalesce(what, ''), coalesce(version, '') FROM changes"
        " WHERE ts BETWEEN ? AND ? ORDER BY ts, what LIMIT ?",
        [window.start, window.end, MAX_MARKERS],
    ).fetchall()
    series.markers = [
        Marker(ts, " ".join(p for p in (str(what), str(version)) if p) or str(kind))
        for ts, kind, what, version in rows
    ]
    return series
