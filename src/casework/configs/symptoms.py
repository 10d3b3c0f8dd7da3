"""Symptoms in the evidence that point at a config difference: redirects to https, aborts at N ms, clock errors.

Each symptom is read from the case store (requests and events), per
environment where the evidence's file names one, and carries the counts and
evidence pointers that a finding quotes.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from casework.case import Case
from casework.findings import Evidence
from casework.formats.httpfields import duration_in

_CLOCK_TEXT = re.compile(
    r"(not yet valid|before (?:its )?nbf|nbf|issued in the future|iat .*future|used before|"
    r"clock skew|clock drift|time (?:is )?out of sync|token is not valid yet|immature)",
    re.IGNORECASE,
)
_TIMEOUT_TEXT = re.compile(
    r"(?:time(?:d)?[ -]?out|deadline exceeded|aborted|canceled|cancelled)\D{0,40}?"
    r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?)\b",
    re.IGNORECASE,
)
#: A count a failure message states of a bounded resource: "(total=10, active=10, idle=0".
_LIMIT_WORDS = r"(?:total|max(?:imum)?|limit|size|pool|capacity|active|permits)"
_AT_LIMIT = re.compile(rf"\b{_LIMIT_WORDS}\s*[=:]\s*(\d+)\b", re.IGNORECASE)
_MEDIAN = "failing requests stop at {ms} (median)"
_STATED = "records that say they timed out or were cancelled give {ms}"
_FAILED = "(status >= 500 OR status = 0 OR status IN (408, 499) OR status IS NULL)"


@dataclass
class Symptoms:
    """What the failing environment's evidence shows, with counts and pointers."""

    redirects: Counter[tuple[str, str]] = field(default_factory=Counter)  # (host, target scheme)
    redirect_total: int = 0
    abort_ms: float | None = None
    abort_count: int = 0
    abort_total: int = 0
    #: What ``abort_ms`` was read from: the failing requests' durations (their median) or the
    #: times that records saying they timed out or were cancelled give (the commonest).
    abort_seen: str = ""
    clock_errors: int = 0
    #: The counts failure messages state of a bounded resource ("total=10"), and how many
    #: failure messages were read.
    limits: Counter[int] = field(default_factory=Counter)
    limit_total: int = 0
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    envs: dict[str, str | None] = field(default_factory=dict)

    def in_env(self, file: str, env: str | None) -> bool:
        return speaks_for(self.envs, file, env)


def speaks_for(envs: dict[str, str | None], file: str, env: str | None) -> bool:
    """Whether evidence from ``file`` speaks for ``env`` (files naming no environment speak for all)."""
    return env is None or envs.get(file) in (env, None)


def failing_env(case: Case, envs: list[str]) -> str | None:
    """The environment whose evidence shows the most failures (None when no evidence names one)."""
    failures: Counter[str] = Counter()
    env_of = case.file_envs().get
    for file, n in case.rows(
        f"SELECT file, count(*) FROM requests WHERE {_FAILED} OR status >= 400 GROUP BY file"
    ):
        env = env_of(file)
        if env in envs:
            failures[env] += n
    for file, n in case.rows(
        "SELECT file, count(*) FROM events WHERE upper(level) IN ('ERROR', 'FATAL', 'CRITICAL') GROUP BY file"
    ):
        env = env_of(file)
        if env in envs:
            failures[env] += n
    if not failures:
        return None
    return failures.most_common(1)[0][0]


def gather(case: Case, env: str | None) -> Symptoms:
    """Symptoms from evidence files of ``env`` (or of any file when ``env`` is None)."""
    found = Symptoms(envs=case.file_envs())
    _redirects(case, env, found)
    _aborts(case, env, found)
    _clock(case, env, found)
    _limits(case, env, found)
    return found


def _key_pattern(key: str) -> str | None:
    """A regular expression for a config key's last part as a message would write it
    (``max-poll-records``: max.poll.records, max_poll_records, maxPollRecords), or None when
    that part is one short word that prose uses too (``size``, ``enabled``)."""
    leaf = key.rsplit(".", 1)[-1]
    if leaf[:1].isupper() or re.search(r"(?i)(^|\.)log(ging)?\.", key):
        return None  # a class or logger name (logging.level.com.zaxxer.hikari.HikariPool)
    words = [w for w in re.split(r"[._-]+|(?<=[a-z0-9])(?=[A-Z])", leaf) if w]
    if len(words) < 2 or sum(map(len, words)) < 8:
        return None
    return r"\b" + r"[._-]?".join(re.escape(w.lower()) for w in words) + r"\b"


def named_keys(case: Case, env: str | None, keys: list[str]) -> dict[str, list[Evidence]]:
    """Per config key, the warning and error records of ``env`` that name it ("… reducing the
    maximum size of batches returned in poll() with max.poll.records"): the software saying
    which setting it ran into."""
    patterns = {k: p for k in keys if (p := _key_pattern(k)) is not None}
    if not patterns:
        return {}
    rows = case.rows(
        "SELECT file, line, message FROM events WHERE upper(level) IN ('WARN', 'WARNING',"
        " 'ERROR', 'FATAL', 'CRITICAL') AND regexp_matches(lower(message), ?)"
        " ORDER BY file, line LIMIT 5000",
        ("|".join(f"(?:{p})" for p in patterns.values()),),
    )
    compiled = {k: re.compile(p) for k, p in patterns.items()}
    envs = case.file_envs()
    named: dict[str, list[Evidence]] = {}
    for file, line, message in rows:
        if not speaks_for(envs, file, env):
            continue
        for key, pattern in compiled.items():
            m = pattern.search(message.lower())
            if m is not None:  # the excerpt shows where the record names it
                start = max(0, m.start() - 140)
                excerpt = ("…" if start else "") + message[start : m.end() + 40]
                named.setdefault(key, []).append(Evidence(file, (line, line), excerpt))
    return named


