"""``casework update``: a status update for the customer, drafted from the case's top finding.

What we know, what we do not know yet, what we are doing next, and when the
next update comes. Every statement is made from the bug report's numbers;
the text is plain (no analysis jargon) and passes :func:`plain.sanitize`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from casework.bugreport import load_case
from casework.bugreport.build import build, status_text
from casework.bugreport.facts import Change, change_of, failing_status, route_of
from casework.bugreport.model import BugReport, FindingFacts
from casework.described import GAP_KEYS
from casework.findings import count_text
from casework.update.plain import jargon_in, sanitize

__all__ = ["CustomerUpdate", "draft", "jargon_in", "render", "sanitize", "who_fails"]

DEFAULT_NEXT_UPDATE = "in 4 hours"


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    known: tuple[str, ...]
    unknown: tuple[str, ...]
    doing: tuple[str, ...]
    next_update: str
    #: What the customer can send so the files show the problem they described.
    asks: tuple[str, ...] = ()


def draft(case_dir: Path, next_update: str = DEFAULT_NEXT_UPDATE) -> CustomerUpdate:
    """The update for the case in ``case_dir`` (its top finding and related ones)."""
    doc, con = load_case(case_dir)
    try:
        if not doc.get("findings"):
            return CustomerUpdate(
                known=("We have read the logs you sent and have not yet found a clear cause.",),
                unknown=("What is behind the problem you described.",),
                doing=("We are going through the logs in more detail.",),
                next_update=next_update,
            )
        facts = [FindingFacts.from_json(f) for f in doc["findings"]]
        gaps = [f for f in facts if f.key in GAP_KEYS]
        if facts[0].key in GAP_KEYS:
            # Nothing found outranks the gap: what the files do show is not the problem.
            return CustomerUpdate(
                known=tuple(_gap(g) for g in gaps),
                unknown=(
                    "What is behind the problem you described: the files do not show it yet.",
                ),
                doing=("We will go through the new files as soon as they arrive.",),
                next_update=next_update,
                asks=tuple(dict.fromkeys(_ask(g) for g in gaps)),
            )
        report = build(con, doc)
        others = facts[1:]
    finally:
        con.close()
    change = change_of(report.finding) or change_of(report.counted)
    return CustomerUpdate(
        known=(*_known(report, others, change), *(_gap(g) for g in gaps)),
        unknown=tuple(_unknown(report, change)),
        doing=tuple(_doing(report, change)),
        next_update=next_update,
        asks=tuple(dict.fromkeys(_ask(g) for g in gaps)),
    )


def _gap(g: FindingFacts) -> str:
    """What the files do not show of what the customer described, in their words."""
    reported = g.entities.get("reported", "what you described")
    slowest = g.stat("slowest_ms")
    if g.key == "REPORTED_WAIT_NOT_SEEN" and isinstance(slowest, int | float):
        return (
            f"The files you sent do not show the {reported} you described: the longest wait"
            f" recorded in them is {_duration(float(slowest))}."
        )
    if g.key == "REPORTED_STATUS_NOT_SEEN":
        return (
            f"None of the {g.stat('responses')} responses in the files you sent is the"
            f" {reported} you described."
        )
    if g.key == "REPORTED_STATUS_UNMEASURED":
        return f"The files you sent hold no HTTP responses, so we cannot see the {reported} yet."
    return (
        f"The files you sent do not record how long requests took, so we cannot see the"
        f" {reported} you described yet."
    )


def _ask(g: FindingFacts) -> str:
    if g.key.startswith("REPORTED_WAIT"):
        return (
            "A HAR recorded in the browser while it is slow (developer tools, Network tab, then"
            " Save all as HAR), and the server's access log with request times for the same minutes."
        )
    return (
        "The access log of the service that answered, or a HAR of the failing call, from the"
        " minutes the errors were seen."
    )


def _duration(ms: float) -> str:
    return f"{ms / 1000:.1f} seconds" if ms >= 1000 else f"{ms:.0f} milliseconds"


def render(u: CustomerUpdate, *, allow_internal_hosts: bool = False) -> str:
    lines = ["Hello,", "", "Here is where we are with your case.", "", "What we know:"]
    lines += [f"- {s}" for s in u.known]
    lines += ["", "What we don't know yet:"]
    lines += [f"- {s}" for s in u.unknown]
    lines += ["", "What we are doing next:"]
    lines += [f"- {s}" for s in u.doing]
    if u.asks:
        lines += ["", "What would help us most:"]
        lines += [f"- {s}" for s in u.asks]
    lines += ["", f"We will send the next update {u.next_update}, or sooner if we learn more.", ""]
    return sanitize("\n".join(lines), allow_internal_hosts=allow_internal_hosts)


def _known(r: BugReport, others: list[FindingFacts], change: Change | None) -> list[str]:
    imp, f = r.impact, r.counted
    first, last, end = (
        _when(imp.get(k)) for k in ("first_failure", "last_failure", "evidence_end")
    )
    out = []
    if not imp.get("failing"):
        out.append(
            "The logs show a problem we are still narrowing down; we do not have counts yet."
        )
        return out
    method, path = route_of(f)
    if path:
        route = f"{method} {path}" if method else path
        low = failing_status(f)[0]
        kind = (
            f"a server error ({status_text(f)})" if low >= 500 else f"an error ({status_text(f)})"
        )
        failing, volume, share, since = imp.incident()
        earlier = imp.get("failing_before_onset")
        out.append(
            f"Since {_when(since)}, {_pct(share)} of {route} requests have failed with {kind}:"
            f" {count_text(failing)} of {count_text(volume)} requests in the logs you sent"
            + (f" ({count_text(earlier)} more failed earlier, from {first})." if earlier else ".")
        )
    else:
        out.append(
            f"Since {first}, the logs you sent show the same error {count_text(imp.get('failing'))} times."
        )
    who = who_fails(r.cohort)
    if who:
        only = "only" if r.finding.stat("baseline_rate") == 0.0 else "mostly"
        out.append(f"The failures hit {only} {who}.")
    for n in imp.numbers:
        if n.name.startswith("distinct:"):
            key = n.name.split(":", 1)[1]
            noun = n.meaning.split(" (", 1)[0].removeprefix("distinct ")
            out.append(
                f"{n.value} of the {imp.get(f'population:{key}')} {noun} that used it were affected; the others were not."
            )
            break
    if change:
        out.append(
            f"The failures began right after {change.what} {change.version} was deployed ({_when(_deployed_at(r, change))})."
        )
    if imp.get("ongoing"):
        out.append(f"It was still happening when the logs end ({end}).")
    else:
        out.append(
            f"The last failure in the logs is at {last}; the logs continue until {end} without more."
        )
    for o in others:
        om, op = route_of(o)
        if op and o.stat("new") is False and o.severity in ("low", "info", "medium"):
            out.append(
                f"{om or ''} {op} also fails now and then ({_pct(o.stat('rate'))} of requests), at the same low"
                " rate throughout; this looks separate from the main problem."
            )
            break
    return out


def _unknown(r: BugReport, change: Change | None) -> list[str]:
    out = []
    if change:
        out.append(
            f"We have not yet confirmed that the {change.what} {change.version} update causes it; the timing points there."
        )
    else:
        out.append("We have not yet confirmed the cause.")
    who = who_fails(r.cohort)
    if who:
        out.append(f"Why {who} fail and the others do not.")
    elif any(n.name.startswith("distinct:") for n in r.impact.numbers):
        out.append("Why only some accounts are affected.")
    if r.impact.get("ongoing"):
        out.append("Whether it is still happening right now: our view ends with the logs you sent.")
    return out


def _doing(r: BugReport, change: Change | None) -> list[str]:
    out = []
    if route_of(r.counted)[1]:
        out.append("We are reproducing the failing request in a test environment.")
    if change:
        out.append(
            f"We are reviewing what changed in {change.what} {change.version} with the engineering team."
        )
    if r.workaround and change:
        out.append(
            f"We are checking whether going back to the previous {change.what} version is a safe short-term fix."
        )
    out.append("We will tell you as soon as the cause is confirmed.")
    return out


#: Dotted-key parts that only wrap a record's fields (``ctx.account.created_at``).
_WRAPPERS = frozenset({"ctx", "context", "attrs", "attributes", "fields", "data", "extra", "meta"})
#: Dotted-key parts that name the request itself (``http.method``), not who sent it.
_REQUEST_PARTS = frozenset({"http", "request", "req", "response", "res", "url", "client"})
_TIME_SUFFIX = re.compile(r"(?:_at|_on|_date|_time|_ts|At|On|Date|Time)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_OPS = {  # (for dates, for other values)
    ">=": ("on or after", "at least"), ">": ("after", "above"), "<=": ("on or before", "at most"),
    "<": ("before", "below"), "=": ("", ""), "!=": ("", ""),
}  # fmt: skip


def who_fails(conditions: tuple[str, ...]) -> str | None:
    """The first cohort condition in words a customer reads: ``ctx.account.created_at >=
    2026-10-15`` is "accounts created on or after 2026-10-15"; None when there is none."""
    if not conditions:
        return None
    key, op, value = [*conditions[0].split(" ", 2), "", ""][:3]
    if op not in _OPS or not value:
        return None
    parts = [p for p in key.split(".") if p.lower() not in _WRAPPERS] or [key]
    field = _TIME_SUFFIX.sub("", parts[-1]).replace("_", " ").strip() or parts[-1]
    owner = parts[-2] if len(parts) >= 2 else ""
    noun = "requests" if not owner or owner.lower() in _REQUEST_PARTS else f"{owner}s"
    if op in ("=", "!="):
        return f"{noun} whose {field} is {'not ' if op == '!=' else ''}{value}"
    date, other = _OPS[op]
    if not _DATE.match(value):
        return f"{noun} with {field} {other} {value}"
    # "accounts created on or after ...", "users with a signup before ..."
    if field.endswith("ed"):
        return f"{noun} {field} {date} {value}"
    return f"{noun} with a {field} {date} {value}"


def _deployed_at(r: BugReport, change: Change) -> str | None:
    for m in r.timeline:
        if change.what in m.what and change.version in m.what:
            return m.ts.isoformat()
    return None


def _when(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "an unknown time"
    text = value.replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return value
    return ts.strftime("%d %b %Y %H:%M UTC").lstrip("0")


def _pct(value: object) -> str:
    if not isinstance(value, float):
        return "some"
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"
