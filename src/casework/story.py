"""One story per incident: findings about the same incident merge into a hypothesis that says it all in one place.

An incident is anchored on its best "who" (a failure cohort) or, without
one, on its strongest rise (a change point). Findings join it when they are
about the same thing (a shared route, stream or template) and the same time
(an onset within the anchor's uncertainty plus a tolerance): the change
point says since when, the change before it says what changed, novelty says
what is new. The merged finding states what fails, since when, for whom,
what changed before, how much, and the evidence, and lists the members in
``related``; the members stay in the list below it. Two stories whose onsets
overlap are one incident seen from two places (a caller's 500s, the called
service's exceptions): the second joins the first as another view of it. So
does a cohort that names only a time (or, besides it, only what the anchor's
subject says), a server a capture shows unreachable from a moment the onsets
share, the other cohorts of the anchor's failure in its file, and a shift whose
own interval overlaps the anchor's wherever it is (with what joins it there). The
hypothesis names what is often the cause: a configuration difference the failing
records point at, where the failing traces' errors begin, a field's new format or
a new message at the onset (not one that began later), failures that come with a
workload's restarts (and why it restarts), a server the network shows
unreachable, and the database's statements that turned slow at the onset with
the regression of their plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from casework.contrast import OUTCOME_NAME
from casework.findings import SEVERITY_WEIGHT, Evidence, Finding, Stat, Window, count_text
from casework.story_phrases import gap_text, how_much, minute_text, what_fails, who

#: The key of a merged story.
STORY_KEY = "INCIDENT"
#: Onsets closer than this (seconds) to the anchor's are the same incident.
TOLERANCE = 3600.0
ANCHORS = (
    "FAILURE_COHORT",
    "CHANGEPOINT_5XX",
    "CHANGEPOINT_TEMPLATE",
    "CHANGEPOINT_ERRORS",
    "CHANGEPOINT_LATENCY",
)
JOINERS = (
    "CHANGEPOINT_",
    "CHANGE_BEFORE_ONSET",
    "NEW_TEMPLATE",
    "FIELD_FORMAT",
    "HTTP_",
    "ERROR_SIG",
    "FAILURES_AT_RESTARTS",
)
#: A server unreachable since a moment (a capture's view) is the incident whose onset it shares.
NETWORK = ("NET_SYN_UNANSWERED", "NET_CONNECT_REFUSED")
#: A statement whose slow executions began this close (seconds) to a shift's onset is where
#: the incident's time goes in the database; a plan regression of its plan says why.
SLOW_NEAR = 600.0
MAX_STEPS = 6
#: The entities of a cohort that names no one, only a time (and its file and failure).
_TIME_ONLY = frozenset({"time", "file", "failure"})
#: What is new at the onset, named in the story's summary.
MAX_NEW = 2
#: Seconds after a story's onset that something new may begin and still be new at it.
NEW_AFTER = 120.0
CP_ORDER = ("CHANGEPOINT_5XX", "CHANGEPOINT_ERRORS", "CHANGEPOINT_TEMPLATE", "CHANGEPOINT_LATENCY")
#: A change this likely to precede the onset by chance is not named in the story.
MAX_CHANCE = 0.25


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """The findings plus one merged story per incident that has more than one finding."""
    items = list(findings)
    # Merging twice must not tell the same story twice.
    used: set[str] = {r for f in items if f.key == STORY_KEY for r in f.related}
    groups: list[tuple[Finding, list[Finding]]] = []
    anchors = sorted(
        (f for f in items if f.key in ANCHORS and f.severity in ("critical", "high")),
        key=lambda f: (ANCHORS.index(f.key), -f.score, f.subject),
    )
    for anchor in anchors:
        if anchor.id in used:
            continue
        members = [f for f in items if f is not anchor and f.id not in used and _joins(anchor, f)]
        # A shift seen elsewhere at the same time brings what joins it there (its template's
        # new messages, its file's error share), as its own story would have.
        elsewhere = [
            m
            for m in members
            if m.key.startswith("CHANGEPOINT_") and not _tokens(anchor) & _tokens(m)
        ]
        members += [
            f
            for f in items
            if f is not anchor
            and f.id not in used
            and f not in members
            and any(_joins(m, f) for m in elsewhere)
        ]
        if not any(m.key.startswith(("CHANGEPOINT_", "CHANGE_BEFORE")) for m in members) and (
            anchor.key != "FAILURE_COHORT" or not members
        ):
            continue
        # Other cohorts of the same failures in the same stream are variants of this one; what
        # the kubelet says of the pods whose restarts the failures come with is why they restart.
        # So is the value the failures of its messages name (a merchant, an address).
        restarted = {o for m in members for o in _objects(m)}
        templates = {t for m in (anchor, *members) for t in _templates(m)}
        members += [
            f
            for f in items
            if f.id not in used
            and f not in members
            and (
                _variant(anchor, f)
                or (f.key.startswith("K8S_") and _objects(f) & restarted)
                or (f.key == "FAILURE_VALUE" and _templates(f) & templates)
            )
        ]
        unused = [f for f in items if f.id not in used]
        members += (
            _database(anchor, members, unused)
            + _configuration(anchor, members, unused)
            + _traces(anchor, members, unused)
            + _guessing(anchor, members, unused)
        )
        used.update([anchor.id, *(m.id for m in members)])
        groups.append((anchor, members))
    return [_story(anchor, members, also) for anchor, members, also in _fold(groups)] + items


def _database(anchor: Finding, members: list[Finding], items: list[Finding]) -> list[Finding]:
    """The slow statements whose slow executions began within ``SLOW_NEAR`` of the incident's
    shifts, each with the regression of the plan it is linked to."""
    reach = _reach([m for m in (anchor, *members) if m.key in CP_ORDER], SLOW_NEAR)
    if reach is None:
        return []
    low, high = reach
    slow = [
        f
        for f in items
        if f.key == "SLOW_QUERY_FINGERPRINT"
        and f.window is not None
        and low <= f.window.start.timestamp() <= high
    ]
    plans = {str(f.entities["plan"]) for f in slow if "plan" in f.entities}
    return slow + [
        f for f in items if f.key == "PLAN_REGRESSION" and str(f.entities.get("after")) in plans
    ]


def _configuration(anchor: Finding, members: list[Finding], items: list[Finding]) -> list[Finding]:
    """Differences between environments promoted because the failing records state the failing
    side's value, when those records are in a file the incident is about."""
    files = {p for m in (anchor, *members) for p in _files(m)}
    return [
        f
        for f in items
        if f.key == "ENV_CONFIG_DIFF"
        and f.stats.get("promoted") is True
        and any(e.file in files for e in f.evidence)
    ]


