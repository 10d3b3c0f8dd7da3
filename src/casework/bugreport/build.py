"""Assemble a :class:`BugReport` for one finding from findings.json and the case store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from casework.bugreport.context import confirm, corroborating, timeline, workaround
from casework.bugreport.environment import environment
from casework.bugreport.facts import Change, change_of, cohort_of, failing_status, route_of
from casework.bugreport.impact import impact
from casework.bugreport.model import BugReport, FindingFacts, Impact, ReproFiles
from casework.bugreport.scope import Scope, scope_of
from casework.bugreport.timefmt import dt, percent, when
from casework.described import GAP_KEYS, NO_FAILURE_KEY
from casework.errors import CaseworkError
from casework.findings import Evidence, count_text
from casework.notes import description, quoted
from casework.report.text import location
from casework.timeline import change_label

MAX_EVIDENCE = 5
MAX_TITLE = 150


def findings_of(doc: Mapping[str, Any]) -> list[FindingFacts]:
    return [FindingFacts.from_json(f) for f in doc.get("findings") or ()]


def pick(doc: Mapping[str, Any], finding_id: str | None) -> FindingFacts:
    """The finding named by ``finding_id`` (an id or a rank), else the top one that is a
    problem (a gap in the evidence is not one: the report cautions about it instead)."""
    findings = findings_of(doc)
    if not findings:
        raise CaseworkError("the case has no findings; there is nothing to report")
    if finding_id is None:
        # With no failure anywhere in the evidence, no other finding is a problem to report.
        nothing = next((f for f in findings if f.key == NO_FAILURE_KEY), None)
        return nothing or next((f for f in findings if f.key not in GAP_KEYS), findings[0])
    for f in findings:
        if finding_id in (f.id, str(f.rank)):
            return f
    known = ", ".join(f.id for f in findings[:10])
    raise CaseworkError(f"no finding {finding_id!r} in this case (known: {known})")


def counted(
    con: duckdb.DuckDBPyConnection, f: FindingFacts, others: Sequence[FindingFacts]
) -> tuple[FindingFacts, Scope | None]:
    """The finding whose scope is counted: ``f``, else the first related finding that has a scope."""
    scope = scope_of(con, f)
    if scope is not None:
        return f, scope
    by_id = {o.id: o for o in others}
    for rid in f.related:
        o = by_id.get(rid)
        s = scope_of(con, o) if o is not None else None
        if o is not None and s is not None:
            return o, s
    return f, None


def build(
    con: duckdb.DuckDBPyConnection,
    doc: Mapping[str, Any],
    finding_id: str | None = None,
    repro: ReproFiles | None = None,
) -> BugReport:
    """The bug report of one finding (the top one by default)."""
    f = pick(doc, finding_id)
    others = [o for o in findings_of(doc) if o.id != f.id]
    base, scope = counted(con, f, others)
    imp = impact(con, base, scope)
    first = dt(imp.get("first_failure"))
    change = change_of(f) or change_of(base)
    support = corroborating(f, base, others, imp, change)
    # A merged finding's cohort often sits in a corroborating one (the log that carries account fields).
    cohort = tuple(dict.fromkeys(c for g in (f, base, *support) for c in cohort_of(g)))
    return BugReport(
        finding=f,
        counted=base,
        title=_title(f, base, imp, scope, change, cohort),
        summary=_summary(f, base, imp, scope, change, cohort),
        impact=imp,
        environment=environment(con, base, scope, first),
        steps=_steps(base, imp, scope, repro, cohort),
        expected=_expected(base, imp, scope),
        actual=_actual(base, imp, scope),
        cohort=cohort,
        evidence=_dedupe(f.evidence or base.evidence)[:MAX_EVIDENCE],
        corroborating=tuple(support),
        timeline=tuple(timeline(con, f, imp)),
        hypothesis=f.summary,
        confirm=confirm(f, change),
        workaround=workaround(con, base, imp, change),
        repro=repro,
        reported=tuple(quoted(text)) if (text := description(con)) else (),
        caveats=tuple(o.title for o in findings_of(doc) if o.key in GAP_KEYS and o.id != f.id),
    )


def identities(imp: Impact) -> list[tuple[int, int, str, str]]:
    """(affected, seen, noun, attribute) for each id-like attribute of the failing records."""
    out = []
    for n in imp.numbers:
        if n.name.startswith("distinct:") and isinstance(n.value, int):
            key = n.name.split(":", 1)[1]
            seen = imp.get(f"population:{key}")
            noun = n.meaning.split(" (", 1)[0].removeprefix("distinct ")
            out.append((n.value, seen if isinstance(seen, int) else 0, noun, key))
    return out


def identity_lines(imp: Impact) -> list[str]:
    """``63 of 288 accounts (ctx.account.id) seen in scope had failing records``."""
    return [
        f"{a} of {s} {noun} ({key}) seen in scope had failing records"
        for a, s, noun, key in identities(imp)
    ]


def status_text(f: FindingFacts) -> str:
    low, _, exact = failing_status(f)
    return f"HTTP {exact}" if exact else f"HTTP {low // 100}xx"


def _title(
    f: FindingFacts,
    base: FindingFacts,
    imp: Impact,
    scope: Scope | None,
    change: Change | None,
    cohort: Sequence[str],
) -> str:
    if scope is None or not imp.get("failing"):
        return _clip(f.title)
    failing, _, share, at = imp.incident()
    since = when(at)
    after = f", after {'flag ' if change.kind == 'flag' else ''}{change}" if change else ""
    who = identities(imp)
    failures = f"{count_text(failing)} failures" + (f", {who[0][0]} {who[0][2]}" if who else "")
    if scope.table == "requests":
        method, path = route_of(base)
        route = f"{method} {path}" if method else str(path)
        title = f"{route} returns {status_text(base)} for {percent(share)} of requests since {since}{after} ({failures})"
    else:
        label = base.entities.get("signature") or _first_line(base.evidence)
        title = (
            f'Error "{_clip(label, 70)}" logged {count_text(failing)} times since {since}{after}'
        )
    if cohort and len(title) + len(cohort[0]) < MAX_TITLE:
        title += f", only where {cohort[0]}"
    return _clip(title)


def _summary(
    f: FindingFacts,
    base: FindingFacts,
    imp: Impact,
    scope: Scope | None,
    change: Change | None,
    cohort: Sequence[str],
) -> str:
    if scope is None or not imp.get("failing"):
        return f.summary
    going = "is still going on" if imp.get("ongoing") else "had stopped"
    text = f"{_actual(base, imp, scope)} It {going} at the end of the evidence ({when(imp.get('evidence_end'))})."
    if change:
        text += (
            f" It started just after the {change_label(change.kind, change.what, change.version)}."
        )
    if cohort:
        text += f" The failing records share: {' and '.join(cohort)}."
    who = identity_lines(imp)
    if who:
        text += f" {who[0][0].upper()}{who[0][1:]}."
    return text


def _steps(
    f: FindingFacts,
    imp: Impact,
    scope: Scope | None,
    repro: ReproFiles | None,
    cohort: Sequence[str],
) -> tuple[str, ...]:
    steps = []
    if cohort:
        steps.append(f"Pick a caller or record where {' and '.join(cohort)} (the failing cohort).")
    if repro is not None:
        if repro.secrets:
            steps.append(
                "Set the secrets the captured request carried as environment variables"
                f" (never the captured values): {', '.join(repro.secrets)}."
            )
        steps.append(
            f"Run `sh {repro.script_sh}` (curl) or `python {repro.script_py} --base-url URL`;"
            f" it replays {repro.request}."
        )
        steps.append(
            f"Observe HTTP {repro.status}, the captured status (the Python script exits 0 when it matches)."
        )
        return tuple(steps)
    first_ev = f.evidence[0] if f.evidence else None
    where = f" (as in {location(first_ev)})" if first_ev else ""
    if scope is not None and scope.table == "requests":
        method, path = route_of(f)
        steps.append(
            f"Send `{method or 'the'} {path}`{where} after {when(imp.get('first_failure'))}."
        )
        steps += [f"Use an affected caller: {line}." for line in identity_lines(imp)[:1]]
        steps.append(f"Observe the response status: {status_text(f)}, as in the failing requests.")
        return tuple(steps)
    steps.append(f"Run the operation that logged the first evidence record{where}.")
    if f.entities.get("signature"):
        steps.append(f"Watch the log for: `{_clip(f.entities['signature'], 200)}`.")
    return tuple(steps)


def _expected(f: FindingFacts, imp: Impact, scope: Scope | None) -> str:
    first = when(imp.get("first_failure"))
    if scope is not None and scope.table == "requests" and imp.get("failing"):
        ok = imp.get("succeeded_before_first_failure")
        low, _, _ = failing_status(f)
        return f"A response below HTTP {low}, as for all {count_text(ok)} requests in scope before the first failure ({first})."
    if scope is not None and imp.get("failing"):
        return f"No such record, as before {first}."
    return "The behaviour before the onset of this finding (see the timeline)."


def _actual(f: FindingFacts, imp: Impact, scope: Scope | None) -> str:
    failing, since = imp.get("failing"), imp.get("volume_since_first_failure")
    first, last = when(imp.get("first_failure")), when(imp.get("last_failure"))
    if scope is None or not failing:
        return f.title
    if scope.table == "requests" and imp.get("failing_since_onset"):
        onset, volume, share, at = imp.incident()
        return (
            f"{count_text(onset)} of {count_text(volume)} requests in scope"
            f" ({percent(share)}) failed from the onset at {when(at)} to {last}, with"
            f" {status_text(f)}; {count_text(imp.get('failing_before_onset'))} failed before it,"
            f" from {first} on."
        )
    if scope.table == "requests":
        return (
            f"{count_text(failing)} of {count_text(since)} requests in scope ({percent(imp.get('share_since_first_failure'))})"
            f" failed from {first} to {last}, with {status_text(f)}."
        )
    return f"{count_text(failing)} records between {first} and {last}."


def _dedupe(evidence: Sequence[Evidence]) -> tuple[Evidence, ...]:
    seen: dict[tuple[str, tuple[int, int] | None, tuple[str, ...]], Evidence] = {}
    for e in evidence:
        seen.setdefault((e.file, e.lines, e.refs), e)
    return tuple(seen.values())


def _first_line(evidence: Sequence[Evidence]) -> str:
    return evidence[0].excerpt.splitlines()[0] if evidence and evidence[0].excerpt else "an error"


def _clip(text: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
