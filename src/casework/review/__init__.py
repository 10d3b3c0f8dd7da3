"""``casework review``: score a bug report (ours or hand-written) for what developers need, and list what is missing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from casework.review.elements import ELEMENTS, Span

__all__ = ["Found", "Review", "clean", "review", "split_title"]

#: Reports put their elements early; past this, a body is a pasted log (which counts as evidence already).
MAX_CHARS = 20_000
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6}\s+.*|\*\*[^*\n]+\*\*:?[ \t]*)$", re.MULTILINE)
#: In Jira markup ``# item`` is a numbered list item and headings are ``h2.``.
_JIRA_HEADING = re.compile(r"^(h[1-6]\.\s+.*|\*[^*\n]+\*:?[ \t]*)$", re.MULTILINE)
#: What issue forms put in a section nobody filled in.
_EMPTY_ANSWERS = {"", "_no response_", "no response", "n/a", "none", "-", "no", "yes"}


@dataclass(frozen=True, slots=True)
class Found:
    key: str
    label: str
    weight: int
    span: Span | None
    advice: str

    @property
    def found(self) -> bool:
        return self.span is not None


@dataclass(frozen=True, slots=True)
class Review:
    """The score (0-100, the sum of the weights of the elements found) and each element's result."""

    score: int
    elements: tuple[Found, ...]

    @property
    def missing(self) -> tuple[Found, ...]:
        return tuple(e for e in self.elements if not e.found)


def review(title: str, body: str) -> Review:
    """Score one report given its title and its body (Markdown, Jira markup or plain text)."""
    text = clean(body)[:MAX_CHARS]
    results = tuple(
        Found(e.key, e.label, e.weight, e.find(title.strip(), text), e.advice) for e in ELEMENTS
    )
    return Review(sum(r.weight for r in results if r.found), results)


def split_title(document: str) -> tuple[str, str]:
    """Title and body of a report file: a first heading (``#``, ``h1.``, HTML comment title) or first line."""
    text = document.lstrip("\ufeff")
    m = re.match(r"\s*<!--\s*title:\s*(.*?)\s*-->", text)
    if m:
        return m.group(1), text[m.end() :]
    first, _, rest = text.strip().partition("\n")
    return re.sub(r"^(?:#+\s*|h1\.\s*|title:\s*)", "", first, flags=re.IGNORECASE).strip(), rest


def clean(body: str) -> str:
    """The body without HTML comments and without issue-form sections left unanswered."""
    text = _COMMENT.sub("", body.replace("\r\n", "\n"))
    headings = _JIRA_HEADING if re.search(r"^h[1-6]\.\s", text, re.MULTILINE) else _HEADING
    pieces = headings.split(text)
    out = [pieces[0]]
    for heading, content in zip(pieces[1::2], pieces[2::2], strict=True):
        if content.strip().lower() in _EMPTY_ANSWERS:
            continue
        out += [heading, content]
    return "".join(out)
