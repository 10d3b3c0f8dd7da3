"""Jaeger JSON reader: the UI / query API export, a bare trace, and the domain-model JSON.

The UI export is ``{"data": [{traceID, spans, processes}]}`` with typed tags
``{key, type, value}``; the domain model (``{"spans": [...]}``) has base64
ids, RFC 3339 times, Go durations and ``vStr``/``vInt64`` tags. The parent is
the first reference inside the same trace, CHILD_OF before FOLLOWS_FROM; a
FOLLOWS_FROM parent is kept in ``attrs["ref.type"]`` so critical-path walks
can leave it out, as the Jaeger UI does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

from casework.formats.base import ParseContext
from casework.model import SpanRecord
from casework.traces import fields
from casework.traces.documents import documents
from casework.traces.semconv import canonical

_VALUE_KEYS = ("value", "vStr", "vInt64", "vFloat64", "vBool", "vBinary")


def tags(items: Any) -> dict[str, Any]:
    """A dict from a Jaeger tag list, whichever of the two JSON shapes it has."""
    out: dict[str, Any] = {}
    for tag in items or ():
        if not isinstance(tag, Mapping) or "key" not in tag:
            continue
        value = next((tag[k] for k in _VALUE_KEYS if k in tag), None)
        kind = str(tag.get("type") or tag.get("vType") or "").lower()
        if kind == "int64":
            value = fields.as_int(value)
        elif kind == "bool" and isinstance(value, str):
            value = fields.truthy(value)
        out[str(tag["key"])] = value
    return out


def traces_of(doc: Any) -> Iterator[Mapping[str, Any]]:
    """The trace objects of a document: ``{"data": [...]}``, a list, or one trace."""
    if isinstance(doc, Mapping):
        data = doc.get("data")
        if isinstance(data, list):
            yield from (t for t in data if isinstance(t, Mapping))
        elif isinstance(doc.get("spans"), list):
            yield doc
    elif isinstance(doc, list):
        yield from (t for t in doc if isinstance(t, Mapping) and isinstance(t.get("spans"), list))


def spans_from_trace(
    trace: Mapping[str, Any], line: int, ctx: ParseContext | None = None
) -> Iterator[SpanRecord]:
    """Every span of one Jaeger trace object; unreadable spans are counted in ``ctx``."""
    processes = trace.get("processes") or {}
    for span in trace.get("spans") or ():
        try:
            yield _span(span, processes, line)
        except fields.UNREADABLE as exc:
            if ctx is None:
                raise
            ctx.bad(line, f"unreadable span ({type(exc).__name__})")


def _span(span: Mapping[str, Any], processes: Mapping[str, Any], line: int) -> SpanRecord:
    trace_id = fields.span_id(span.get("traceID") or span.get("traceId"))
    sid = fields.span_id(span.get("spanID") or span.get("spanId"))
    if trace_id is None or sid is None:
        raise ValueError("span without trace or span id")
    process = span.get("process") or processes.get(str(span.get("processID")), {}) or {}
    attrs = tags(process.get("tags"))
    attrs.update(tags(span.get("tags")))
    parent, ref_type = _parent(span, trace_id)
    if ref_type == "FOLLOWS_FROM":
        attrs["ref.type"] = ref_type
    attrs.update(_error_log(span.get("logs")))
    if span.get("warnings"):
        attrs["jaeger.warnings"] = len(span["warnings"])
    kind = fields.kind(attrs.pop("span.kind", None))
    code = fields.status(attrs.pop("otel.status_code", None))
    error = fields.truthy(attrs.pop("error", False)) or code == "ERROR"
    if error:
        code = "ERROR"
    start, duration = _timing(span)
    return SpanRecord(
        line=line,
        trace_id=trace_id,
        span_id=sid,
        parent_id=parent,
        service=str(process.get("serviceName") or "unknown_service"),
        name=str(span.get("operationName") or ""),
        kind=kind,
        start=start,
        duration_ms=duration,
        status=code,
        error=error,
        attrs=canonical(attrs),
    )


def _parent(span: Mapping[str, Any], trace_id: str) -> tuple[str | None, str | None]:
    refs = [r for r in span.get("references") or () if isinstance(r, Mapping)]
    same = [
        r for r in refs if fields.span_id(r.get("traceID") or r.get("traceId")) in (trace_id, None)
    ]
    for wanted in ("CHILD_OF", "FOLLOWS_FROM"):
        for ref in same:
            if str(ref.get("refType") or "CHILD_OF").upper() == wanted:
                return fields.span_id(ref.get("spanID") or ref.get("spanId")), wanted
    if span.get("parentSpanID"):
        return fields.span_id(span["parentSpanID"]), "CHILD_OF"
    return None, None


def _timing(span: Mapping[str, Any]) -> tuple[datetime | None, float | None]:
    start_raw = span.get("startTime")
    dur_raw = span.get("duration")
    start: datetime | None
    if isinstance(start_raw, str) and not start_raw.strip().isdigit():
        start = datetime.fromisoformat(_trim_nanos(start_raw.strip())).astimezone(UTC)
    else:
        micros = fields.as_int(start_raw)
        start = fields.from_unix_us(micros) if micros else None
    if isinstance(dur_raw, str) and not dur_raw.strip().isdigit():
        ns = fields.go_duration_ns(dur_raw)
        duration = ns / 1e6 if ns is not None else None
    else:
        micros = fields.as_int(dur_raw)
        duration = micros / 1e3 if micros is not None else None
    return start, duration


def _trim_nanos(text: str) -> str:
    """Python reads at most microseconds; Go writes nanoseconds."""
    if "." not in text:
        return text
    head, tail = text.split(".", 1)
    digits = len(tail) - len(tail.lstrip("0123456789"))
    return f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"


def _error_log(logs: Any) -> dict[str, Any]:
    """Fields of the first log that records an error (``event=error`` or an exception)."""
    for log in logs or ():
        if not isinstance(log, Mapping):
            continue
        found = tags(log.get("fields"))
        if str(found.get("event", "")).lower() in ("error", "exception") or any(
            k in found for k in ("error.kind", "error.object", "exception.type")
        ):
            out = {k: v for k, v in found.items() if k.startswith(("error.", "exception."))}
            if "message" in found:
                out.setdefault("exception.message", found["message"])
            return out
    return {}


def read(stream: BinaryIO, ctx: ParseContext) -> Iterator[SpanRecord]:
    """Spans of a Jaeger JSON file (one document, or one trace per line)."""
    for number, doc in documents(stream, ctx):
        found = False
        try:
            for trace in traces_of(doc):
                found = True
                yield from spans_from_trace(trace, number, ctx)
        except fields.UNREADABLE as exc:
            ctx.bad(number, f"unreadable trace ({type(exc).__name__})")
        if not found:
            ctx.bad(number, "no Jaeger trace in this document")
