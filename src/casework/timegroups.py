"""Files grouped by the time they cover, so a series is bucketed over its own stretch of time.

A bundle can hold today's logs beside a month-old rotated one or a capture from
years before. Counting today's errors over the whole span would make buckets
hours or days wide; each group of files close in time gets its own window.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from casework.findings import Window
from casework.timeline import bucket_seconds, origin_us


def time_groups(spans: dict[str, Window], links: Iterable[Iterable[str]] = ()) -> dict[str, Window]:
    """Each file's group window.

    Files whose times overlap or lie close join one group: close means a gap no
    longer than the longer of the group so far and the next file, so daily
    rotated logs chain into one group and a log from another month stands alone.
    Files named together in one of ``links`` (the files one series spans) end in
    one group whatever the gap, so every series has one window.
    """
    parent: dict[str, str] = {f: f for f in spans}

    def root(f: str) -> str:
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first: str | None = None
    start = end = None
    for file, span in sorted(spans.items(), key=lambda kv: (kv[1].start, kv[0])):
        if first is not None and start is not None and end is not None:
            reach = max(end - start, span.end - span.start)
            if span.start <= end + reach:
                join(first, file)
                end = max(end, span.end)
                continue
        first, start, end = file, span.start, span.end
    for files in links:
        named = [f for f in files if f in spans]
        for other in named[1:]:
            join(named[0], other)
    members: dict[str, list[str]] = {}
    for f in spans:
        members.setdefault(root(f), []).append(f)
    out: dict[str, Window] = {}
    for files in members.values():
        window = Window(min(spans[f].start for f in files), max(spans[f].end for f in files))
        out.update(dict.fromkeys(files, window))
    return out


def window_table(
    con: duckdb.DuckDBPyConnection, table: str, groups: dict[str, Window]
) -> dict[Window, int]:
    """A temp table ``table (file, origin, width)`` of each file's group window start and bucket
    width in microseconds, for ``bucket_index_sql(column, "g.origin", "g.width")`` after a join
    on the file; returns each window's bucket width in seconds."""
    widths = {w: bucket_seconds(w) for w in groups.values()}
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (file VARCHAR, origin BIGINT, width BIGINT)")
    if groups:
        con.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?)",
            [(f, origin_us(w), widths[w] * 1_000_000)
             for f, w in groups.items()],
        )  # fmt: skip
    return widths
