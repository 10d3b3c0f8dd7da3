"""Distributed traces: readers for OTLP, Jaeger and Zipkin JSON, and the algorithms analyzers use.

Readers yield :class:`~casework.model.SpanRecord`; the ingest step stores
one row per span in the ``spans`` table with :func:`span_row`. Analyzers
load traces back with :mod:`casework.traces.tree` and run the algorithms
(skew correction, critical path, error origin, service graph) over them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from casework.model import SpanRecord

if TYPE_CHECKING:
    from casework.store import RowBuffer

#: How much of a file the sniffer looks at.
SNIFF_BYTES = 64 << 10


def span_row(rec: SpanRecord, file: str) -> tuple[Any, ...]:
    """The ``spans`` row of a record, in the column order of ``store.SCHEMA["spans"]``."""
    return (
        rec.trace_id,
        rec.span_id,
        rec.parent_id,
        rec.service,
        rec.name,
        rec.kind,
        rec.start,
        rec.duration_ms,
        rec.status,
        rec.error,
        file,
        rec.attrs,
    )


class Redacts(Protocol):
    """What :func:`write_span` needs of the ingest step's redactor."""

    def text(self, value: str) -> str: ...

    def json(self, value: Any) -> Any: ...


def write_span(out: RowBuffer, redactor: Redacts, rec: SpanRecord, file: str) -> None:
    """Store one span, its names and attributes redacted (the ingest writer for ``SpanRecord``).

    Ids, kinds and times carry no secrets; the service, the span name (often a
    URL) and every attribute can.
    """
    row = list(span_row(rec, file))
    row[3] = redactor.text(rec.service)
    row[4] = redactor.text(rec.name)
    row[11] = redactor.json(rec.attrs) if rec.attrs else {}
    out.add("spans", row)


def summary(path: str | Path) -> dict[str, Any]:
    """Facts of one trace file for ``casework inspect``: format, traces, spans, services, errors.

    A file that is not a trace export says so in ``reason`` instead of raising.
    """
    # Imported here: casework.formats imports the readers of this package.
    from casework.formats import sniff
    from casework.formats.base import ParseContext

    path = Path(path)
    with path.open("rb") as fh:
        fmt, confidence = sniff(fh.read(SNIFF_BYTES))
    if fmt is None or fmt.category != "trace":
        kind = fmt.kind if fmt else None
        return {"path": str(path), "format": kind, "reason": "not a trace export", "spans": 0}
    ctx = ParseContext(path=str(path))
    traces: set[str] = set()
    services: Counter[str] = Counter()
    errors = spans = 0
    first = last = None
    with path.open("rb") as fh:
        for rec in fmt.parse(fh, ctx):
            if not isinstance(rec, SpanRecord):
                continue
            spans += 1
            traces.add(rec.trace_id)
            services[rec.service] += 1
            errors += rec.error
            if rec.start is not None:
                first = rec.start if first is None else min(first, rec.start)
                last = rec.start if last is None else max(last, rec.start)
    return {
        "path": str(path),
        "format": fmt.kind,
        "confidence": confidence,
        "spans": spans,
        "traces": len(traces),
        "services": dict(services.most_common()),
        "error_spans": errors,
        "first_start": first.isoformat() if first else None,
        "last_start": last.isoformat() if last else None,
        "bad_records": ctx.bad_records,
        "first_problem": ctx.first_problem,
    }


__all__ = ["Redacts", "span_row", "summary", "write_span"]
