"""Documentation gaps: clusters of how-do-I questions resolved without a code change, and shared doc links.

A ticket is question-like when its title or opening asks how to do
something, whether a behaviour is expected, or says it is confusing (or its
type label says question); it was resolved without a code change when its
resolution says so (answered, works as designed, documentation, user error, won't do,
duplicate, not a bug) or it is a question that was closed. A cluster is a
documentation gap when at least ``MIN_SHARE`` of its tickets are both. The
second signal is a documentation page or workaround that the resolutions of
``MIN_LINKED`` or more tickets point at.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from casework.queue.cluster import Cluster
from casework.queue.model import Ticket

MIN_SHARE = 0.5
MIN_TICKETS = 3
MIN_LINKED = 3
_QUESTION = re.compile(
    r"(\bhow (?:do|can|to|should|does|would)\b|\bis (?:it|this|there) (?:expected|possible|normal|intended|a way)\b|"
    r"\bconfus|\bunclear\b|\bwhat is the (?:right|correct|best) way\b|\bwhy does\b|\bany way to\b|\bdocumentation\b|\?\s*$)",
    re.IGNORECASE | re.MULTILINE,
)
_NO_CODE_CHANGE = re.compile(
    r"(answered|works? as (?:designed|intended|expected)|by design|documentation|docs?\b|user error|"
    r"not a bug|duplicate|question|how[- ]to|configuration|workaround|solved \(work around\)|no change|"
    r"won'?t (?:do|fix)|expected behaviou?r|cannot reproduce|not reproducible)",
    re.IGNORECASE,
)
_DOC_LINK = re.compile(
    r"https?://[^\s)\"'>]*(?:docs?|help|kb|knowledge|support|faq|wiki|guide)[^\s)\"'>]*", re.I
)


@dataclass(frozen=True, slots=True)
class DocGap:
    cluster: int
    label: str
    tickets: int
    questions: int
    share: float
    examples: tuple[str, ...]  # the questions people ask (titles)


@dataclass(frozen=True, slots=True)
class SharedAnswer:
    link: str
    tickets: tuple[str, ...]
    clusters: tuple[int, ...]  # the clusters of those tickets, most tickets first


def is_question(t: Ticket) -> bool:
    if (t.label or "").lower() in {"question", "how-to", "howto", "support"}:
        return True
    return bool(_QUESTION.search(t.title) or _QUESTION.search(t.body[:400]))


def no_code_change(t: Ticket) -> bool:
    if t.resolution and _NO_CODE_CHANGE.search(t.resolution):
        return True
    return (t.label or "").lower() == "question" and (
        t.resolved is not None or (t.status or "").lower() in {"closed", "solved", "resolved"}
    )


def doc_gaps(tickets: list[Ticket], clusters: list[Cluster]) -> list[DocGap]:
    gaps = []
    for c in clusters:
        members = [tickets[i] for i in c.members]
        hits = [t for t in members if is_question(t) and no_code_change(t)]
        share = len(hits) / len(members) if members else 0.0
        if len(hits) >= MIN_TICKETS and share >= MIN_SHARE:
            gaps.append(
                DocGap(
                    c.id,
                    c.label,
                    len(members),
                    len(hits),
                    share,
                    tuple(t.title[:160] for t in hits[:5]),
                )
            )
    return sorted(gaps, key=lambda g: (-g.questions, g.cluster))


def shared_answers(tickets: list[Ticket], assignment: list[int]) -> list[SharedAnswer]:
    """Doc pages or workarounds that ``MIN_LINKED`` or more resolutions link to, with their clusters."""
    by_link: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(tickets):
        for link in {m.rstrip(".,;") for m in _DOC_LINK.findall(t.resolution or "")}:
            by_link[link].append(i)
    counts = Counter({k: len(v) for k, v in by_link.items()})
    return [
        SharedAnswer(
            link,
            tuple(sorted(tickets[i].id for i in by_link[link])),
            tuple(c for c, _ in Counter(assignment[i] for i in by_link[link]).most_common()),
        )
        for link, n in counts.most_common()
        if n >= MIN_LINKED
    ]