def _traces(anchor: Finding, members: list[Finding], items: list[Finding]) -> list[Finding]:
    """Where the traces of the incident's route fail: the service and operation its failing
    traces' errors begin in, when their first failing trace falls in the incident's time."""
    routes = {t for m in (anchor, *members) for t in _tokens(m) if t.startswith("/")}
    reach = _reach([anchor, *members], TOLERANCE)
    if not routes or reach is None:
        return []
    low, high = reach
    return [
        f
        for f in items
        if f.key == "TRACE_ERROR_ORIGIN"
        and _tokens(f) & routes
        and low <= _number(f.stats.get("onset_epoch"), low - 1) <= high
    ]


def _guessing(anchor: Finding, members: list[Finding], items: list[Finding]) -> list[Finding]:
    """Password guessing in the incident's files that went on within ``TOLERANCE`` of its
    shifts: who the failed logins come from."""
    files = {p for m in (anchor, *members) for p in _files(m)}
    reach = _reach([anchor, *members], TOLERANCE)
    if reach is None:
        return []
    low, high = reach
    return [
        f
        for f in items
        if f.key == "AUTH_GUESSING"
        and f.window is not None
        and f.window.start.timestamp() <= high
        and f.window.end.timestamp() >= low
        and any(e.file in files for e in f.evidence)
    ]


