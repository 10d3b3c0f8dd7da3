"""The context around a finding in a bug report: corroborating findings, timeline, how to confirm, workaround."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from casework.bugreport.environment import changes, previous_version
from casework.bugreport.facts import Change, change_of
from casework.bugreport.model import FindingFacts, Impact, Moment
from casework.bugreport.timefmt import dt, percent, when
from casework.findings import count_text

MAX_CORROBORATING = 3


def corroborating(
    f: FindingFacts,
    base: FindingFacts,
    others: Sequence[FindingFacts],
    imp: Impact,
    change: Change | None,
) -> list[FindingFacts]:
    """Other serious findings that started with this one: related, same change, or new in the same window."""
    first, last = dt(imp.get("first_failure")), dt(imp.get("last_failure"))
    out = []
    for o in others:
        if o.id == base.id or o.severity not in ("critical", "high"):
            continue
        same_change = change is not None and change_of(o) == change
        overlaps = (
            o.stat("new") is True and o.window is not None and first is not None and last is not None
            and o.window.start <= last and o.window.end >= first
        )  # fmt: skip
        if o.id in f.related or same_change or overlaps:
            out.append(o)
    # Stack traces first: a trace is the evidence engineers ask for before anything else.
    out.sort(
        key=lambda o: (
            not any("\n\tat " in e.excerpt or "Traceback" in e.excerpt for e in o.evidence)
        )
    )
    return out[:MAX_CORROBORATING]


def timeline(con: duckdb.DuckDBPyConnection, f: FindingFacts, imp: Impact) -> list[Moment]:
    moments = changes(con)
    for name, what in (
        ("first_failure", "first failure"),
        ("last_failure", "last failure"),
        ("evidence_end", "end of the evidence"),
    ):
        ts = dt(imp.get(name))
        if ts is not None:
            moments.append(Moment(ts, what, "case store"))
    onset = dt(f.stat("onset") or f.entities.get("onset"))
    if onset is not None:
        moments.append(Moment(onset, "change point: the failure rate rises", f"finding {f.id}"))
    worst = dt(f.stat("worst_bucket"))
    if worst is not None and isinstance(f.stat("worst_rate"), float):
        moments.append(
            Moment(
                worst, f"worst bucket: {percent(f.stat('worst_rate'))} failing", f"finding {f.id}"
            )
        )
    return sorted(moments, key=lambda m: (m.ts, m.what))


def confirm(f: FindingFacts, change: Change | None) -> tuple[str, ...]:
    steps = list(dict.fromkeys(f.next_steps))
    if change and change.kind == "flag":
        steps.append(
            f"Replay the reproduction with flag {change} and with the flag as it was before:"
            " it should fail only with the new state."
        )
    elif change:
        steps.append(
            f"Replay the reproduction against {change} and against the version before it:"
            " it should fail only on the new one."
        )
    return tuple(steps)


def workaround(
    con: duckdb.DuckDBPyConnection, f: FindingFacts, imp: Impact, change: Change | None
) -> tuple[str, ...]:
    ok = imp.get("succeeded_before_first_failure")
    if change is None or not ok:
        return ()
    prev = previous_version(con, change.what, change.version)
    if prev is None:
        return ()
    version, ts, where = prev
    undo = (
        f"Set flag {change.what} back to its state before {change.version}: {version}"
        f" (set {when(ts.isoformat())}, {where})"
        if change.kind == "flag"
        else f"Roll back {change.what} to {version} (deployed {when(ts.isoformat())}, {where})"
    )
    return (
        f"{undo}: no failures were recorded while it ran; {count_text(ok)} requests in scope"
        " succeeded before the first failure.",
    )
