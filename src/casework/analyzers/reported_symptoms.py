"""What the case description reports, checked against the evidence: is the wait or the status
the customer names anywhere in the requests, spans, plans and slow statements attached?

A bundle often misses the problem: a HAR recorded after the page was fast
again, logs of another node, a plan of the query on an idle database. Every
other analyzer reports what it finds; this one says when the evidence cannot
show what was reported, with the closest it comes, so the engineer asks for
the right files before anyone reads the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from casework.case import ROUTE_SQL, Case
from casework.described import Claim, durations, statuses
from casework.engine import analyzer
from casework.findings import Evidence, Finding
from casework.notes import description
from casework.plans.load import case_plans, slow_queries

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


def _wait(case: Case, claim: Claim) -> Finding:
    near = claim.value * NEAR
    timed, counts, reached = _slowest(case, near)
    measured = ", ".join(f"{n:,} {kind}{'' if n == 1 else 's'}" for kind, n in counts.items() if n)
    subject, entities = f"wait|{claim.phrase}", {"reported": claim.phrase}
    said = f'{_ms(claim.value)} ("{claim.phrase}")'
    if not timed:
        return Finding(
            key="REPORTED_WAIT_UNMEASURED",
            analyzer=ANALYZER,
            subject=subject,
            severity="low",
            score=0.4,
            entities=entities,
            title=(
                f"The description reports waits of {said}; nothing in the evidence"
                " measures a duration (no request times, spans, plans, slow statements or"
                " Lambda reports)"
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
        return Finding(
            key="REPORTED_WAIT_NOT_SEEN",
            analyzer=ANALYZER,
            subject=subject,
            severity="medium",
            score=0.8,
            entities=entities,
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
    return Finding(
        key="REPORTED_WAIT_SEEN",
        analyzer=ANALYZER,
        subject=subject,
        severity="low",
        score=0.5,
        entities=entities,
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


def _slowest(case: Case, near: float) -> tuple[list[_Timed], dict[str, int], int]:
    """The three slowest of each kind of timed thing, how many of each the case holds, and
    how many of them all took ``near`` ms or more."""
    timed: list[_Timed] = []
    counts: dict[str, int] = {}
    reached = 0
    for kind, table in (("request", "requests"), ("span", "spans")):
        row = case.one(
            f"SELECT count(*), count(*) FILTER (WHERE duration_ms >= ?) FROM {table}"
            " WHERE duration_ms IS NOT NULL",
            (near,),
        )
        counts[kind] = int(row[0]) if row else 0
        reached += int(row[1]) if row else 0
    for file, line, method, host, route, ms in case.rows(
        f"SELECT file, line, method, host, {ROUTE_SQL}, duration_ms FROM requests"
        " WHERE duration_ms IS NOT NULL ORDER BY duration_ms DESC, file, line LIMIT 3"
    ):
        where = f"{host}{route}" if host and str(route).startswith("/") else route
        label = f"{method or '?'} {where} in {file}:{line}"
        at = (int(line), int(line)) if line else None
        timed.append(_Timed("request", label, float(ms), Evidence(str(file), at, label)))
    for file, span, name, service, ms in case.rows(
        "SELECT file, span_id, name, service, duration_ms FROM spans"
        " WHERE duration_ms IS NOT NULL ORDER BY duration_ms DESC, file, span_id LIMIT 3"
    ):
        label = f"{service}: {name} in {file}"
        timed.append(_Timed("span", label, float(ms), Evidence(str(file), None, label, (span,))))
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
    invocations = case.rows(
        f"SELECT file, line, {_INVOKED} ms FROM events WHERE file IN"
        " (SELECT path FROM files WHERE kind = 'lambda-log') AND ms IS NOT NULL"
        " ORDER BY ms DESC, file, line"
    )
    counts["invocation"] = len(invocations)
    reached += sum(1 for _, _, ms in invocations if ms >= near)
    for file, line, ms in invocations[:3]:
        label = f"Lambda invocation in {file}:{line}"
        timed.append(
            _Timed("invocation", label, float(ms), Evidence(str(file), (line, line), label))
        )
    return timed, counts, reached


#: A Lambda invocation's duration from its REPORT line (``formats.lambdalog``).
_INVOKED = "TRY_CAST(json_extract_string(attrs, '$.\"lambda.duration_ms\"') AS DOUBLE)"


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
        "SELECT status, count(*) n FROM requests WHERE status IS NOT NULL"
        " GROUP BY status ORDER BY n DESC, status"
    )
    total = sum(int(n) for _, n in seen)
    if any(low <= int(s) <= high for s, _ in seen):
        return None  # the status analyzers report where and since when
    subject, entities = f"status|{claim.phrase}", {"reported": f"HTTP {claim.phrase}"}
    if total == 0:
        return Finding(
            key="REPORTED_STATUS_UNMEASURED",
            analyzer=ANALYZER,
            subject=subject,
            severity="low",
            score=0.4,
            entities=entities,
            title=(
                f"The description reports HTTP {claim.phrase}; no file in the evidence records"
                " HTTP responses (no access log, HAR, capture or request log)"
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
    )
    return Finding(
        key="REPORTED_STATUS_NOT_SEEN",
        analyzer=ANALYZER,
        subject=subject,
        severity="medium",
        score=0.75,
        entities=entities,
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


def _ms(ms: float) -> str:
    if ms >= 60_000:
        return f"{ms / 60_000:.1f} min"
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"