def _reach(findings: list[Finding], pad: float) -> tuple[float, float] | None:
    """From ``pad`` seconds before the earliest of the findings' onset intervals to ``pad``
    after the latest; None when none is dated."""
    intervals = [i for f in findings if (i := _interval(f))]
    if not intervals:
        return None
    return min(i[0] for i in intervals) - pad, max(i[1] for i in intervals) + pad


def _fold(
    groups: list[tuple[Finding, list[Finding]]],
) -> list[tuple[Finding, list[Finding], list[Finding]]]:
    """Stories whose onsets overlap are one incident seen from several places (the 500s of the
    caller, the exceptions of the service it calls), and so are a cohort without an onset and a
    story of the same failure in the same file: each joins the first story it is one with, its
    anchor named as another view of it."""
    out: list[tuple[Finding, list[Finding], list[Finding]]] = []
    for anchor, members in groups:
        lead = next((g for g in out if _one_incident(g[0], anchor)), None)
        if lead is None:
            out.append((anchor, list(members), []))
        else:
            lead[1].extend([anchor, *members])
            lead[2].append(anchor)
    return out


def _one_incident(a: Finding, b: Finding) -> bool:
    ia, ib = _interval(a), _interval(b)
    if ia is not None and ib is not None:
        return ia[0] <= ib[1] and ib[0] <= ia[1]
    return _same_failure(a, b) or _same_failure(b, a)


def _same_failure(cohort: Finding, other: Finding) -> bool:
    """A cohort's failure ("HTTP 504") is what the other finding is about, in the same file."""
    failure = str(cohort.entities.get("failure", ""))
    about = f"{other.entities.get('subject', '')} {other.entities.get('failure', '')}"
    return bool(failure) and bool(_files(cohort) & _files(other)) and failure in about


def _files(f: Finding) -> set[str]:
    """The files a finding is about: one, or peer instances' (``a.log, b.log``)."""
    return {p for p in str(f.entities.get("file", "")).split(", ") if p}