def _redirects(case: Case, env: str | None, found: Symptoms) -> None:
    rows = case.rows(
        "SELECT file, line, url, status, attrs FROM requests "
        "WHERE status IN (301, 302, 307, 308) AND url ILIKE 'http://%' ORDER BY ts, file, line"
    )
    for file, line, url, status, attrs in rows:
        if not found.in_env(file, env):
            continue
        target = _location(attrs)
        if target is not None and not target.lower().startswith("https://"):
            continue
        host = urlsplit(url).hostname or ""
        found.redirects[(host, "https")] += 1
        found.redirect_total += 1
        found.evidence.setdefault("redirect", []).append(
            Evidence(file, (line, line), f"{status} {url} -> {target or 'https'}")
        )


def _location(attrs: Any) -> str | None:
    if not attrs:
        return None
    data = orjson.loads(attrs) if isinstance(attrs, str) else attrs
    for key, value in data.items():
        if isinstance(value, str) and key.lower().rsplit(".", 1)[-1] in {
            "location",
            "redirecturl",
            "redirect_url",
        }:
            return value
    return None


def _aborts(case: Case, env: str | None, found: Symptoms) -> None:
    rows = [
        r
        for r in case.rows(
            f"SELECT file, line, duration_ms FROM requests WHERE {_FAILED} AND duration_ms > 0"
        )
        if found.in_env(r[0], env)
    ]
    durations = [float(d) for _, _, d in rows]
    stated = _stated_timeouts(case, env, found)
    if stated:
        value, count = stated.most_common(1)[0]
        found.abort_ms, found.abort_count, found.abort_total = value, count, sum(stated.values())
        found.abort_seen = _STATED
    if len(durations) >= 5:
        median = statistics.median(durations)
        near = [d for d in durations if abs(d - median) <= 0.1 * median + 5]
        if len(near) >= 0.6 * len(durations) and len(near) > found.abort_count:
            found.abort_ms, found.abort_count, found.abort_total = median, len(near), len(durations)
            found.abort_seen = _MEDIAN
            found.evidence["abort"] = [
                Evidence(f, (ln, ln), f"failed after {d:.0f} ms")
                for f, ln, d in rows
                if abs(d - median) <= 0.1 * median + 5
            ][:5]


def _stated_timeouts(case: Case, env: str | None, found: Symptoms) -> Counter[float]:
    stated: Counter[float] = Counter()
    rows = case.rows(
        "SELECT file, line, message, attrs FROM events WHERE regexp_matches(message, "
        "'(?i)(time[d]?[ -]?out|deadline exceeded|aborted|cancel)') LIMIT 5000"
    )
    for file, line, message, attrs in rows:
        if not found.in_env(file, env):
            continue
        m = _TIMEOUT_TEXT.search(message)
        if m is not None:
            value = float(m.group(1)) * (1.0 if m.group(2).lower().startswith("m") else 1000.0)
        else:  # "cancelled: deadline exceeded" with the time in a field (elapsed_ms: 800)
            timed = duration_in(orjson.loads(attrs)) if attrs else None
            if timed is None:
                continue
            value = round(timed, 3)
        stated[value] += 1
        found.evidence.setdefault("abort", []).append(Evidence(file, (line, line), message[:200]))
    return stated


def _clock(case: Case, env: str | None, found: Symptoms) -> None:
    rows = case.rows(
        "SELECT file, line, message FROM events WHERE regexp_matches(message, "
        "'(?i)(not yet valid|nbf|future|used before|clock|skew|out of sync|immature)') LIMIT 5000"
    )
    rows += case.rows(
        "SELECT file, line, CAST(attrs AS VARCHAR) FROM requests WHERE status IN (401, 403) "
        "AND regexp_matches(CAST(attrs AS VARCHAR), '(?i)(not yet valid|nbf|future|skew|immature)') LIMIT 5000"
    )
    for file, line, text in rows:
        if found.in_env(file, env) and _CLOCK_TEXT.search(text or ""):
            found.clock_errors += 1
            found.evidence.setdefault("clock", []).append(
                Evidence(file, (line, line), (text or "")[:200])
            )


def _limits(case: Case, env: str | None, found: Symptoms) -> None:
    """Counts of a bounded resource that error records state ("Connection is not available …
    (total=10, active=10, idle=0, waiting=37)"): a pool or a limit that the failing side set
    to that number is what ran out."""
    rows = case.rows(
        "SELECT file, line, message FROM events WHERE upper(level) IN ('ERROR', 'FATAL', 'CRITICAL')"
        " AND regexp_matches(message, ?) ORDER BY file, line LIMIT 5000",
        (f"(?i){_LIMIT_WORDS}\\s*[=:]\\s*\\d",),
    )
    for file, line, message in rows:
        if not found.in_env(file, env):
            continue
        numbers = {int(n) for n in _AT_LIMIT.findall(message)}
        if not numbers:
            continue
        found.limit_total += 1
        found.limits.update(numbers)
        found.evidence.setdefault("limit", []).append(Evidence(file, (line, line), message[:200]))
