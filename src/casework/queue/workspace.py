"""The queue workspace: a SQLite database that lasts across runs, with full-text search (FTS5).

SQLite rather than DuckDB here: the workspace is a long-lived store that
grows one import at a time and is searched by text (FTS5's BM25 ranking),
where DuckDB is the per-case analytical store. Ticket text is redacted on
import like all evidence.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from casework.queue.model import Ticket, TicketEvent
from casework.redact import Redactor

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY, source TEXT, title TEXT, body TEXT, created TEXT, resolved TEXT,
    status TEXT, priority TEXT, label TEXT, grp TEXT, resolution TEXT, first_response TEXT,
    reassignments INTEGER, reopens INTEGER, sla_met INTEGER, imported TEXT
);
CREATE TABLE IF NOT EXISTS ticket_events (ticket_id TEXT, ts TEXT, state TEXT, assignee TEXT);
CREATE INDEX IF NOT EXISTS ticket_events_id ON ticket_events (ticket_id);
CREATE TABLE IF NOT EXISTS clusters (ticket_id TEXT PRIMARY KEY, cluster_id INTEGER, cluster_label TEXT);
CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB);
CREATE VIRTUAL TABLE IF NOT EXISTS tickets_fts USING fts5(id UNINDEXED, title, body, resolution);
"""
# The FTS row shares the ticket row's rowid, so replacing a ticket deletes its
# text by key; a delete by the UNINDEXED id column would scan the whole index
# on every insert and make an import quadratic.


def default_workspace() -> Path:
    """The per-user workspace: ``$XDG_DATA_HOME/casework/queue`` (``~/.local/share/...``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "casework" / "queue"


class Workspace:
    """Tickets imported so far, their clusters, and a text index."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "queue.sqlite"
        self.con = sqlite3.connect(self.path)
        # One writer at a time, and a crash mid-import loses that import only.
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.executescript(SCHEMA)

    def close(self) -> None:
        self.con.close()

    def add(self, tickets: Iterable[Ticket], redactor: Redactor) -> int:
        """Insert or replace tickets (redacted); returns how many were written."""
        count = 0
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        with self.con:
            for t in tickets:
                title, body = redactor.text(t.title), redactor.text(t.body)
                resolution = redactor.text(t.resolution) if t.resolution else None
                # Free-form fields too: assignees and groups are often e-mail addresses.
                label, group = _opt(redactor, t.label), _opt(redactor, t.group)
                self._delete(t.id)
                cur = self.con.execute(
                    "INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        t.id, t.source, title, body, _iso(t.created), _iso(t.resolved), t.status, t.priority,
                        label, group, resolution, _iso(t.first_response), t.reassignments, t.reopens,
                        None if t.sla_met is None else int(t.sla_met), now,
                    ),
                )  # fmt: skip
                self.con.executemany(
                    "INSERT INTO ticket_events VALUES (?,?,?,?)",
                    [(t.id, _iso(e.ts), e.state, _opt(redactor, e.assignee)) for e in t.events],
                )
                self.con.execute(
                    "INSERT INTO tickets_fts (rowid, id, title, body, resolution) VALUES (?,?,?,?,?)",
                    (cur.lastrowid, t.id, title, body, resolution or ""),
                )
                count += 1
        return count

    def _delete(self, ticket_id: str) -> None:
        row = self.con.execute("SELECT rowid FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            return
        self.con.execute("DELETE FROM tickets_fts WHERE rowid = ?", (row[0],))
        self.con.execute("DELETE FROM tickets WHERE rowid = ?", (row[0],))
        self.con.execute("DELETE FROM ticket_events WHERE ticket_id = ?", (ticket_id,))

    def count(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM tickets").fetchone()[0])

    def tickets(self) -> list[Ticket]:
        """All tickets in id order (events not loaded)."""
        rows = self.con.execute(
            "SELECT id, source, title, body, created, resolved, status, priority, label, grp, resolution, "
            "first_response, reassignments, reopens, sla_met FROM tickets ORDER BY id"
        ).fetchall()
        return [
            Ticket(
                id=r[0], source=r[1], title=r[2] or "", body=r[3] or "", created=_dt(r[4]), resolved=_dt(r[5]),
                status=r[6], priority=r[7], label=r[8], group=r[9], resolution=r[10], first_response=_dt(r[11]),
                reassignments=r[12], reopens=r[13], sla_met=None if r[14] is None else bool(r[14]),
            )
            for r in rows
        ]  # fmt: skip

    def events(self) -> Iterator[tuple[str, TicketEvent]]:
        for ticket_id, ts, state, assignee in self.con.execute(
            "SELECT ticket_id, ts, state, assignee FROM ticket_events ORDER BY ticket_id, ts"
        ):
            when = _dt(ts)
            if when is not None:
                yield ticket_id, TicketEvent(when, state, assignee)

    def save_clusters(self, rows: Iterable[tuple[str, int, str]]) -> None:
        with self.con:
            self.con.execute("DELETE FROM clusters")
            self.con.executemany("INSERT INTO clusters VALUES (?,?,?)", rows)

    def clusters(self) -> dict[str, tuple[int, str]]:
        return {
            t: (c, label)
            for t, c, label in self.con.execute(
                "SELECT ticket_id, cluster_id, cluster_label FROM clusters"
            )
        }

    def load_vectors(self, keys: list[str]) -> dict[str, bytes]:
        """Stored embeddings of these keys (a hash of model and text: redacted text only)."""
        out: dict[str, bytes] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out.update(
                self.con.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk)
            )
        return out

    def save_vectors(self, rows: dict[str, bytes]) -> None:
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows.items())

    def search(self, query: str, limit: int = 50) -> list[str]:
        """Ticket ids matching the words of ``query``, best BM25 first."""
        words = [
            w
            for w in "".join(ch if ch.isalnum() else " " for ch in query.lower()).split()
            if len(w) > 2
        ]
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words[:64])
        rows = self.con.execute(
            "SELECT id FROM tickets_fts WHERE tickets_fts MATCH ? ORDER BY bm25(tickets_fts) LIMIT ?",
            (match, limit),
        )
        return [r[0] for r in rows]


def _opt(redactor: Redactor, value: str | None) -> str | None:
    return redactor.text(value) if value else value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