def _number(value: Stat, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def _inside(change: Finding, cohort: Finding | None) -> bool:
    """The change falls where the cohort's own data place the onset (last success, first failure]."""
    if cohort is None:
        return False
    at = change.stats.get("change_epoch")
    low, high = cohort.stats.get("since_low"), cohort.stats.get("since_high")
    if not all(isinstance(x, float) for x in (at, low, high)):
        return False
    return _number(low, 0.0) - TOLERANCE <= _number(at, 0.0) <= _number(high, 0.0)


def _onset(f: Finding) -> float | None:
    for key in ("since_epoch", "onset_epoch"):
        value = f.stats.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None


def _tokens(f: Finding) -> set[str]:
    """Routes, streams and template ids a finding is about, as comparable words."""
    out: set[str] = set()
    for value in f.entities.values():
        out.update(w for w in re.split(r"[\s,{}]+", str(value)) if len(w) > 2 and "/" in w)
    for key in ("file", "template_id", "subject"):
        if key in f.entities:
            out.add(str(f.entities[key]))
    return out


def _restates(anchor: Finding, cohort: Finding) -> bool:
    """A cohort in the anchor's file whose every value is a word of the anchor's subject
    (``http.path = /api/checkout`` of "HTTP 504 on POST /api/checkout") names no one: it
    says when the anchor's failure happened."""
    named = [str(v) for k, v in cohort.entities.items() if k not in _TIME_ONLY]
    about = set(str(anchor.entities.get("subject", "")).split())
    return (
        bool(named)
        and bool(_files(cohort) & _files(anchor))
        and all(v.removeprefix("= ").strip() in about for v in named)
    )


def _objects(f: Finding) -> set[str]:
    """The Kubernetes objects a finding is about: its own, or the pods whose restarts it counts."""
    if not f.key.startswith("K8S_") and f.key != "FAILURES_AT_RESTARTS":
        return set()
    named = [str(f.entities.get("object", "")), *str(f.entities.get("objects", "")).split(", ")]
    return {o for o in named if o.startswith("Pod/")}


def _templates(f: Finding) -> set[str]:
    """The template a finding is about: its template id, or the subject of a template series."""
    if "template_id" in f.entities:
        return {str(f.entities["template_id"])}
    if f.entities.get("series") == "template":
        return {str(f.entities.get("subject", ""))}
    return set()


def _variant(anchor: Finding, f: Finding) -> bool:
    same = ("file", "failure")
    return (
        anchor.key == f.key == "FAILURE_COHORT"
        and f is not anchor
        and all(anchor.entities.get(k) == f.entities.get(k) for k in same)
    )


def _interval(f: Finding) -> tuple[float, float] | None:
    """When a finding says its incident began: a point, or the interval its data allow."""
    onset = _onset(f)
    if onset is None:
        return None
    lo, hi = onset, onset
    for low, high in (("since_low", "since_high"), ("earliest_epoch", "latest_epoch")):
        a, b = f.stats.get(low), f.stats.get(high)
        if isinstance(a, float) and isinstance(b, float):
            lo, hi = min(lo, a), max(hi, b)
    return lo, hi


def _joins(anchor: Finding, f: Finding) -> bool:
    a, b = _interval(anchor), _interval(f)
    if (f.key == "FAILURE_COHORT" and (set(f.entities) <= _TIME_ONLY or _restates(anchor, f))) or (
        f.key in NETWORK and f.stats.get("since") is True
    ):
        # A cohort that says only "since 06:43" (or restates the anchor's subject) is a shift
        # seen from the failures' side, and a server unreachable since a moment is one seen
        # from the network: like a folded story, the same incident when the onsets overlap.
        return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]
    if not f.key.startswith(JOINERS):
        return False
    # A shift whose own interval overlaps the anchor's is the same incident wherever it is
    # (another route's 503s, another service's errors in the same minute), as two stories
    # whose onsets overlap are one.
    if f.key.startswith("CHANGEPOINT_") and a and b and a[0] <= b[1] and b[0] <= a[1]:
        return True
    if f.key == anchor.key:
        return False
    if a is not None and b is not None:
        # Same incident when the onsets' intervals (plus a tolerance) overlap.
        if a[0] - TOLERANCE > b[1] or b[0] - TOLERANCE > a[1]:
            return False
    elif not f.stats.get("new"):
        return False
    shared = _tokens(anchor) & _tokens(f)
    if a is not None and b is None:
        # Undated, a finding is a dated incident's only when it is about the same route, stream
        # or template: one file holds many (a route's 404s rising over the day share its file).
        shared.discard(str(f.entities.get("file", "")))
    return bool(shared) or (f.key == "CHANGE_BEFORE_ONSET" and a is not None)


