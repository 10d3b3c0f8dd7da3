"""Logs written in local time without a zone, put on UTC by the requests they share with a log
that states its zone.

An application log with naive timestamps is read in the run's zone (UTC unless
``--tz``). When it was written in Berlin, every record lands an hour late: the
deploy it logs follows the 500s the access log shows, and one incident reads as
two. Logs of one system name the same request ids; the time between a request's
record in the naive log and in a zoned log is then the zone's offset plus a few
milliseconds. When nearly all shared ids agree on one whole quarter hour, the
naive file's times are moved by it and the inventory says so.

Only files whose zone was assumed are moved, never when the user chose ``--tz``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from casework.inventory import FileEntry

#: Ids a request leaves in several logs: UUIDs and hex or decimal ids of 16+ digits.
ID_PATTERN = (
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|\b[0-9A-Fa-f]{16,}\b"
)
#: Shared ids needed, and the share of them that must agree on the offset within SLACK.
MIN_SHARED = 20
MIN_AGREEING = 0.8
SLACK = timedelta(seconds=120)
#: Zone offsets are whole quarter hours, at most 14 hours.
QUARTER = 900
MAX_OFFSET = 14 * 3600
#: Ids read per file, and records read for them: enough to agree, bounded for logs of
#: millions of records.
MAX_IDS = 20_000
MAX_ROWS = 500_000
#: An id seen more often than this in one file is a constant (a tenant, a build), not a request.
MAX_REPEATS = 3
#: Tables whose times come from a file, and the column that names it.
_TIMED = (
    ("events", "file", ("ts",)),
    ("requests", "file", ("ts",)),
    ("changes", "source", ("ts",)),
    ("spans", "file", ("start",)),
    ("event_counts", "file", ("second", "first_ts", "last_ts")),
    ("latency_bins", "file", ("hour",)),
)


@dataclass(frozen=True, slots=True)
class Alignment:
    """``file``'s times were ``offset`` ahead of ``reference``'s for ``agreeing`` of ``shared`` ids."""

    file: str
    reference: str
    offset: timedelta
    shared: int
    agreeing: int

    def zone(self) -> str:
        """The zone the file was written in, as ``UTC+01:00``."""
        minutes = int(self.offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def align(con: duckdb.DuckDBPyConnection, inventory: list[FileEntry]) -> list[Alignment]:
    """Find and apply the offset of each file whose zone was assumed, against the zoned files;
    the moved files' inventory entries get their new times and say how the zone was found."""
    zoned = [e.path for e in inventory if e.tz == "from the file" and e.first_ts is not None]
    done = []
    for entry in inventory:
        first, last = entry.first_ts, entry.last_ts
        if not zoned or not entry.tz or "assumed" not in entry.tz or not first or not last:
            continue
        mine = _ids(con, [entry.path], None)
        reach = timedelta(seconds=MAX_OFFSET) + SLACK
        refs = _ids(con, zoned, (first - reach, last + reach), list(mine)) if mine else {}
        found = _offset(mine, refs, entry.path)
        if found is None:
            continue
        _move(con, entry.path, found.offset)
        entry.first_ts, entry.last_ts = first - found.offset, last - found.offset
        entry.tz = (
            f"{found.zone()} (inferred: {found.agreeing} of {found.shared} request ids shared"
            f" with {found.reference} agree)"
        )
        done.append(found)
    return done


def _ids(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    window: tuple[datetime, datetime] | None,
    among: list[str] | None = None,
) -> dict[str, tuple[str, float]]:
    """id -> (file, epoch seconds of its first record) for ids seen at most MAX_REPEATS times in
    the first MAX_ROWS records of ``files`` (within ``window``; only ids in ``among``)."""
    where = "file IN (SELECT unnest($files)) AND ts IS NOT NULL"
    args: dict[str, object] = {"files": files, "pattern": ID_PATTERN, "repeats": MAX_REPEATS,
                               "limit": MAX_IDS, "rows": MAX_ROWS}  # fmt: skip
    if window is not None:
        where += " AND ts BETWEEN $t0 AND $t1"
        args |= {"t0": window[0], "t1": window[1]}
    wanted = ""
    if among is not None:
        wanted = " WHERE lower(id) IN (SELECT unnest($among))"
        args["among"] = among
    rows = con.execute(
        "SELECT lower(id) i, any_value(file), min(epoch(ts)) FROM ("
        " SELECT file, ts, unnest(regexp_extract_all("
        "  message || ' ' || coalesce(CAST(attrs AS VARCHAR), ''), $pattern)) AS id"
        f" FROM (SELECT file, ts, message, attrs FROM events WHERE {where} LIMIT $rows)){wanted}"
        " GROUP BY i HAVING count(*) <= $repeats ORDER BY min(ts), i LIMIT $limit",
        args,
    ).fetchall()
    return {str(i): (str(f), float(t)) for i, f, t in rows}


def _offset(
    mine: dict[str, tuple[str, float]], refs: dict[str, tuple[str, float]], file: str
) -> Alignment | None:
    pairs = [(refs[i][0], t - refs[i][1]) for i, (_, t) in mine.items() if i in refs]
    if len(pairs) < MIN_SHARED:
        return None
    median = statistics.median(d for _, d in pairs)
    offset = round(median / QUARTER) * QUARTER
    if offset == 0 or abs(offset) > MAX_OFFSET:
        return None
    agreeing = [r for r, d in pairs if abs(d - offset) <= SLACK.total_seconds()]
    if len(agreeing) < MIN_AGREEING * len(pairs):
        return None
    reference = max(set(agreeing), key=lambda r: (agreeing.count(r), r))
    return Alignment(file, reference, timedelta(seconds=offset), len(pairs), len(agreeing))


def _move(con: duckdb.DuckDBPyConnection, file: str, offset: timedelta) -> None:
    """Every time that came from ``file`` moved back by ``offset``."""
    seconds = int(offset.total_seconds())
    for table, by, columns in _TIMED:
        sets = ", ".join(f"{c} = {c} - to_seconds($s)" for c in columns)
        con.execute(f"UPDATE {table} SET {sets} WHERE {by} = $file", {"s": seconds, "file": file})
    # A template's first and last times come from its events' counts.
    con.execute(
        "UPDATE templates t SET first_ts = c.f, last_ts = c.l FROM ("
        " SELECT template_id, min(first_ts) f, max(last_ts) l FROM event_counts GROUP BY 1) c"
        " WHERE t.template_id = c.template_id"
    )
