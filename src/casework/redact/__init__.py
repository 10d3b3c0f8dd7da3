"""Redaction: no customer secret reaches the case store, a report, or a log line.

    r = Redactor(key, RedactionPolicy())   # key: per-case random secret, never written out
    r.text(s)            free text: secrets -> «secret:KIND:abcdef», stable per (key, value)
    r.value(name, v)     a named field (JSON key, header, config key, parameter)
    r.url(u)             userinfo, sensitive query/fragment parameters, then text rules
    r.header(name, v)    Authorization keeps its scheme; cookies keep names and attributes
    r.json(obj)          recursive, key-aware copy of the same shape
    r.texts(strings)     text() over many small strings in one prefilter pass (faster)
    r.counts / r.take_counts()   replacements by kind

Placeholders are documented in :mod:`casework.redact.placeholder`;
:func:`jwt_claims_from_placeholder` reads a JWT placeholder's visible claims.
A Redactor is not thread-safe (the prefilter's scratch space): use one per
thread. It pickles (the compiled prefilter is rebuilt on the other side), so a
process pool can receive it; the pickle carries the case key, so never write
it to disk.

How a string is processed: one Hyperscan pass over cheap triggers
(:mod:`rules`) selects the few lines worth a look and the rule groups to run
there; vendor token shapes (:mod:`patterns`), secret-looking names
(:mod:`named`, :mod:`names`, :mod:`assign`), HTTP credentials (:mod:`http`)
and personal data (:mod:`pii`) propose spans; the best non-overlapping ones
are replaced (:mod:`spans`). ``casework redact`` is :mod:`files` and
:mod:`har`.
"""

from __future__ import annotations

from casework.redact.placeholder import PLACEHOLDER_RE, jwt_claims_from_placeholder
from casework.redact.redactor import RedactionPolicy, Redactor

__all__ = ["PLACEHOLDER_RE", "RedactionPolicy", "Redactor", "jwt_claims_from_placeholder"]