def _story(anchor: Finding, members: list[Finding], also: list[Finding]) -> Finding:
    cohort = anchor if anchor.key == "FAILURE_COHORT" else None
    # The failure series says "since when" best; a template or latency shift only without one.
    # A falling series is not the symptom (a background code's rate falls when a new failure
    # takes its share); the cohort's own failure ("HTTP 500") comes before another code's.
    failure = str(cohort.entities.get("failure", "")) if cohort else ""
    # An anchor that is itself a shift (the 5xx series) is a candidate: its numbers are the title's.
    # A shift of failures comes first; another shift than the anchor only when it carries at
    # least half the most excess records of any (13 errors in a log's last minute do not head
    # 223 failed logins; a route's 500s keep their own numbers beside all the log's errors).
    rising = [
        m for m in (anchor, *members) if m.key in CP_ORDER and m.stats.get("increased") is not False
    ]
    most = max(
        (_number(m.stats.get("excess"), 0.0) for m in rising if m.stats.get("failure")), default=0.0
    )
    shifts = sorted(
        rising,
        key=lambda m: (
            bool(failure) and failure not in m.title,
            m.stats.get("failure") is False,
            m is not anchor and _number(m.stats.get("excess"), most) < most / 2,
            CP_ORDER.index(m.key),
            -m.score,
            m.subject,
        ),
    )
    cp = shifts[0] if shifts else None
    onset = _onset(cp) if cp else _onset(anchor)
    onset = _cohort_onset(cohort, cp) or onset
    change = _nearest_change(members, cohort, onset, _interval(cp or anchor))
    parts = [what_fails(anchor, cp)]
    if onset is not None:
        parts.append(f"since {minute_text(onset)}")
    if cohort is not None and who(cohort):
        parts.append(f"for {who(cohort)}")
    title = " ".join(parts)
    how = how_much(cohort, cp, onset)
    if how:
        title += f": {how}"
    # Whom the failures name, when no cohort says who.
    whom = sorted(
        (m for m in members if m.key == "FAILURE_VALUE"), key=lambda m: (-m.score, m.subject)
    )[:1]
    if whom and not (cohort is not None and who(cohort)):
        v = whom[0]
        title += (
            f"; the failures name {v.entities['value']}"
            f" ({count_text(v.stats.get('records'))} of {count_text(v.stats.get('total'))})"
        )
    if change is not None:
        at = change.stats.get("change_epoch")
        gap = (
            onset - float(at)
            if onset is not None and isinstance(at, int | float)
            else change.stats.get("gap_seconds")
        )
        title += f"; {gap_text(gap)} {change.entities.get('change', 'a change')}"
    # Another place's view of the incident comes right after the anchor, then what is new at
    # the onset (a field's new format is often the cause): their evidence is kept.
    new = _new_at_onset(members, also, onset)
    # When it fails: the restarts its failures come with, and why they restart (a kill for
    # memory before a crash loop), say what to look at next.
    when = [m for m in members if m.key == "FAILURES_AT_RESTARTS" and m not in also][:1]
    why = sorted((m for m in members if m.key.startswith("K8S_")), key=_why_order)[:1]
    wire = [m for m in members if m.key in NETWORK][:1]
    db = sorted(
        (m for m in members if m.key in ("SLOW_QUERY_FINGERPRINT", "PLAN_REGRESSION")),
        key=lambda m: (m.key != "SLOW_QUERY_FINGERPRINT", -m.score, m.subject),
    )[:2]
    config = [m for m in members if m.key == "ENV_CONFIG_DIFF"][:1]
    origin = [m for m in members if m.key == "TRACE_ERROR_ORIGIN"][:1]
    guessing = [m for m in members if m.key == "AUTH_GUESSING"][:1]
    named = [*also, *config, *origin, *guessing, *new, *whom, *when, *why, *wire, *db]
    everyone = [anchor, *named, *(m for m in members if m not in named)]
    stats: dict[str, Stat] = {"members": len(everyone)}
    for source in (change, cp, cohort):
        if source is not None:
            stats.update({k: v for k, v in source.stats.items() if k not in stats})
    entities: dict[str, str] = {}
    for f in (cohort, cp, change):
        if f is not None:
            entities.update({k: v for k, v in f.entities.items() if k not in entities})
    severity = max((f.severity for f in everyone), key=lambda s: SEVERITY_WEIGHT.get(s, 0))
    if severity == "high" and cohort is not None and cp is not None:
        # Who, since when and how much agree: the whole hypothesis outranks any one part of it.
        severity = "critical"
    return Finding(
        key=STORY_KEY,
        analyzer="story",
        subject=anchor.id,
        severity=severity,
        # A story that says who, since when and what changed outranks one that says less.
        score=round(
            0.85 * max(f.score for f in everyone)
            + 0.05 * sum(x is not None for x in (cohort, cp, change)),
            4,
        ),
        title=title,
        summary=(
            f"Hypothesis: {title}. "
            + "".join(f"In the configuration: {f.title}. " for f in config)
            + "".join(f"Where the traces fail: {f.title}. " for f in origin)
            + "".join(f"Who fails to log in: {f.title}. " for f in guessing)
            + (f"New at the onset: {'; '.join(f.title for f in new)}. " if new else "")
            + "".join(f"Whom they name: {f.title}. " for f in whom)
            + "".join(f"It fails at restarts: {f.title}. " for f in when)
            + "".join(f"Why they restart: {f.title}. " for f in why)
            + "".join(f"On the network: {f.title}. " for f in wire)
            + (f"In the database: {'; '.join(f.title for f in db)}. " if db else "")
            + f"{len(everyone)} findings agree on it: "
            + " | ".join(f.title for f in everyone[1 + len(named) : 5 + len(named)])
            + ". It is refuted if failures outside the cohort, or before the change, rose as well."
            + "".join(f" Seen at the same time: {a.title} ({_where(a)})." for a in also)
        ),
        window=_window(everyone),
        entities=entities,
        stats=stats,
        evidence=_evidence(everyone),
        next_steps=_steps(everyone),
        related=tuple(f.id for f in everyone),
    )


