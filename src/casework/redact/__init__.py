"""Redaction: no customer secret reaches the case store, a report, or a log line.

    r = Redactor(key, RedactionPolicy())   # key: per-case random secret, never written out
    r.text(s)            free text: secrets -> «secret:KIND:abcdef», stable per (key, value)
    r.value(name, v)     a named field (JSON key, header, config key, parameter)
    r.url(u)             userinfo, sensitive query/fragment parameters, then text rules
    r.header(name, v)    Authorization keeps its scheme; cookies keep names and attributes
    r.json(obj)          recursive, key-aware copy of the same shape
    r.counts / r.take_counts()   replacements by kind

Placeholders are documented in :mod:`casework.redact.placeholder`;
:func:`jwt_claims_from_placeholder` reads a JWT placeholder's visible claims.
"""

from __future__ import annotations

from casework.redact.placeholder import PLACEHOLDER_RE, jwt_claims_from_placeholder
from casework.redact.redactor import RedactionPolicy, Redactor

__all__ = ["PLACEHOLDER_RE", "RedactionPolicy", "Redactor", "jwt_claims_from_placeholder"]
