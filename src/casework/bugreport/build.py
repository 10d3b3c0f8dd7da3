"""Assemble a :class:`BugReport` for one finding from findings.json and the case store."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb

from casework.bugreport.environment import changes, environment, previous_version
from casework.bugreport.impact import impact
from casework.bugreport.model import BugReport, FindingFacts, Impact, Moment, ReproFiles
from casework.bugreport.scope import Scope, scope_of
from casework.errors import CaseworkError
from casework.findings import Stat
from casework.report.text import location

MAX_CORROBORATING = 3
MAX_TITLE = 150
_CHANGE = re.compile(r"^(?P<kind>\w+) of (?P<what>\S+) (?P<version>\S+) at ")


def pick(doc: Mapping[str, Any], finding_id: str | None) -> FindingFacts:
    """The finding named by ``finding_id`` (an id or a rank), else the top one."""
    findings = [FindingFacts.from_json(f) for f in doc.get("findings") or ()]
    if not findings:
        raise CaseworkError("the case has no findings; there is nothing to report")
    if finding_id is None:
        return findings[0]
    for f in findings:
        if finding_id in (f.id, str(f.rank)):
            return f
    known = ", ".join(f.id for f in findings[:10])
    raise CaseworkError(f"no finding {finding_id!r} in this case (known: {known})")


def build(
    con: duckdb.DuckDBPyConnection,
    doc: Mapping[str, Any],
    finding_id: str | None = None,
    repro: ReproFiles | None = None,
) -> BugReport:
    """The bug report of one finding (the top one by default)."""
    f = pick(doc, finding_id)
    scope = scope_of(con, f)
    imp = impact(con, f)
    first = _dt(imp.get("first_failure"))
    others = [FindingFacts.from_json(o) for o in doc.get("findings") or () if o.get("id") != f.id]
    return BugReport(
        finding=f,
        title=_title(f, imp, scope),
        summary=_summary(f, imp, scope),
        impact=imp,
        environment=environment(con, f, scope, first),
        steps=_steps(f, imp, scope, repro),
        expected=_expected(f, imp, scope),
        actual=_actual(f, imp, scope),
        evidence=f.evidence,
        corroborating=tuple(_corroborating(f, others, imp)),
        timeline=tuple(_timeline(con, f, imp)),
        hypothesis=f.summary,
        confirm=_confirm(f),
        workaround=_workaround(con, f, imp),
        repro=repro,
    )


def when(value: Stat) -> str:
    """``2026-11-20 13:04 UTC`` from an ISO timestamp (minutes are enough for people)."""
    ts = _dt(value)
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "—"


def percent(value: Stat) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "—"


def identity_lines(imp: Impact) -> list[str]:
    """``63 of 288 accounts (ctx.account.id) seen in scope`` for each id-like attribute."""
    out = []
    for n in imp.numbers:
        if n.name.startswith("distinct:"):
            key = n.name.split(":", 1)[1]
            population = imp.get(f"population:{key}")
            noun = n.meaning.split(" (", 1)[0].removeprefix("distinct ")
            out.append(f"{n.value} of {population} {noun} ({key}) seen in scope had failing records")
    return out


def _title(f: FindingFacts, imp: Impact, scope: Scope | None) -> str:
    failing, share = imp.get("failing"), imp.get("share_since_first_failure")
    if scope is None or not failing:
        return _clip(f.title)
    after = _change_phrase(f)
    since = when(imp.get("first_failure"))
    who = identity_lines(imp)
    cohort = f", {who[0].split(' of ', 1)[0]} {_noun(who[0])}" if who else ""
    if scope.table == "requests":
        route = f.entities.get("route") or f.entities.get("path", "")
        status = f.stat("top_status") or "5xx"
        title = f"{route} returns HTTP {status} for {percent(share)} of requests since {since}{after} ({failing} failures{cohort})"
    else:
        signature = f.entities.get("signature", "")
        level = f.entities.get("level", "error").upper()
        title = f'{level} "{_clip(signature, 70)}" logged {failing} times since {since}{after}'
    return _clip(title)


def _noun(identity_line: str) -> str:
    # "63 of 288 accounts (ctx.account.id) seen ..." -> "accounts"
    return identity_line.split(" ")[3]


def _summary(f: FindingFacts, imp: Impact, scope: Scope | None) -> str:
    if scope is None or not imp.get("failing"):
        return f.summary
    going = "is still going on" if imp.get("ongoing") else "had stopped"
    text = f"{_actual(f, imp, scope)} It {going} at the end of the evidence ({when(imp.get('evidence_end'))})."
    m = _CHANGE.match(str(f.stat("change") or ""))
    if m:
        text += f" It started just after the {m['kind']} of {m['what']} {m['version']}."
    who = identity_lines(imp)
    if who:
        text += f" {who[0][0].upper()}{who[0][1:]}."
    return text


def _change_phrase(f: FindingFacts) -> str:
    m = _CHANGE.match(str(f.stat("change") or ""))
    return f", after {m['what']} {m['version']}" if m else ""


def _steps(f: FindingFacts, imp: Impact, scope: Scope | None, repro: ReproFiles | None) -> tuple[str, ...]:
    if repro is not None:
        steps = []
        if repro.secrets:
            steps.append(
                "Set the secrets the captured request carried as environment variables"
                f" (never the captured values): {', '.join(repro.secrets)}."
            )
        steps.append(
            f"Run `sh {repro.script_sh}` (curl) or `python {repro.script_py} --base-url URL`;"
            f" it replays {repro.request}."
        )
        steps.append(f"Observe HTTP {repro.status}, the captured status (the Python script exits 0 when it matches).")
        return tuple(steps)
    first_ev = f.evidence[0] if f.evidence else None
    where = f" (as in {location(first_ev)})" if first_ev else ""
    if scope is not None and scope.table == "requests":
        route = f.entities.get("route") or f.entities.get("path", "")
        steps = [f"Send `{route}`{where} after {when(imp.get('first_failure'))}."]
        steps += [f"Use an affected caller: {line}." for line in identity_lines(imp)[:1]]
        steps.append(f"Observe the response status: {f.stat('top_status') or 'a 5xx'}, as in the failing requests.")
        return tuple(steps)
    steps = [f"Run the operation that logged the first evidence record{where}."]
    if f.entities.get("signature"):
        steps.append(f"Watch the log for: `{_clip(f.entities['signature'], 200)}`.")
    return tuple(steps)


def _expected(f: FindingFacts, imp: Impact, scope: Scope | None) -> str:
    first = when(imp.get("first_failure"))
    if scope is not None and scope.table == "requests" and imp.get("failing"):
        ok = imp.get("succeeded_before_first_failure")
        return f"A response below HTTP 500, as for all {ok} requests in scope before the first failure ({first})."
    before = f.stat("before")
    if before == 0:
        return f"No such record: none was logged before {when(f.stat('onset'))}."
    return "The behaviour before the onset of this finding (see the timeline)."


def _actual(f: FindingFacts, imp: Impact, scope: Scope | None) -> str:
    failing, since = imp.get("failing"), imp.get("volume_since_first_failure")
    first, last = when(imp.get("first_failure")), when(imp.get("last_failure"))
    if scope is None or not failing:
        return f.title
    if scope.table == "requests":
        status = f.stat("top_status") or "5xx"
        return (
            f"{failing} of {since} requests in scope ({percent(imp.get('share_since_first_failure'))})"
            f" failed from {first} to {last}, mostly with HTTP {status}."
        )
    return f"{failing} records between {first} and {last}."


def _corroborating(f: FindingFacts, others: Sequence[FindingFacts], imp: Impact) -> list[FindingFacts]:
    """Other serious findings that started with this one: same change, or new in the same window."""
    first, last = _dt(imp.get("first_failure")), _dt(imp.get("last_failure"))
    out = []
    for o in others:
        if o.severity not in ("critical", "high"):
            continue
        same_change = f.stat("change") is not None and o.stat("change") == f.stat("change")
        overlaps = (
            o.stat("new") is True and o.window is not None and first is not None and last is not None
            and o.window.start <= last and o.window.end >= first
        )  # fmt: skip
        if same_change or overlaps:
            out.append(o)
    return out[:MAX_CORROBORATING]


def _timeline(con: duckdb.DuckDBPyConnection, f: FindingFacts, imp: Impact) -> list[Moment]:
    moments = changes(con)
    for name, what in (
        ("first_failure", "first failure"),
        ("last_failure", "last failure"),
        ("evidence_end", "end of the evidence"),
    ):
        ts = _dt(imp.get(name))
        if ts is not None:
            moments.append(Moment(ts, what, "case store"))
    onset = _dt(f.stat("onset"))
    if onset is not None:
        moments.append(Moment(onset, f"change point: failures start ({f.analyzer})", "finding"))
    worst = _dt(f.stat("worst_bucket"))
    if worst is not None and isinstance(f.stat("worst_rate"), float):
        moments.append(Moment(worst, f"worst bucket: {percent(f.stat('worst_rate'))} failing", "finding"))
    return sorted(moments, key=lambda m: (m.ts, m.what))


def _confirm(f: FindingFacts) -> tuple[str, ...]:
    steps = list(f.next_steps)
    m = _CHANGE.match(str(f.stat("change") or ""))
    if m:
        steps.append(
            f"Replay the reproduction against {m['what']} {m['version']} and against the version before it:"
            " it should fail only on the new one."
        )
    return tuple(steps)


def _workaround(con: duckdb.DuckDBPyConnection, f: FindingFacts, imp: Impact) -> tuple[str, ...]:
    m = _CHANGE.match(str(f.stat("change") or ""))
    baseline = f.stat("baseline_rate")
    if not m or (baseline is not None and baseline != 0):
        return ()
    prev = previous_version(con, m["what"], m["version"])
    if prev is None:
        return ()
    version, ts, where = prev
    ok = imp.get("succeeded_before_first_failure")
    evidence = f"; {ok} requests in scope succeeded before the first failure" if ok else ""
    return (
        f"Roll back {m['what']} to {version} (deployed {when(ts.isoformat())}, {where}):"
        f" no failures were recorded while it ran{evidence}.",
    )


def _clip(text: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _dt(value: Stat) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
