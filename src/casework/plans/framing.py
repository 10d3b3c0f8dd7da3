"""Strip what clients wrap around a plan: psql headers and ``+`` marks, boxes, CSV quotes.

A customer pastes a plan from psql (aligned, with ``QUERY PLAN`` and
``(12 rows)``), from psql's unicode border styles (``║ … ↵║``), from pgAdmin
(every line in double quotes) or DBeaver (a trailing ``|``). This module
gives back the plan's own lines with their original line numbers, so a
parser sees one plan format and evidence still points at the file's lines.
"""

from __future__ import annotations

import re

_BORDER = "║│|"
_RULE = re.compile(r"^[\s\-─═+┼╪╬╔╗╚╝╠╣╤╧╟╢┌┐└┘├┤┬┴|║│]+$")
_ROW_COUNT = re.compile(r"^\(\d+ \w+\)$")
_MYSQL_FOOTER = re.compile(r"^\d+ rows? in set\b")
#: Column headers of psql (``QUERY PLAN``) and of the mysql client (``EXPLAIN``).
_HEADERS = frozenset({"QUERY PLAN", "EXPLAIN"})
#: How far down a pasted plan its header may be (an echoed statement can be long).
PREAMBLE_LINES = 200
_PROMPT = re.compile(r"^\s*(?:\$|[\w.-]*[=-]?[#>])\s?")
_EXPLAIN = re.compile(
    r"\bEXPLAIN\b(?:\s*\([^)]*\)|\s+(?:ANALYZE|ANALYSE|VERBOSE|FORMAT\s*=?\s*\w+))*\s+"
    r"(?P<sql>(?:SELECT|WITH|INSERT|UPDATE|DELETE|MERGE|VALUES|TABLE)\b.*?)\s*;?\s*$",
    re.I | re.S,
)
_MARKS = ("+", "↵")  # psql's wrap marks at the end of a cell line


def unframe(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The plan's own lines (number, text), framing removed, indentation kept relative."""
    body = _drop_preamble(lines)
    csv_quoted = bool(body) and all(
        t.strip().startswith('"') and t.rstrip().endswith('"') for _, t in body if t.strip()
    )
    out: list[tuple[int, str]] = []
    for number, raw in body:
        text = raw.rstrip()
        if csv_quoted:
            text = text.strip()[1:-1].replace('""', '"')
        elif text.endswith('"') and text.count('"') % 2 == 1:
            text = text[:-1]  # a half-quoted export (the closing quote of a CSV cell)
        text = _strip_border(text)
        if not text.strip() or _RULE.match(text) or _ROW_COUNT.match(text.strip()):
            continue
        if text.strip() in _HEADERS or _MYSQL_FOOTER.match(text.strip()):
            continue
        if text.endswith(_MARKS):
            text = text[:-1].rstrip()
        out.append((number, text))
    return _dedent(out)


def _header_at(lines: list[tuple[int, str]]) -> int | None:
    for i, (_, text) in enumerate(lines[:PREAMBLE_LINES]):
        if _strip_border(text.strip().strip('"')).strip() in _HEADERS:
            return i
    return None


def _drop_preamble(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Skip a pasted command prompt or comment before a ``QUERY PLAN`` header."""
    at = _header_at(lines)
    if at is not None:
        return lines[at + 1 :]
    return [(n, t) for n, t in lines if not t.lstrip().startswith("#")]


def explained_statement(lines: list[tuple[int, str]]) -> str | None:
    """The statement of an ``EXPLAIN …`` echoed above the plan (psql ``\\set ECHO``, a prompt)."""
    at = _header_at(lines)
    if at is None:
        return None
    text = "\n".join(_PROMPT.sub("", t) for _, t in lines[:at])
    match = _EXPLAIN.search(text)
    return match["sql"].strip() if match else None


def _strip_border(text: str) -> str:
    stripped = text.rstrip()
    if stripped and stripped[-1] in _BORDER:
        stripped = stripped[:-1]
    lead = stripped.lstrip()
    if lead and lead[0] in _BORDER:
        stripped = lead[1:]
    return stripped.rstrip()


def _dedent(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    indents = [len(t) - len(t.lstrip()) for _, t in lines if t.strip()]
    cut = min(indents, default=0)
    return [(n, t[cut:]) for n, t in lines]
