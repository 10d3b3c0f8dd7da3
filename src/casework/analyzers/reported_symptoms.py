"""What the case description reports, checked against the evidence: is the wait or the status
the customer names anywhere in the requests, spans, plans and slow statements attached?

A bundle often misses the problem: a HAR recorded after the page was fast
again, logs of another node, a plan of the query on an idle database. Every
other analyzer reports what it finds; this one says when the evidence cannot
show what was reported, with the closest it comes, so the engineer asks for
the right files before anyone reads the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from casework.analyzers.quiet_failures import says_failed
from casework.case import ROUTE_SQL, Case
from casework.described import NO_FAILURE_KEY, Claim, durations, failures, statuses
from casework.engine import analyzer
from casework.findings import Evidence, Finding, clip
from casework.formats.httpfields import GO_NANOSECONDS, duration_unit
from casework.levels import ERROR_LEVELS, WARN_LEVELS
from casework.notes import description
from casework.plans.load import case_plans, slow_queries
from casework.report.text import seconds_text

ANALYZER = "reported_symptoms"
#: A measured wait at least this share of the reported one "comes near it".
NEAR = 0.5
#: Statuses named in a finding that says which were seen instead.
SHOWN_STATUSES = 6


@dataclass(frozen=True, slots=True)
class _Timed:
    """One measured duration: what it is, where it is, how long it took."""

    kind: str  # request, span, plan, slow statement, invocation
    label: str
    ms: float
    evidence: Evidence


@analyzer(key="reported_symptoms", needs=("notes",))
def reported_symptoms(case: Case) -> Iterator[Finding]:
    """The reported wait and HTTP statuses, against what the evidence measured."""
    text = description(case.con) or ""
    waits = durations(text)
    if waits:
        yield _wait(case, max(waits, key=lambda c: c.value))
    for claim in statuses(text):
        found = _status(case, claim)
        if found is not None:
            yield found
    said = failures(text)
    if said:
        unseen = _failures(case, said[0])
        if unseen is not None:
            yield unseen


def _wait(case: Case, claim: Claim) -> Finding:
    near = claim.value * NEAR
    timed, counts, reached = _slowest(case, near)
    measured = ", ".join(f"{n:,} {kind}{'' if n == 1 else 's'}" for kind, n in counts.items() if n)
    finding = _maker(f"wait|{claim.phrase}", claim.phrase)
    said = f'{_ms(claim.value)} ("{claim.phrase}")'
    if not timed:
        return finding(
            key="REPORTED_WAIT_UNMEASURED",
            severity="low",
            score=0.4,
            title=(
                f"The description reports waits of {said}; nothing in the evidence"
                " measures a duration (no request times, page loads, spans, plans, slow"
                " statements, Lambda reports or durations in log records)"
            ),
            summary=(
                f"The case description says {claim.phrase!r}. No file in the bundle records how"
                " long anything took, so no finding can confirm or place the wait."
            ),
            next_steps=(_ASK,),
        )
    slowest = max(timed, key=lambda t: t.ms)
    over = sorted((t for t in timed if t.ms >= near), key=lambda t: -t.ms)
    stats = {
        "reported_ms": claim.value,
        "slowest_ms": round(slowest.ms, 3),
        "near_ms": near,
        **{f"{kind.replace(' ', '_')}s": n for kind, n in counts.items()},
    }
    if not over:
        return finding(
            key="REPORTED_WAIT_NOT_SEEN",
            severity="medium",
            score=0.8,
            title=(
                f"The description reports waits of {said}; the slowest in the evidence"
                f" is {_ms(slowest.ms)} ({slowest.label}): none of {measured} comes within"
                f" {NEAR:.0%} of it"
            ),
            summary=(
                f"The case description says {claim.phrase!r}. The longest"
                " durations the bundle measured: "
                + "; ".join(f"{t.kind} {t.label} {_ms(t.ms)}" for t in _per_kind(timed))
                + ". The evidence was likely captured when, or where, it was fast: findings"
                " below are about something else unless they explain the wait."
            ),
            stats=stats,
            evidence=tuple(t.evidence for t in _per_kind(timed)),
            next_steps=(_ASK,),
        )
    return finding(
        key="REPORTED_WAIT_SEEN",
        severity="low",
        score=0.5,
        title=(
            f"The reported waits of {said} are in the evidence: {reached:,} of"
            f" {measured} took {_ms(near)} or more (slowest {_ms(slowest.ms)}, {slowest.label})"
        ),
        summary=(
            f"The case description says {claim.phrase!r}; {reached:,} measured durations"
            f" reach at least {NEAR:.0%} of it. The slowest: "
            + "; ".join(f"{t.kind} {t.label} {_ms(t.ms)}" for t in over[:3])
            + "."
        ),
        stats=stats | {"near": reached},
        evidence=tuple(t.evidence for t in over[:3]),
        next_steps=(
            "Read the slowest ones first: which route, span or statement they share is where"
            " the wait is.",
        ),
    )


_ASK = (
    "Ask for evidence from while it was slow: a HAR recorded during a slow load, the server's"
    " access log with request times for the same minutes, or a trace of a slow request."
)


#: Durations the case store holds in SQL: (kind, table, duration, filter, file/line/ref/label).
_MEASURED = (
    ("request", "requests", "duration_ms", "TRUE",
     "file, line, NULL, coalesce(method, '?') || ' ' || CASE WHEN host IS NOT NULL"
     f" AND starts_with({ROUTE_SQL}, '/') THEN host || {ROUTE_SQL} ELSE {ROUTE_SQL} END"),
    ("span", "spans", "duration_ms", "TRUE",
     "file, NULL, span_id, coalesce(service, '?') || ': ' || name"),
    # A browser's page: its requests from the first start to the last response's end.
    ("page load",
     "(SELECT file, min(line) AS line, any_value(attrs->>'$.pageref') AS page,"
     " epoch_ms(max(ts + to_microseconds(CAST(coalesce(duration_ms, 0) * 1000 AS BIGINT))))"
     " - epoch_ms(min(ts)) AS duration_ms FROM requests"
     " WHERE json_extract_string(attrs, '$.source') = 'har' AND ts IS NOT NULL"
     " GROUP BY file, attrs->>'$.pageref')",
     "duration_ms", "TRUE",
     "file, line, NULL, 'page ' || coalesce(page, '(no page id)') || ', first request to last response'"),
    # A Lambda invocation's duration from its REPORT line (``formats.lambdalog``).
    ("invocation", "events",
     "TRY_CAST(json_extract_string(attrs, '$.\"lambda.duration_ms\"') AS DOUBLE)",
     "file IN (SELECT path FROM files WHERE kind = 'lambda-log')",
     "file, line, NULL, 'Lambda invocation'"),
)  # fmt: skip


#: Log records whose keys are read for duration names (the first ones of the store).
KEY_SAMPLE = 200_000
_PLAIN_KEY = re.compile(r"[\w.\-]{1,64}")


def _logged(case: Case) -> tuple[str, str, str, str, str] | None:
    """Durations log records carry in a duration-named attribute (``elapsed_ms``, ``took``),
    as a row of ``_MEASURED``; records of HTTP requests are left to the requests."""
    keys = [
        str(k)
        for (k,) in case.rows(
            "SELECT DISTINCT unnest(json_keys(attrs)) AS k FROM (SELECT attrs FROM events"
            f" WHERE attrs IS NOT NULL LIMIT {KEY_SAMPLE}) ORDER BY k"
        )
    ]
    # Keys go into the SQL text: only plain names (a duration name has no quote in it anyway).
    named = [
        (k, f)
        for k in keys
        if _PLAIN_KEY.fullmatch(k) and not k.startswith("http.") and (f := duration_unit(k))
    ]
    if not named:
        return None
    values = []
    for key, factor in named:
        v = f"TRY_CAST(json_extract_string(attrs, '$.\"{key}\"') AS DOUBLE)"
        # An integer too large for a request's milliseconds is a Go duration in ns.
        values.append(
            f"CASE WHEN {v} >= {GO_NANOSECONDS} AND {v} = floor({v}) THEN {v} * 1e-6 ELSE {v} END"
            if factor == 1.0 else f"{v} * {factor}"
        )  # fmt: skip
    # A substring test skips the records without those keys before any JSON is parsed.
    holds = " OR ".join(f"contains(attrs::VARCHAR, '\"{k}\"')" for k, _ in named)
    return (
        "logged duration", "events", f"coalesce({', '.join(values)})",
        f"({holds}) AND json_extract(attrs, '$.\"http.status\"') IS NULL",
        "file, line, NULL, left(message, 80)",
    )  # fmt: skip


def _slowest(case: Case, near: float) -> tuple[list[_Timed], dict[str, int], int]:
    """The three slowest of each kind of timed thing, how many of each the case holds, and
    how many of them all took ``near`` ms or more."""
    timed: list[_Timed] = []
    counts: dict[str, int] = {}
    reached = 0
    logged = _logged(case)
    for kind, table, ms_sql, where, shown in (*_MEASURED, *([logged] if logged else [])):
        rows = f"FROM (SELECT *, {ms_sql} AS ms FROM {table} WHERE {where}) WHERE ms IS NOT NULL"
        row = case.one(f"SELECT count(*), count(*) FILTER (WHERE ms >= ?) {rows}", (near,))
        counts[kind] = int(row[0]) if row else 0
        reached += int(row[1]) if row else 0
        for file, line, ref, label, ms in case.rows(
            f"SELECT {shown}, ms {rows} ORDER BY ms DESC, 1, 2, 3 LIMIT 3"
        ):
            at = (int(line), int(line)) if line else None
            label = f"{label} in {file}:{line}" if line else f"{label} in {file}"
            refs = (str(ref),) if ref else ()
            timed.append(_Timed(kind, label, float(ms), Evidence(str(file), at, label, refs)))
    plans = [p for p in case_plans(case) if p.total_ms is not None]
    counts["plan"] = len(plans)
    reached += sum(1 for p in plans if (p.total_ms or 0.0) >= near)
    for p in sorted(plans, key=lambda p: -(p.total_ms or 0.0))[:3]:
        label = f"{p.root.label()} in {p.file}"
        at = (p.line, p.line) if p.line else None
        evidence = Evidence(p.file, at, label, (p.plan_id,))
        timed.append(_Timed("plan", label, float(p.total_ms or 0.0), evidence))
    statements = slow_queries(case)
    counts["slow statement"] = len(statements)
    reached += sum(1 for q in statements if q.duration_ms >= near)
    for q in sorted(statements, key=lambda q: -q.duration_ms)[:3]:
        label = f"{q.statement[:80]} in {q.file}:{q.line}"
        evidence = Evidence(q.file, (q.line, q.line), q.statement[:300])
        timed.append(_Timed("slow statement", label, q.duration_ms, evidence))
    return timed, counts, reached


def _per_kind(timed: list[_Timed]) -> list[_Timed]:
    """The slowest of each kind, slowest first."""
    best: dict[str, _Timed] = {}
    for t in timed:
        if t.kind not in best or t.ms > best[t.kind].ms:
            best[t.kind] = t
    return sorted(best.values(), key=lambda t: -t.ms)


def _status(case: Case, claim: Claim) -> Finding | None:
    code = int(claim.value)
    low, high = (code, code + 99) if claim.status_class else (code, code)
    seen = case.rows(
        f"SELECT status, count(*) n FROM (SELECT status FROM requests UNION ALL {_SPAN_STATUS})"
        " WHERE status IS NOT NULL GROUP BY status ORDER BY n DESC, status"
    )
    total = sum(int(n) for _, n in seen)
    if any(low <= int(s) <= high for s, _ in seen):
        return None  # the status analyzers report where and since when
    finding = _maker(f"status|{claim.phrase}", f"HTTP {claim.phrase}")
    if total == 0:
        return finding(
            key="REPORTED_STATUS_UNMEASURED",
            severity="low",
            score=0.4,
            title=(
                f"The description reports HTTP {claim.phrase}; no file in the evidence records"
                " HTTP responses (no access log, HAR, capture, request log or server span)"
            ),
            summary=(
                f"The case description names HTTP {claim.phrase}, but nothing in the bundle"
                " holds a response status to count it in."
            ),
            next_steps=(
                "Ask for the access log of the service that answered, or a HAR of the failing"
                " call, for the minutes it failed.",
            ),
        )
    listed = ", ".join(f"{s} ×{int(n):,}" for s, n in seen[:SHOWN_STATUSES])
    more = f" and {len(seen) - SHOWN_STATUSES} more" if len(seen) > SHOWN_STATUSES else ""
    evidence = tuple(
        Evidence(str(f), (int(line), int(line)) if line else None, f"{m or '?'} {r} → {s}")
        for f, line, m, r, s in case.rows(
            f"SELECT file, line, method, {ROUTE_SQL}, status FROM requests"
            " WHERE status >= 400 ORDER BY status DESC, ts, file, line LIMIT 3"
        )
    ) or tuple(
        Evidence(str(f), None, f"{service} {name} → {status}", (f"trace {t}",), "spans")
        for f, t, service, name, status in case.rows(
            f"SELECT file, trace_id, service, name, status FROM ({_SPAN_STATUS_ROWS})"
            " WHERE status >= 400 ORDER BY status DESC, start, trace_id LIMIT 3"
        )
    )
    return finding(
        key="REPORTED_STATUS_NOT_SEEN",
        severity="medium",
        score=0.75,
        title=(
            f"The description reports HTTP {claim.phrase}; none of the {total:,} responses in the"
            f" evidence has it ({listed}{more})"
        ),
        summary=(
            f"The case description names HTTP {claim.phrase}. The bundle's {total:,} responses"
            f" have these statuses: {listed}{more}. Either the failing calls are not in these"
            " files (another node, another time) or the reporter names the status a client"
            " showed, not the one the server sent."
        ),
        stats={"responses": total, "reported_status": code},
        evidence=evidence,
        next_steps=(
            "Ask for the access log or a HAR from the minutes the failures were seen, and which"
            " client showed the status.",
        ),
    )


def _failures(case: Case, said: str) -> Finding | None:
    """The description says something fails, and no record in the evidence is a failure: none
    at error or warning level, no message saying something failed, no HTTP 5xx, no span in
    error. The failures are elsewhere (another node, another time, the driver's log)."""
    records = case.one("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM requests)")
    total = int(records[0]) if records else 0
    if total == 0:
        return None
    loud = case.one(
        "SELECT count(*) FROM events WHERE lower(level) IN (SELECT unnest(?))",
        (list(ERROR_LEVELS + WARN_LEVELS),),
    )
    failed_requests = case.one("SELECT count(*) FROM requests WHERE status >= 500 OR status = 0")
    failed_spans = case.one("SELECT count(*) FROM spans WHERE status = 'ERROR'")
    worded = [p for (p,) in case.rows("SELECT pattern FROM templates") if says_failed(str(p))]
    counts = [int(x[0]) if x else 0 for x in (loud, failed_requests, failed_spans)]
    if any(counts) or worded:
        return None
    window = case.window
    span = f" over {seconds_text((window.end - window.start).total_seconds())}" if window else ""
    files = [
        str(f)
        for (f,) in case.rows(
            "SELECT file FROM events UNION SELECT file FROM requests ORDER BY file LIMIT 6"
        )
    ]
    return _maker("failures", said)(
        key=NO_FAILURE_KEY,
        severity="medium",
        score=0.72,
        title=(
            f'The description reports failures ("{clip(said, 100)}"); none of the {total:,}'
            f" records in the evidence is one: 0 at error or warning level, 0 messages that say"
            f" something failed, 0 HTTP 5xx, 0 spans in error{span}"
        ),
        summary=(
            f'The case description says: "{clip(said, 300)}". The bundle\'s {total:,} records'
            f" ({', '.join(files[:5])}{' and more' if len(files) > 5 else ''}) hold no failure:"
            " whatever else the report says about them describes work that went through. The"
            " failing runs are in other files (another node, another time, the component that"
            " saw the failure)."
        ),
        stats={"records": total, "error_or_warning": 0, "failure_messages": 0},
        next_steps=(
            "Ask for the logs of a failing run, from the component that reported the failure"
            " (a job's driver, the client), for the minutes it failed.",
        ),
    )


#: The HTTP status a server span answered with (semconv names are normalized at ingest).
_SPAN_STATUS_ROWS = (
    "SELECT file, trace_id, service, name, start, TRY_CAST(json_extract_string(attrs,"
    " '$.\"http.response.status_code\"') AS INTEGER) AS status FROM spans WHERE kind = 'SERVER'"
)
_SPAN_STATUS = f"SELECT status FROM ({_SPAN_STATUS_ROWS})"


def _maker(subject: str, reported: str) -> Callable[..., Finding]:
    """This analyzer's findings about one claim."""
    return partial(Finding, analyzer=ANALYZER, subject=subject, entities={"reported": reported})


def _ms(ms: float) -> str:
    return seconds_text(ms / 1000)
