"""What developers look for in a bug report, one detector per element, each returning the text that satisfied it.

The elements and their weights follow what developers say they value most in
bug reports (Bettenburg et al., "What makes a good bug report?", FSE 2008:
steps to reproduce, stack traces, expected vs actual, then versions), plus
impact and evidence, which support teams add. Weights were chosen by that
reasoning, not fitted to any dataset.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Where an element was found: character offsets into the cleaned text, and the line."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Element:
    key: str
    label: str
    weight: int
    find: Callable[[str, str], Span | None]  # (title, body) -> span
    advice: str


_FLAGS = re.IGNORECASE | re.MULTILINE
_STEPS_HEADING = re.compile(
    r"^(?:#{1,6}\s*|\*\*|h[1-6]\.\s*)?[^\n]{0,30}"
    r"(?:steps? to reproduce|to reproduce|how to reproduce|repro(?:duction)? steps|reproduc(?:e|tion|ible)"
    r"|minimal (?:reproducible )?example|mcve|code to reproduce)[^\n?]*$",
    _FLAGS,
)
_ACTION = (
    r"open|run|click|go|install|create|type|execute|call|build|start|navigate|select|enter|load|send"
    r"|set|use|add|press|launch|compile|import|make|write|download|clone|configure|visit|submit|save"
)
_NUMBERED_STEP = re.compile(rf"^\s*(?:\d+[.)]|[-*]|#)\s+(?:then\s+)?(?:{_ACTION})\b[^\n]*$", _FLAGS)
_EXPECTED = re.compile(r"\bexpect(?:ed|ing|ation)s?\b[^\n]*", _FLAGS)
_ACTUAL = re.compile(
    r"\b(?:actual(?:ly)?|observed|current(?:ly)? (?:behaviou?r|result|output)|instead|but (?:it|i get|got|gets|returns|shows|throws|fails))\b[^\n]*",
    _FLAGS,
)
_ERROR = re.compile(
    r"Traceback \(most recent call last\)|^\s*at \S+.*(?::\d+(?::\d+)?|Native Method)\)?\s*$|File \"[^\"]+\", line \d+"
    r"|\berror\b: \S|\[\s+FAILED\s+\]"
    r"|\b[A-Z]\w*(?:Error|Exception)\b(?::|\s+at\b|\s*$)|\bpanic: |Segmentation fault|core dumped|\bfatal error\b"
    r"|\berror(?: code)?[: ]+[A-Z]*\d{2,}|\bHTTP [45]\d\d\b|\bexit (?:code|status) [1-9]\d*|\bassertion .{0,40}failed"
    r"|^\s*(?:\[?\d{4}-\d\d-\d\d[ T][\d:.]+\]?\s+)?(?:ERROR|FATAL|CRITICAL)\b",
    re.MULTILINE,
)
_VERSION = re.compile(
    r"(?:\b(?:version|ver|release|build|os|python|node(?:\.?js)?|java|jdk|browser|chrome|firefox|safari|edge"
    r"|windows|win|macos|mac ?os|osx|ubuntu|debian|linux|android|ios|cuda|cudnn|gcc|clang|msvc|tensorflow|tf"
    r"|react|vs ?code|electron|opencv|bitcoin(?: core)?|commit)\b[^\n]{0,30}?\bv?\d+(?:\.\d+)+[\w.-]*)"
    r"|(?:^(?:#{1,6}\s*|\*\*)?\s*(?:environment|system information|versions?|platform)\b[^\n]*$)",
    _FLAGS,
)
_EVIDENCE = re.compile(
    r"^```|^~~~|^ {4,}\S[^\n]*\n {4,}\S|!\[[^\]]*\]\(|<img\b|\{code|\{noformat|\.(?:log|har|txt|pcap|zip)\b"
    r"|^\s*\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d|\b(?:output|logs?|screenshot|console)\s*:",
    _FLAGS,
)
_IMPACT = re.compile(
    r"(?<!\|)\b\d+(?:\.\d+)?\s?%(?!\|)|\b\d[\d,]*\s+(?:users|customers|accounts|requests|transactions|calls|clients|machines|nodes)\b"
    r"|\baffect(?:s|ed|ing)\b|\bevery (?:time|request)\b|\balways\b|\bconsistently\b|\bregression\b|\bblock(?:s|ed|ing|er)\b"
    r"|\bin production\b|\bdata loss\b|\bsince (?:version|upgrad|updat|v?\d)",
    _FLAGS,
)
_QUESTION_TITLE = re.compile(
    r"^\s*(?:how|why|what|where|when|which|is|are|can|could|should|does|do|any|help)\b|\?\s*$", re.I
)
_SPECIFIC_TOKEN = re.compile(
    r"\d|[A-Za-z]+[._/:][A-Za-z]|\b[a-z]+[A-Z]\w*|\b[A-Z][a-z]+[A-Z]\w*|\w\(\)|`[^`]+`|\"[^\"]+\"|'[^']+'|\b(?:Error|Exception|crash\w*|fail\w*|hang\w*|freez\w*|leak\w*)\b"
)


def _line(text: str, start: int, end: int) -> Span:
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    b = len(text) if b < 0 else b
    line = text[a:b].strip()
    return Span(start, end, line[:160] + ("…" if len(line) > 160 else ""))


def _first(pattern: re.Pattern[str], body: str) -> Span | None:
    m = pattern.search(body)
    return _line(body, m.start(), m.end()) if m else None


def _steps(title: str, body: str) -> Span | None:
    heading = _STEPS_HEADING.search(body)
    if heading and body[heading.end() :].strip():
        return _line(body, heading.start(), heading.end())
    steps = list(_NUMBERED_STEP.finditer(body))
    if len(steps) >= 2:
        return _line(body, steps[0].start(), steps[0].end())
    return None


def _expected_actual(title: str, body: str) -> Span | None:
    expected = _EXPECTED.search(body)
    if expected is None:
        return None
    if _ACTUAL.search(body) is None:
        return None
    return _line(body, expected.start(), expected.end())


def _title(title: str, body: str) -> Span | None:
    words = title.split()
    if len(words) < 4 or _QUESTION_TITLE.search(title) or not _SPECIFIC_TOKEN.search(title):
        return None
    return Span(0, len(title), title[:160])


ELEMENTS: tuple[Element, ...] = (
    Element(
        "steps",
        "steps to reproduce",
        25,
        _steps,
        "Add numbered steps (or a minimal script) that make the problem happen.",
    ),
    Element(
        "expected_actual",
        "expected vs actual",
        20,
        _expected_actual,
        "Say what you expected and what happened instead.",
    ),
    Element(
        "error",
        "stack trace or error message",
        20,
        lambda t, b: _first(_ERROR, b),
        "Paste the exact error message or stack trace.",
    ),
    Element(
        "environment",
        "versions and environment",
        15,
        lambda t, b: _first(_VERSION, b),
        "Give the versions (product, OS, runtime, SDK) and where it runs.",
    ),
    Element(
        "evidence",
        "evidence (logs, output, screenshots)",
        10,
        lambda t, b: _first(_EVIDENCE, b),
        "Attach or paste logs, output or a screenshot.",
    ),
    Element(
        "impact",
        "impact",
        5,
        lambda t, b: _first(_IMPACT, b),
        "Say how many users/requests are affected, how often, and since when.",
    ),
    Element(
        "title",
        "specific title",
        5,
        _title,
        "Make the title state the symptom and where (a component, an error, a version).",
    ),
)
assert sum(e.weight for e in ELEMENTS) == 100
