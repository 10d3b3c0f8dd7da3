"""Failures logged below warning level: "fails silently" is often an error the code caught and
logged at info ("upload cancelled: deadline exceeded"), which no error count includes.

A template is a quiet failure when its text says something failed (failed,
cancelled, timed out, deadline exceeded, refused, denied, rejected, aborted,
unable to, could not, exception) and, in a file whose records carry a level,
its records are all below warning (info, debug, notice, trace). Counts come
from the scan's ``event_counts``; the evidence is the template's first records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window
from casework.levels import ERROR_LEVELS, WARN_LEVELS

#: Words that say an operation did not succeed.
FAILURE_WORDS = re.compile(
    r"\b(?:failed|failure|fails|cancell?ed|timed[ -]?out|deadline exceeded|refused|denied"
    r"|rejected|aborted|unable to|could not|couldn't|cannot|can't|exception|giving up|gave up"
    r"|unreachable)\b",
    re.IGNORECASE,
)
#: ...unless they say it did not happen ("0 failed", "no failures", "without error").
NEGATED = re.compile(
    r"\b(?:no|not|0|zero|without|never)\s+(?:\w+\s+)?(?:failed|failures?|fails|exceptions?"
    r"|errors?)\b|\b(?:failed|failures?)\s*[=:]\s*0\b",
    re.IGNORECASE,
)


#: Where a logged SQL statement starts (a database's slow-query or statement log): its text
#: is the query, whose values (``status <> 'cancelled'``) say nothing about how it went.
SQL_TEXT = re.compile(
    r"\b(?:statement|query|sql|execute\s+\S+)\s*[:=]\s*(?:select|insert|update|delete|with|merge)\b",
    re.IGNORECASE,
)


def says_failed(text: str) -> bool:
    """Whether a message (or its template) says something failed, and not that nothing did;
    the text of a SQL statement in it is not read."""
    sql = SQL_TEXT.search(text)
    if sql is not None:
        text = text[: sql.start()]
    return bool(FAILURE_WORDS.search(text)) and not NEGATED.search(text)


#: A quiet failure must be this many records and this share of its file's records.
MIN_RECORDS = 20
MIN_SHARE = 0.01
MAX_FINDINGS = 5


@analyzer(key="quiet_failures", needs=("event_counts",))
def quiet_failures(case: Case) -> Iterator[Finding]:
    """Templates whose text says something failed, logged only below warning level."""
    loud = ", ".join(f"'{lv}'" for lv in ERROR_LEVELS + WARN_LEVELS)
    rows = case.rows(
        "SELECT c.file, c.template_id, any_value(t.pattern), sum(c.n),"
        f" count(*) FILTER (WHERE lower(c.level) IN ({loud})),"
        " string_agg(DISTINCT upper(c.level), ', ' ORDER BY upper(c.level)),"
        " min(c.first_ts), max(c.last_ts)"
        " FROM event_counts c JOIN templates t USING (template_id)"
        " WHERE c.template_id IS NOT NULL GROUP BY c.file, c.template_id"
        " HAVING count(*) FILTER (WHERE c.level IS NULL) = 0 AND sum(c.n) >= ?",
        (MIN_RECORDS,),
    )
    totals = dict(case.rows("SELECT file, sum(n) FROM event_counts GROUP BY file"))
    made = []
    for file, template, pattern, n, loud_cells, levels, first, last in rows:
        text = str(pattern)
        if loud_cells or not says_failed(text):
            continue
        share = int(n) / max(int(totals.get(file, 0)), 1)
        if share < MIN_SHARE:
            continue
        made.append(_finding(case, str(file), str(template), text, int(n), share, str(levels),
                             Window(first, last) if first and last else None))  # fmt: skip
    made.sort(key=lambda f: (-f.score, f.subject))
    yield from made[:MAX_FINDINGS]


def _finding(
    case: Case,
    file: str,
    template: str,
    text: str,
    n: int,
    share: float,
    levels: str,
    window: Window | None,
) -> Finding:
    severity: Severity = "medium" if share >= 0.05 or n >= 100 else "low"
    shown = text if len(text) <= 120 else text[:117] + "…"
    return Finding(
        key="QUIET_FAILURE",
        analyzer="quiet_failures",
        subject=f"{file}|{template}",
        severity=severity,
        score=round(min(0.7, 0.3 + 2 * share), 4),
        title=(
            f'{n:,} records logged at {levels} say something failed: "{shown}" ({file},'
            f" {share:.1%} of its records); none of them at warning or error level"
        ),
        summary=(
            f'In {file}, {n:,} records of the template "{shown}" say an operation failed, and'
            f" every one is logged at {levels}. Error counts, alerts and the other analyzers'"
            " failure rates do not include them: a failure the code caught and logged quietly"
            " is how a service fails silently."
        ),
        window=window,
        entities={"file": file, "template_id": template, "template": shown, "levels": levels},
        stats={"records": n, "share": round(share, 6)},
        evidence=_samples(case, template, file),
        next_steps=(
            "Count these as failures: check whether they began with the reported problem and"
            " whether the callers retried or gave up.",
            "Ask the developers why this outcome is logged at this level (a caught error that"
            " should reach the caller or an error log).",
        ),
    )


def _samples(case: Case, template: str, file: str) -> tuple[Evidence, ...]:
    rows = case.rows(
        "SELECT e.file, e.line, e.end_line, e.message FROM template_samples s"
        " JOIN events e ON e.file = s.file AND e.line = s.line"
        " WHERE s.template_id = ? AND s.file = ? ORDER BY s.line LIMIT 3",
        (template, file),
    )
    return tuple(Evidence(str(f), (int(a), int(b or a)), str(m)[:300]) for f, a, b, m in rows if a)
