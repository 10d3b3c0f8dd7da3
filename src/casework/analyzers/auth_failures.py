"""Password guessing: authentication failures by the remote source they name.

Log records that say a login failed (PAM's "authentication failure; ... rhost=X", OpenSSH's
"Failed password for U from X", "Invalid user U from X", Kerberos' "Authentication failed
from X", FTP's "Login incorrect") are grouped by their source: the ``rhost=`` or ``from``
address in the text, else a client address among the attributes. A person who mistypes fails
a few times; a source that failed ``BURST`` times or more within ``WINDOW`` is guessing. One
finding covers them all: the failures, the sources, the users tried, each guessing source's
busiest window, and whether any guessing source logged in afterwards.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Window, iso
from casework.timeline import gap_text, minute

#: Failures from one source within ``WINDOW`` that make it a guessing source.
BURST = 10
WINDOW = timedelta(minutes=10)
#: Sources named in the title and the entities.
NAMED = 3

#: What a failed login says (RE2 for the store's query; the same text in Python).
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
_SOURCE = re.compile(
    r"\brhost=([^\s;,]+)|\bfrom\s+(?:host\s+)?(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]+"
    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_USER = re.compile(
    r"\buser=(\S+)|\bfor (?:invalid user |illegal user )?(\S+) from\b|\buser (\S+) from\b"
)
#: Attribute keys that hold a client's address when the text names none.
_SOURCE_KEYS = ("client.ip", "source.ip", "src_ip", "remote_addr", "remote_ip", "rhost", "ip")


@dataclass
class _Source:
    """The failures of one source, in time order."""

    times: list[datetime] = field(default_factory=list)
    lines: list[tuple[str, int, str]] = field(default_factory=list)
    users: Counter[str] = field(default_factory=Counter)

    def busiest(self) -> tuple[int, int, int]:
        """(failures, first index, last index) of the busiest ``WINDOW``."""
        best = (0, 0, 0)
        start = 0
        for end, t in enumerate(self.times):
            while t - self.times[start] > WINDOW:
                start += 1
            if end - start + 1 > best[0]:
                best = (end - start + 1, start, end)
        return best


@analyzer(key="auth_failures", needs=("events",))
def auth_failures(case: Case) -> Iterator[Finding]:
    """Sources that failed to log in ``BURST`` times or more within ``WINDOW``: password guessing."""
    rows = case.rows(
        "SELECT file, line, ts, message, CAST(attrs AS VARCHAR) FROM events "
        "WHERE ts IS NOT NULL AND regexp_matches(message, ?) ORDER BY ts, file, line",
        [FAILED_SQL],
    )
    sources: dict[str, _Source] = {}
    unnamed = 0
    for file, line, ts, message, attrs in rows:
        source = source_of(message, attrs)
        if source is None:
            unnamed += 1
            continue
        entry = sources.setdefault(source, _Source())
        entry.times.append(ts)
        entry.lines.append((file, line, message))
        user = user_of(message)
        if user:
            entry.users[user] += 1
    guessing = {s: e for s, e in sources.items() if e.busiest()[0] >= BURST}
    if not guessing:
        return
    yield _finding(case, rows, sources, guessing, unnamed)


def source_of(message: str, attrs: str | None) -> str | None:
    """The remote address or host a failure names, else a client address attribute."""
    m = _SOURCE.search(message)
    if m is not None:
        found = m.group(1) or m.group(2)
        if found and found not in ("-", "?", "unknown", "UNKNOWN"):
            return found
    if attrs:
        values: dict[str, Any] = orjson.loads(attrs)
        for key in _SOURCE_KEYS:
            value = values.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def user_of(message: str) -> str | None:
    """The account a failure tried, when the text names one."""
    m = _USER.search(message)
    if m is None:
        return None
    return next((g for g in m.groups() if g), None)


def _finding(
    case: Case,
    rows: list[tuple[Any, ...]],
    sources: dict[str, _Source],
    guessing: dict[str, _Source],
    unnamed: int,
) -> Finding:
    ranked = sorted(
        guessing.items(), key=lambda kv: (-kv[1].busiest()[0], -len(kv[1].times), kv[0])
    )
    top, entry = ranked[0]
    burst, first, last = entry.busiest()
    users: Counter[str] = Counter()
    for _, e in ranked:
        users.update(e.users)
    guessed = sum(len(e.times) for e in guessing.values())
    failures = len(rows)
    logged_in = _logged_in_after(case, guessing)
    span = gap_text((entry.times[last] - entry.times[first]).total_seconds(), bare=True)
    title = (
        f"Password guessing: {len(guessing)} source{'s' if len(guessing) != 1 else ''} failed to log in"
        f" {BURST} or more times within {int(WINDOW.total_seconds() // 60)} minutes ({guessed:,} of"
        f" {failures:,} authentication failures); the busiest, {top}, failed {burst} times in {span}"
        f" from {minute(entry.times[first])}"
    )
    if users:
        title += "; accounts tried: " + ", ".join(f"{u} ({n})" for u, n in users.most_common(3))
    summary = (
        f"{failures:,} records say a login failed, from {len(sources)} named source"
        f"{'s' if len(sources) != 1 else ''}" + (f" ({unnamed} name none)" if unnamed else "") + "."
        f" {len(guessing)} of the sources failed {BURST} or more times within"
        f" {int(WINDOW.total_seconds() // 60)} minutes, as a program trying passwords does: "
        + "; ".join(
            f"{s} {len(e.times)} failures, at most {e.busiest()[0]} in one window from"
            f" {iso(e.times[e.busiest()[1]])}"
            for s, e in ranked[:NAMED]
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
        Evidence(entry.lines[first][0], (entry.lines[first][1], entry.lines[first][1]), entry.lines[first][2][:200]),
        Evidence(entry.lines[last][0], (entry.lines[last][1], entry.lines[last][1]), entry.lines[last][2][:200]),
    ]  # fmt: skip
    for _, e in ranked[1:NAMED]:
        i = e.busiest()[1]
        evidence.append(
            Evidence(e.lines[i][0], (e.lines[i][1], e.lines[i][1]), e.lines[i][2][:200])
        )
    evidence += [
        Evidence(file, (line, line), f"{s} logged in") for s, _, file, line in logged_in[:2]
    ]
    steps = [
        f"Block or rate-limit the guessing sources ({', '.join(s for s, _ in ranked[:NAMED])}"
        + (", …" if len(ranked) > NAMED else "")
        + "): sshd MaxAuthTries and MaxStartups, fail2ban, or the firewall.",
        "Check that no guessed account logged in: `last -i`, the auth log's Accepted lines and"
        " the accounts' recent activity" + (" (see the logins above)." if logged_in else "."),
        "Compare the bursts' times with the reported symptom: each guessing run holds login"
        " slots and CPU while it lasts.",
    ]
    times = [t for e in guessing.values() for t in e.times]
    return Finding(
        key="AUTH_GUESSING", analyzer="auth_failures", subject=top,
        severity="critical" if logged_in else "high",
        score=min(0.75 + 0.01 * len(guessing) + (0.15 if logged_in else 0.0), 0.97),
        title=title, summary=summary, window=Window(min(times), max(times)),
        entities={"source": top, "sources": ", ".join(s for s, _ in ranked[:NAMED]),
                  **({"user": users.most_common(1)[0][0]} if users else {})},
        stats={"failures": failures, "sources": len(sources), "guessing_sources": len(guessing),
               "guessing_failures": guessed, "busiest_burst": burst,
               "busiest_burst_seconds": round((entry.times[last] - entry.times[first]).total_seconds(), 1),
               "accounts_tried": len(users), "logged_in_after": len(logged_in)},
        evidence=tuple(evidence), next_steps=tuple(steps),
    )  # fmt: skip


def _logged_in_after(
    case: Case, guessing: dict[str, _Source]
) -> list[tuple[str, datetime, str, int]]:
    """Successful logins from a guessing source after its first failure."""
    found: list[tuple[str, datetime, str, int]] = []
    rows = case.rows(
        "SELECT file, line, ts, message, CAST(attrs AS VARCHAR) FROM events "
        "WHERE ts IS NOT NULL AND regexp_matches(message, ?) AND NOT regexp_matches(message, ?)"
        " AND NOT regexp_matches(message, ?) ORDER BY ts, file, line",
        [_SUCCEEDED_SQL, FAILED_SQL, _NOT_SUCCEEDED_SQL],
    )
    for file, line, ts, message, attrs in rows:
        source = source_of(message, attrs)
        entry = guessing.get(source) if source else None
        if source and entry is not None and ts >= entry.times[0]:
            found.append((source, ts, file, line))
    return found
