"""Keeping a customer update plain and safe: no secrets, no internal hostnames, no analysis jargon."""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"«secret:[^»]*»")
_INTERNAL_HOST = re.compile(
    r"\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:svc\.cluster\.local|cluster\.local|internal|local|localdomain"
    r"|corp|lan|intranet|home\.arpa)\b(?::\d+)?",
    re.IGNORECASE,
)
_PRIVATE_V4 = re.compile(
    r"\b(?:10(?:\.\d{1,3}){3}|127(?:\.\d{1,3}){3}|192\.168(?:\.\d{1,3}){2}|169\.254(?:\.\d{1,3}){2}"
    r"|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2})\b(?::\d+)?"
)
_PRIVATE_V6 = re.compile(r"\b[fF][cdCD][0-9a-fA-F]{2}:[0-9a-fA-F:]+\b")
_TEMPLATE_WILDCARD = re.compile(r"\s*<\*>\s*")

#: Words that mean something only inside casework or to a statistician.
JARGON = (
    "analyzer", "p-value", "p =", "fisher", "template", "template_id", "cohort", "lift", "changepoint",
    "change point", "bucket", "stats", "finding", "http_5xx", "_signature", "severity", "score",
    "case store", "duckdb", "entities", "baseline", "<*>", "«secret", "5xx", "4xx",
)  # fmt: skip


def sanitize(text: str, *, allow_internal_hosts: bool = False) -> str:
    """``text`` with secret placeholders, internal hostnames and private addresses replaced."""
    text = _PLACEHOLDER.sub("[redacted]", text)
    text = _TEMPLATE_WILDCARD.sub(" … ", text)
    if not allow_internal_hosts:
        text = _INTERNAL_HOST.sub("[internal host]", text)
        text = _PRIVATE_V4.sub("[internal address]", text)
        text = _PRIVATE_V6.sub("[internal address]", text)
    return text


def jargon_in(text: str) -> list[str]:
    """The jargon words ``text`` contains (case-insensitive); an update should contain none."""
    lower = text.lower()
    return [w for w in JARGON if w in lower]