def _new_at_onset(
    members: list[Finding], also: list[Finding], onset: float | None
) -> list[Finding]:
    """The members that say what is new when it began: a field's new format before a new log
    message, at most ``MAX_NEW``. Fields named only for how a request ended (``error``) are
    left out: their new value is the failure itself. What began more than ``NEW_AFTER``
    seconds after the onset came too late to be why (a client throttled half an hour on)."""
    new = [
        m
        for m in members
        if m not in also
        and (onset is None or _number(m.stats.get("onset_epoch"), onset) <= onset + NEW_AFTER)
        and (
            (m.key == "NEW_TEMPLATE" and m.stats.get("new") is True)
            or (
                m.key == "FIELD_FORMAT"
                and not all(
                    re.search(OUTCOME_NAME, f) for f in str(m.entities["field"]).split(", ")
                )
            )
        )
    ]
    new.sort(key=lambda m: (m.key != "FIELD_FORMAT", -m.score, m.subject))
    return new[:MAX_NEW]


def _why_order(f: Finding) -> tuple[int, float, str]:
    """A kill for memory says why before a crash loop, a probe or a schedule does."""
    order = ("K8S_OOMKILLED", "K8S_CRASHLOOP")
    return (order.index(f.key) if f.key in order else len(order), -f.score, f.subject)


def _where(f: Finding) -> str:
    return str(f.entities.get("file") or (f.evidence[0].file if f.evidence else "its files"))


def _cohort_onset(cohort: Finding | None, cp: Finding | None) -> float | None:
    """The latest onset both the shift and the cohort allow, when the shift's point is not one.

    The shift of a mixed series (all error records) is pulled toward unrelated
    bursts of errors; the cohort's own records place its onset in an interval
    too. Where the two intervals meet, the latest time they share is when the
    cohort was failing for sure. None when they agree or do not meet.
    """
    if cohort is None or cp is None:
        return None
    low, high = cohort.stats.get("since_low"), cohort.stats.get("since_high")
    point, interval = _onset(cp), _interval(cp)
    if not (isinstance(low, float) and isinstance(high, float)) or interval is None:
        return None
    if point is None or low <= point <= high:
        return None
    first, last = max(low, interval[0]), min(high, interval[1])
    return last if first <= last else None


def _nearest_change(
    members: list[Finding],
    cohort: Finding | None,
    onset: float | None,
    interval: tuple[float, float] | None,
) -> Finding | None:
    """The change that most nearly precedes the story's onset (and is unlikely to precede it by
    chance), of something the evidence names."""
    latest = interval[1] if interval else onset
    candidates = [
        m
        for m in members
        if m.key == "CHANGE_BEFORE_ONSET"
        and isinstance(m.stats.get("change_epoch"), int | float)
        and (latest is None or _number(m.stats.get("change_epoch"), 0.0) <= latest)
        and (_number(m.stats.get("chance"), 1.0) <= MAX_CHANCE or _inside(m, cohort))
        and m.stats.get("named") is not False
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda m: (_number(m.stats.get("change_epoch"), 0.0), m.subject))


def _window(findings: list[Finding]) -> Window | None:
    windows = [f.window for f in findings if f.window is not None]
    if not windows:
        return None
    return Window(min(w.start for w in windows), max(w.end for w in windows))


def _evidence(findings: list[Finding]) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for f in findings:
        out.extend(
            e for e in f.evidence[:2] if all((e.file, e.lines) != (o.file, o.lines) for o in out)
        )
    return tuple(out[:8])


def _steps(findings: list[Finding]) -> tuple[str, ...]:
    steps: list[str] = []
    for f in findings:
        steps.extend(s for s in f.next_steps if s not in steps)
    return tuple(steps[:MAX_STEPS])
