"""Jaeger JSON traces: the UI / query API export, a single trace, or the domain-model JSON."""

from __future__ import annotations

import re

from casework.formats.base import Format
from casework.traces import jaeger

_OPEN = re.compile(rb"^\s*[\[{]")
_TRACE_KEY = re.compile(rb'"(?:traceID|spanID|traceId|spanId)"\s*:')


def sniff(head: bytes) -> float:
    """Jaeger spans carry ``operationName`` inside a ``spans`` list, which no log or OTLP file does."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not _OPEN.match(head) or b'"resourceSpans"' in head:
        return 0.0
    if b'"operationName"' in head and b'"spans"' in head and _TRACE_KEY.search(head):
        return 0.9
    return 0.0


FORMAT = Format(
    kind="jaeger-json",
    category="trace",
    sniff=sniff,
    parse=jaeger.read,
    description="Jaeger trace JSON (UI download / query API, or domain model)",
)
