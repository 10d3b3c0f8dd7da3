"""The bug report as Markdown (``bugreport.md``)."""

from __future__ import annotations

from casework.bugreport.document import Block, Code, Heading, Items, Para, Table, blocks
from casework.bugreport.model import BugReport


def render(r: BugReport) -> str:
    out = [f"# {r.title}", ""]
    for b in blocks(r):
        out += block(b, heading="##")
    return "\n".join(out).rstrip() + "\n"


def block(b: Block, *, heading: str) -> list[str]:
    """One block as Markdown lines (shared with the GitHub renderer)."""
    if isinstance(b, Heading):
        return [f"{heading} {b.text}", ""]
    if isinstance(b, Para):
        return [b.text, ""]
    if isinstance(b, Items):
        return [*(f"{i}. {t}" if b.numbered else f"- {t}" for i, t in enumerate(b.items, 1)), ""]
    if isinstance(b, Table):
        lines = [_row(b.header), "|" + "---|" * len(b.header)]
        return [*lines, *(_row(r) for r in b.rows), ""]
    return [*([f"`{b.caption}`", ""] if b.caption else []), *fence(b), ""]


def fence(b: Code) -> list[str]:
    """A fenced code block whose fence is longer than any backtick run inside."""
    ticks = "```"
    while ticks in b.text:
        ticks += "`"
    return [f"{ticks}{b.lang}", b.text, ticks]


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
