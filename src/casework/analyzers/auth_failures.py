"""Password guessing: authentication failures by the remote source they name.

Log records that say a login failed (PAM's "authentication failure; ... rhost=X", OpenSSH's
"Failed password for U from X", "Invalid user U from X", Kerberos' "Authentication failed
from X", FTP's "Login incorrect") are grouped by their source: the ``rhost=`` address in the
text, else the ``from`` address, else a client address among the attributes. A person who
mistypes fails a few times; a source that failed ``BURST`` times or more within ``WINDOW`` is
guessing. One finding covers them all: the failures, the sources, the users tried, each
guessing source's busiest window, and whether any guessing source logged in afterwards.

The counting is done in the store (a window count per source), so a brute force of millions
of lines costs no memory here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Window, iso
from casework.timeline import gap_text, minute

#: Failures from one source within ``WINDOW`` that make it a guessing source.
BURST = 10
WINDOW = timedelta(minutes=10)
#: Sources named in the title and the entities.
NAMED = 3

#: What a failed login says (RE2, in the store's queries).
FAILED_SQL = (
    r"(?i)(authentication failure|authentication failed|failed password|invalid user"
    r"|login incorrect|failed login|login failed)"
)
_SUCCEEDED_SQL = (
    r"(?i)(accepted (password|publickey|keyboard-interactive)|login (ok|succeeded|successful)"
    r"|\blogged in)"
)
#: ...unless the text says it did not ("not logged in", "never logged in").
_NOT_SUCCEEDED_SQL = r"(?i)\b(not|never|cannot|could not|failed to)\b[^.;]{0,20}logged in"
_RHOST = r"\brhost=([^\s;,]+)"
_FROM = (
    r"\bfrom\s+(?:host\s+)?(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+"
    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_USER = r"\buser=(\S+)|\bfor (?:invalid user |illegal user )?(\S+) from\b|\buser (\S+) from\b"
#: Attribute keys that hold a client's address when the text names none.
_SOURCE_KEYS = ("client.ip", "source.ip", "src_ip", "remote_addr", "remote_ip", "rhost", "ip")
_NO_SOURCE = ("", "-", "?", "unknown", "UNKNOWN")


def source_sql(message: str = "message", attrs: str = "attrs") -> str:
    """SQL for the source a record names: ``rhost=``, else ``from X``, else an address
    attribute; NULL when none."""
    texts = [
        f"regexp_extract({message}, '{_RHOST}', 1)",
        f"regexp_extract({message}, '{_FROM}', 1)",
    ]
    texts += [f"json_extract_string({attrs}, '$.\"{k}\"')" for k in _SOURCE_KEYS]
    drop = ", ".join(f"'{v}'" for v in _NO_SOURCE)
    return f"list_filter([{', '.join(texts)}], lambda v: v NOT IN ({drop}))[1]"


def user_sql(message: str = "message") -> str:
    """SQL for the account a failure tried, when the text names one; NULL otherwise."""
    groups = [f"regexp_extract({message}, '{_USER}', {i})" for i in (1, 2, 3)]
    return "coalesce(" + ", ".join(f"nullif({g}, '')" for g in groups) + ")"


@analyzer(key="auth_failures", needs=("events",))
def auth_failures(case: Case) -> Iterator[Finding]:
    """Sources that failed to log in ``BURST`` times or more within ``WINDOW``: password guessing."""
    case.con.execute(
        "CREATE OR REPLACE TEMP TABLE _auth AS SELECT file, line, ts, message,"
        f" {source_sql()} AS source, {user_sql()} AS account FROM events"
        " WHERE ts IS NOT NULL AND regexp_matches(message, ?)",
        [FAILED_SQL],
    )
    try:
        found = _guessing(case)
    finally:
        case.con.execute("DROP TABLE IF EXISTS _auth")
    yield from found


def _guessing(case: Case) -> list[Finding]:
    # Per source: its busiest window (the earliest end of the most failures within WINDOW).
    minutes = int(WINDOW.total_seconds() // 60)
    busiest = case.rows(
        "WITH w AS (SELECT source, ts, count(*) OVER (PARTITION BY source ORDER BY ts RANGE"
        f" BETWEEN INTERVAL {minutes} MINUTES PRECEDING AND CURRENT ROW) n FROM _auth"
        " WHERE source IS NOT NULL),"
        " b AS (SELECT source, n, ts, row_number() OVER (PARTITION BY source ORDER BY n DESC, ts) r"
        " FROM w)"
        " SELECT b.source, b.n, b.ts, t.total, t.first_ts, t.last_ts FROM b JOIN"
        " (SELECT source, count(*) total, min(ts) first_ts, max(ts) last_ts FROM _auth"
        "  GROUP BY source) t USING (source)"
        " WHERE b.r = 1 AND b.n >= ? ORDER BY b.n DESC, t.total DESC, b.source",
        [BURST],
    )
    if not busiest:
        return []
    return [_finding(case, [_Source(*row) for row in busiest])]


@dataclass(frozen=True, slots=True)
class _Source:
    """One guessing source: its failures, its busiest window and where that window is."""

    name: str
    burst: int
    end: datetime  # the busiest window's last failure
    total: int
    first: datetime
    last: datetime

    def window(
        self, case: Case
    ) -> tuple[tuple[str, int, datetime, str], tuple[str, int, datetime, str]]:
        """The first and last failure of the busiest window: (file, line, ts, message)."""
        rows = case.rows(
            "SELECT file, line, ts, message FROM _auth WHERE source = ? AND ts BETWEEN ? AND ?"
            " ORDER BY ts, file, line",
            [self.name, self.end - WINDOW, self.end],
        )
        return rows[0], rows[-1]


def _finding(case: Case, ranked: list[_Source]) -> Finding:
    top = ranked[0]
    (first_file, first_line, first_ts, first_text), last = top.window(case)
    failures, named, sources = case.one(
        "SELECT count(*), count(source), count(DISTINCT source) FROM _auth"
    ) or (0, 0, 0)
    unnamed = failures - named
    names = [g.name for g in ranked]
    users = case.rows(
        "SELECT account, count(*) n FROM _auth WHERE list_contains(?, source) AND account IS NOT NULL"
        " GROUP BY account ORDER BY n DESC, account",
        [names],
    )
    guessed = sum(g.total for g in ranked)
    logged_in = _logged_in_after(case, ranked)
    seconds = (top.end - first_ts).total_seconds()
    minutes = int(WINDOW.total_seconds() // 60)
    title = (
        f"Password guessing: {len(ranked)} source{'s' if len(ranked) != 1 else ''} failed to log in"
        f" {BURST} or more times within {minutes} minutes ({guessed:,} of {failures:,}"
        f" authentication failures); the busiest, {top.name}, failed {top.burst} times in"
        f" {gap_text(seconds, bare=True)} from {minute(first_ts)}"
    )
    if users:
        title += "; accounts tried: " + ", ".join(f"{u} ({n})" for u, n in users[:3])
    summary = (
        f"{failures:,} records say a login failed, from {sources} named source"
        f"{'s' if sources != 1 else ''}" + (f" ({unnamed} name none)" if unnamed else "") + "."
        f" {len(ranked)} of the sources failed {BURST} or more times within {minutes} minutes,"
        " as a program trying passwords does: "
        + "; ".join(
            f"{g.name} {g.total} failures, at most {g.burst} in one window ending {iso(g.end)}"
            for g in ranked[:NAMED]
        )
        + ("; …" if len(ranked) > NAMED else "")
        + "."
    )
    if logged_in:
        summary += (
            " Logged in afterwards: "
            + "; ".join(f"{s} at {iso(ts)} ({file}:{line})" for s, ts, file, line in logged_in)
            + "."
        )
    else:
        summary += " None of the guessing sources logged in afterwards in the evidence."
    evidence = [
        Evidence(first_file, (first_line, first_line), first_text[:200]),
        Evidence(last[0], (last[1], last[1]), last[3][:200]),
    ]
    for g in ranked[1:NAMED]:
        (file, line, _, text), _ = g.window(case)
        evidence.append(Evidence(file, (line, line), text[:200]))
    evidence += [
        Evidence(file, (line, line), f"{s} logged in") for s, _, file, line in logged_in[:2]
    ]
    steps = [
        f"Block or rate-limit the guessing sources ({', '.join(names[:NAMED])}"
        + (", …" if len(ranked) > NAMED else "")
        + "): sshd MaxAuthTries and MaxStartups, fail2ban, or the firewall.",
        "Check that no guessed account logged in: `last -i`, the auth log's Accepted lines and"
        " the accounts' recent activity" + (" (see the logins above)." if logged_in else "."),
        "Compare the bursts' times with the reported symptom: each guessing run holds login"
        " slots and CPU while it lasts.",
    ]
    return Finding(
        key="AUTH_GUESSING", analyzer="auth_failures", subject=top.name,
        severity="critical" if logged_in else "high",
        score=min(0.75 + 0.01 * len(ranked) + (0.15 if logged_in else 0.0), 0.97),
        title=title, summary=summary,
        window=Window(min(g.first for g in ranked), max(g.last for g in ranked)),
        entities={"source": top.name, "sources": ", ".join(names[:NAMED]),
                  **({"user": str(users[0][0])} if users else {})},
        stats={"failures": failures, "sources": sources, "guessing_sources": len(ranked),
               "guessing_failures": guessed, "busiest_burst": top.burst,
               "busiest_burst_seconds": round(seconds, 1),
               "accounts_tried": len(users), "logged_in_after": len(logged_in)},
        evidence=tuple(evidence), next_steps=tuple(steps),
    )  # fmt: skip


def _logged_in_after(case: Case, guessing: list[_Source]) -> list[tuple[str, datetime, str, int]]:
    """Successful logins from a guessing source after its first failure."""
    first: dict[str, Any] = {g.name: g.first for g in guessing}
    rows = case.rows(
        f"SELECT source, ts, file, line FROM (SELECT {source_sql()} AS source, ts, file, line"
        " FROM events WHERE ts IS NOT NULL AND regexp_matches(message, ?)"
        " AND NOT regexp_matches(message, ?) AND NOT regexp_matches(message, ?))"
        " WHERE list_contains(?, source) ORDER BY ts, file, line",
        [_SUCCEEDED_SQL, FAILED_SQL, _NOT_SUCCEEDED_SQL, list(first)],
    )
    return [(s, ts, file, line) for s, ts, file, line in rows if ts >= first[s]]
