"""The case description as the reports quote it: what was reported, in the reporter's words (redacted)."""

from __future__ import annotations

import duckdb

#: How much of the description a report quotes: the heading and first paragraphs, not a whole ticket.
QUOTE_CHARS = 1200


def description(con: duckdb.DuckDBPyConnection) -> str | None:
    """The bundle's description files, redacted, in bundle order; None when it had none
    (or the case store predates the ``notes`` table)."""
    known = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'notes'"
    ).fetchone()
    if not known or not known[0]:
        return None
    texts = [str(t) for (t,) in con.execute("SELECT text FROM notes ORDER BY file").fetchall()]
    return "\n\n".join(texts) if texts else None


def quoted(text: str, limit: int = QUOTE_CHARS) -> list[str]:
    """The description's first paragraphs, at most ``limit`` characters, as lines to quote;
    a cut says so."""
    lines: list[str] = []
    used = 0
    for line in text.strip().splitlines():
        line = line.rstrip()
        if used + len(line) > limit:
            lines.append(line[: max(limit - used, 0)].rstrip() + " […]")
            break
        lines.append(line)
        used += len(line) + 1
    while lines and not lines[-1]:
        lines.pop()
    return lines
