"""OTLP JSON traces (``ExportTraceServiceRequest``), one document or one per line as the collector writes."""

from __future__ import annotations

import re

from casework.formats.base import Format
from casework.traces import otlp

_HEAD = re.compile(rb'^\s*\{\s*(?:"result"\s*:\s*\{\s*)?"resource_?[sS]pans"\s*:')


def sniff(head: bytes) -> float:
    """Sure when the document opens with ``resourceSpans`` (OTLP logs and metrics use other keys)."""
    return 0.95 if _HEAD.match(head.removeprefix(b"\xef\xbb\xbf")) else 0.0


FORMAT = Format(
    kind="otlp-json",
    category="trace",
    sniff=sniff,
    parse=otlp.read,
    description="OpenTelemetry OTLP/JSON trace export (collector file exporter or single request)",
)
