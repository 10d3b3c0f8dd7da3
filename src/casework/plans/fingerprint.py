"""Normalize SQL statements so the same query with other values has one fingerprint.

Follows pt-query-digest and pg_stat_statements in spirit: comments dropped,
string, number and ``$n`` literals become ``?``, ``IN (?, ?, …)`` and
multi-row ``VALUES`` collapse, whitespace and case are folded.
"""

from __future__ import annotations

import hashlib
import re

_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*|#[^\n]*$", re.S | re.M)
_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"(?=\s*(?:,|\)|$|=|<|>))")
_DOLLAR_STRING = re.compile(r"\$(\w*)\$.*?\$\1\$", re.S)
_PLACEHOLDER = re.compile(r"«[^»]*»")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])", re.I)
_PARAM = re.compile(r"\$\d+|:\w+\b|\?")
_IN_LIST = re.compile(r"\bin\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.I)
_VALUES = re.compile(r"\bvalues\s*\(.*?\)(?:\s*,\s*\(.*?\))*", re.I | re.S)
_SPACE = re.compile(r"\s+")
_TYPED = re.compile(r"\?::\w+(?:\[\])?")


def normalize(sql: str) -> str:
    """The statement with its literal values replaced: ``select * from t where id = ?``."""
    text = _COMMENT.sub(" ", sql)
    text = _DOLLAR_STRING.sub("?", text)
    text = _PLACEHOLDER.sub("?", text)
    text = _STRING.sub("?", text)
    text = _PARAM.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _TYPED.sub("?", text)
    text = _SPACE.sub(" ", text).strip().rstrip(";").strip().lower()
    text = text.replace("`", "")
    text = _IN_LIST.sub("in (?+)", text)
    text = _VALUES.sub("values (?+)", text)
    return text


def fingerprint(sql: str) -> str:
    """A short stable id of the normalized statement."""
    return hashlib.sha256(normalize(sql).encode()).hexdigest()[:12]


_TABLE = re.compile(r"\b(?:from|join|update|into|delete\s+from)\s+([\w.\"`]+)", re.I)


def tables(sql: str) -> set[str]:
    """Table names a statement reads or writes (schema dropped, lower case)."""
    out = set()
    for match in _TABLE.finditer(_COMMENT.sub(" ", sql)):
        name = match[1].replace('"', "").replace("`", "").rsplit(".", 1)[-1].lower()
        if name and name not in ("select", "lateral", "unnest"):
            out.add(name)
    return out
