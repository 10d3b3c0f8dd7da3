"""Zipkin JSON traces: a v2 span array (v1 arrays with annotations are read too)."""

from __future__ import annotations

import re

from casework.formats.base import Format
from casework.traces import zipkin

_ARRAY_OF_OBJECTS = re.compile(rb"^\s*\[\s*\{")
_TRACE_ID = re.compile(rb'"traceId"\s*:\s*"[0-9a-fA-F]{16,32}"')
_SPAN_ID = re.compile(rb'"id"\s*:\s*"[0-9a-fA-F]{16}"')


def sniff(head: bytes) -> float:
    """An array of objects with hex ``traceId`` and ``id`` and no Jaeger or OTLP keys."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not _ARRAY_OF_OBJECTS.match(head) or b'"operationName"' in head:
        return 0.0
    if _TRACE_ID.search(head) and _SPAN_ID.search(head):
        return 0.9
    return 0.0


FORMAT = Format(
    kind="zipkin-json",
    category="trace",
    sniff=sniff,
    parse=zipkin.read,
    description="Zipkin span array (API v2 JSON; v1 tolerated)",
)
