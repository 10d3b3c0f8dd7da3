"""OTLP JSON traces (``ExportTraceServiceRequest``), one document or one per line as the collector writes.

Two kinds share one reader. ``otlp-jsonl`` is compact JSON, one request per
line (the collector's file exporter): a large file can be cut at any line
and read in parallel. ``otlp-json`` is a (usually pretty-printed) single
document, which must be read whole.
"""

from __future__ import annotations

import re

from casework.formats.base import Format
from casework.traces import otlp

_HEAD = re.compile(rb'^\s*\{\s*(?:"result"\s*:\s*\{\s*)?"resource_?[sS]pans"\s*:')
#: Compact JSON: nothing between the brace and the key, so the request ends its line.
_LINE_HEAD = re.compile(rb'^\{(?:"result":\{)?"resource_?[sS]pans":')


def sniff(head: bytes) -> float:
    """Sure when the document opens with ``resourceSpans`` (OTLP logs and metrics use other keys)."""
    return 0.95 if _HEAD.match(head.removeprefix(b"\xef\xbb\xbf")) else 0.0


def sniff_lines(head: bytes) -> float:
    """A compact request on the first line: the collector's one-request-per-line file."""
    return 0.96 if _LINE_HEAD.match(head.removeprefix(b"\xef\xbb\xbf")) else 0.0


FORMAT = Format(
    kind="otlp-json",
    category="trace",
    sniff=sniff,
    parse=otlp.read,
    description="OpenTelemetry OTLP/JSON trace export, one request document",
)

LINES_FORMAT = Format(
    kind="otlp-jsonl",
    category="trace",
    sniff=sniff_lines,
    parse=otlp.read,
    description="OpenTelemetry OTLP/JSON traces, one request per line (collector file exporter)",
)
