"""The bug report in Jira wiki markup: ``h2.`` headings, ``||header||`` tables, ``{code}`` blocks."""

from __future__ import annotations

import re

from casework.bugreport.document import Block, Heading, Items, Para, Table, blocks
from casework.bugreport.model import BugReport

_INLINE_CODE = re.compile(r"`([^`]+)`")
#: Characters Jira reads as markup in running text.
_SPECIAL = re.compile(r"([{}\[\]|*_])")


def render(r: BugReport) -> str:
    out = [f"h1. {text(r.title)}", ""]
    for b in blocks(r):
        out += _block(b)
    return "\n".join(out).rstrip() + "\n"


def text(value: str) -> str:
    """Running text with markup characters escaped and `code` as ``{{monospace}}``."""
    pieces = []
    last = 0
    for m in _INLINE_CODE.finditer(value):
        pieces.append(_escape(value[last : m.start()]))
        pieces.append("{{" + _escape(m.group(1)) + "}}")
        last = m.end()
    pieces.append(_escape(value[last:]))
    return "".join(pieces)


def _escape(value: str) -> str:
    return _SPECIAL.sub(r"\\\1", value)


def _block(b: Block) -> list[str]:
    if isinstance(b, Heading):
        return [f"h2. {text(b.text)}", ""]
    if isinstance(b, Para):
        return [text(b.text), ""]
    if isinstance(b, Items):
        mark = "#" if b.numbered else "*"
        return [*(f"{mark} {text(t)}" for t in b.items), ""]
    if isinstance(b, Table):
        head = "||" + "||".join(_cell(c) for c in b.header) + "||"
        return [head, *("|" + "|".join(_cell(c) for c in row) + "|" for row in b.rows), ""]
    caption = [f"_{_escape(b.caption)}_"] if b.caption else []
    # {code} keeps its content verbatim; a literal "{code}" inside would end it early.
    body = b.text.replace("{code}", "{ code}")
    tag = f"{{code:{b.lang}}}" if b.lang in ("sql", "sh", "python", "java") else "{code}"
    return [*caption, tag, body, "{code}", ""]


def _cell(value: str) -> str:
    return text(" ".join(value.split())) or " "
