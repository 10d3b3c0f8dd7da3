"""What a finding says, read the same way whichever analyzer wrote it: route, status, cohort, change.

Analyzers name things differently (``route: "POST /v1/refunds"``,
``http.path`` plus ``subject: "HTTP 500 on POST /v1/refunds"``, a change in
``stats.change`` or in ``entities.change``). These readers accept each shape,
so the bug report does not depend on which analyzer ranked first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from casework.bugreport.model import FindingFacts

_ROUTE_TEXT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(/[^\s,;:)]*)")
_STATUS_TEXT = re.compile(r"\bHTTP ([1-5]\d\d)\b")
_COMPARISON = re.compile(r"^(>=|<=|!=|=|>|<)\s*(.+)$")
_CHANGE_STAT = re.compile(r"(?P<kind>\w+) of (?P<what>\S+) (?P<version>\S+) at ")
#: Entities that place a finding (file, time, series) rather than select who is affected.
_NOT_COHORT = frozenset(
    ("time", "onset", "file", "series", "subject", "change", "change_kind", "version")
)


@dataclass(frozen=True, slots=True)
class Change:
    """A release, deploy or config change a finding ties its onset to."""

    kind: str
    what: str
    version: str

    def __str__(self) -> str:
        return f"{self.what} {self.version}"


def route_of(f: FindingFacts) -> tuple[str | None, str | None]:
    """(method, path) of the HTTP route a finding is about, either may be None."""
    e = f.entities
    path = _plain(e.get("path") or e.get("http.path") or e.get("http.route") or e.get("url.path"))
    method = _plain(e.get("method") or e.get("http.method"))
    route = e.get("route", "")
    if " " in route:
        verb, _, where = route.partition(" ")
        method, path = method or verb, path or where
    elif route and path is None:
        path = route
    for text in (e.get("subject", ""), route, f.title):
        m = _ROUTE_TEXT.search(text)
        if m and (path is None or m.group(2) == path):
            method, path = method or m.group(1), path or m.group(2)
            break
    return method, path


def failing_status(f: FindingFacts) -> tuple[int, int, int | None]:
    """(lowest, highest) status counted as failing, and the exact status when the finding names one."""
    klass = f.entities.get("status_class") or f.entities.get("series") or ""
    named = f.stat("top_status")
    exact = named if isinstance(named, int) else None
    if exact is None:
        m = _STATUS_TEXT.search(f.entities.get("subject", "") + " " + f.title)
        exact = int(m.group(1)) if m else None
    if klass == "4xx" or (exact is not None and 400 <= exact < 500):
        return 400, 499, exact
    return 500, 599, exact


def template_of(f: FindingFacts) -> str | None:
    e = f.entities
    if e.get("template_id"):
        return e["template_id"]
    if e.get("series") == "template" and e.get("subject"):
        return e["subject"]
    return None


def cohort_of(f: FindingFacts) -> list[str]:
    """Conditions on attributes that select the affected records (``ctx.account.created_at >= 2026-10-15``)."""
    out = []
    for key, value in f.entities.items():
        m = _COMPARISON.match(value)
        if m and key not in _NOT_COHORT:
            out.append(f"{key} {m.group(1)} {m.group(2)}")
    return out


def change_of(f: FindingFacts) -> Change | None:
    """The change the finding ties its onset to, from its stats, entities or summary."""
    m = _CHANGE_STAT.match(str(f.stat("change") or ""))
    if m:
        return Change(m["kind"], m["what"], m["version"])
    text, version = f.entities.get("change", ""), f.entities.get("version", "")
    if text and version and text.endswith(version):
        kind, _, what = text[: -len(version)].strip().partition(" ")
        if what:
            return Change(f.entities.get("change_kind", kind), what.strip(), version)
    m = re.search(r"after the " + _CHANGE_STAT.pattern, f.summary)
    return Change(m["kind"], m["what"], m["version"]) if m else None


def _plain(value: str | None) -> str | None:
    if not value:
        return None
    m = _COMPARISON.match(value)
    if m:
        return m.group(2) if m.group(1) == "=" else None
    return value
