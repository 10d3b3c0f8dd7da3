"""OTLP JSON reader: an ``ExportTraceServiceRequest`` document, or one per line (collector file exporter).

Ids are hex as the OTLP/JSON spec writes them, or base64 as protobuf's
generic JSON mapping writes them; int64 nanoseconds arrive as strings;
enums as numbers or names. Resource attributes (``service.name``,
``service.version``, ``cloud.region``) are merged into each span's attrs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from casework.formats.base import ParseContext
from casework.model import SpanRecord
from casework.traces import fields
from casework.traces.documents import documents
from casework.traces.semconv import canonical

UNKNOWN_SERVICE = "unknown_service"
#: Exception stack traces can be huge; the first part says where it was thrown.
_MAX_STACK = 2000


def any_value(value: Any) -> Any:
    """The Python value of an OTLP ``AnyValue`` (``{"stringValue": ...}`` and its kin)."""
    if not isinstance(value, Mapping) or not value:
        return None
    key, inner = next(iter(value.items()))
    if key in ("stringValue", "string_value", "boolValue", "bool_value", "doubleValue"):
        return inner
    if key in ("intValue", "int_value"):
        return fields.as_int(inner)
    if key in ("arrayValue", "array_value"):
        return [any_value(v) for v in (inner or {}).get("values", ())]
    if key in ("kvlistValue", "kvlist_value"):
        return {
            kv.get("key", ""): any_value(kv.get("value")) for kv in (inner or {}).get("values", ())
        }
    if key in ("bytesValue", "bytes_value"):
        return inner
    return inner


def attributes(items: Any, prefix: str = "", into: dict[str, Any] | None = None) -> dict[str, Any]:
    """A flat dict (``into``, or a new one) from an OTLP ``KeyValue`` list; kvlists become dotted keys."""
    out: dict[str, Any] = {} if into is None else into
    if not isinstance(items, list):
        return out
    for kv in items:
        if type(kv) is not dict:
            continue
        raw = kv.get("value")
        if type(raw) is dict and "stringValue" in raw and not prefix:
            out[kv.get("key", "")] = raw["stringValue"]  # most attributes: skip the general path
            continue
        value = any_value(raw)
        name = prefix + str(kv.get("key", ""))
        if isinstance(value, dict):
            for sub_key, sub_value in attributes(
                [{"key": k, "value": _wrap(v)} for k, v in value.items()], name + "."
            ).items():
                out[sub_key] = sub_value
        else:
            out[name] = value
    return out


def _wrap(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {
            "kvlistValue": {"values": [{"key": k, "value": _wrap(v)} for k, v in value.items()]}
        }
    return {"stringValue": value}


def spans_from_request(
    doc: Mapping[str, Any], line: int, ctx: ParseContext | None = None
) -> Iterator[SpanRecord]:
    """Every span of one ``ExportTraceServiceRequest`` (also accepts a ``{"result": ...}`` wrapper).

    A span or resource that cannot be read is counted in ``ctx`` (or raised without one).
    """
    if "resourceSpans" not in doc and isinstance(doc.get("result"), Mapping):
        doc = doc["result"]  # Jaeger's API v3 wraps OTLP this way
    entries = doc.get("resourceSpans") or doc.get("resource_spans")
    for rs in entries if isinstance(entries, list) else ():
        try:
            yield from _resource_spans(rs, line, ctx)
        except fields.UNREADABLE as exc:
            if ctx is None:
                raise
            ctx.bad(line, f"unreadable resourceSpans entry ({type(exc).__name__})")


def _resource_spans(rs: Any, line: int, ctx: ParseContext | None) -> Iterator[SpanRecord]:
    resource = attributes((rs.get("resource") or {}).get("attributes"))
    service = str(resource.pop("service.name", None) or UNKNOWN_SERVICE)
    scopes = rs.get("scopeSpans") or rs.get("scope_spans") or rs.get("instrumentationLibrarySpans")
    for ss in scopes or ():
        scope = ss.get("scope") or ss.get("instrumentationLibrary") or {}
        base = dict(resource)
        if scope.get("name"):
            base["otel.scope.name"] = scope["name"]
        if scope.get("version"):
            base["otel.scope.version"] = scope["version"]
        for span in ss.get("spans") or ():
            try:
                if type(span) is not dict:
                    raise TypeError("span is not an object")
                yield _span(span, service, base, line)
            except fields.UNREADABLE as exc:
                if ctx is None:
                    raise
                ctx.bad(line, f"unreadable span ({type(exc).__name__})")


def _span(span: dict[str, Any], service: str, base: dict[str, Any], line: int) -> SpanRecord:
    get = span.get  # ~30 lookups per span, a million spans: keep them cheap
    trace_id = fields.span_id(get("traceId") or get("trace_id"))
    sid = fields.span_id(get("spanId") or get("span_id"))
    if trace_id is None or sid is None:
        raise ValueError("span without traceId or spanId")
    start_ns = fields.as_int(get("startTimeUnixNano") or get("start_time_unix_nano"))
    end_ns = fields.as_int(get("endTimeUnixNano") or get("end_time_unix_nano"))
    attrs = attributes(get("attributes"), into=dict(base))
    events = get("events")
    if events:
        attrs.update(_exception(events))
    code = "UNSET"
    st = get("status")
    if st:
        code = fields.status(st.get("code"))
        if st.get("message"):
            attrs["otel.status_description"] = st["message"]
    links = get("links")
    if links:
        attrs["otel.links"] = len(links)
    start = fields.from_unix_ns(start_ns) if start_ns else None
    duration = (end_ns - start_ns) / 1e6 if start_ns and end_ns and end_ns >= start_ns else None
    return SpanRecord(
        line=line,
        trace_id=trace_id,
        span_id=sid,
        parent_id=fields.span_id(get("parentSpanId") or get("parent_span_id")),
        service=service,
        name=str(get("name") or ""),
        kind=fields.kind(get("kind")),
        start=start,
        duration_ms=duration,
        status=code,
        error=code == "ERROR",
        attrs=canonical(attrs),
    )


def _exception(events: Any) -> dict[str, Any]:
    """The attributes of the first ``exception`` event, which say what failed."""
    for event in events or ():
        if isinstance(event, Mapping) and event.get("name") == "exception":
            found = attributes(event.get("attributes"))
            out = {k: v for k, v in found.items() if k.startswith("exception.")}
            stack = out.get("exception.stacktrace")
            if isinstance(stack, str) and len(stack) > _MAX_STACK:
                out["exception.stacktrace"] = stack[:_MAX_STACK]
            return out
    return {}


def read(stream: BinaryIO, ctx: ParseContext) -> Iterator[SpanRecord]:
    """Spans of an OTLP JSON file, whether one document or one request per line."""
    for number, doc in documents(stream, ctx):
        if isinstance(doc, Mapping):
            yield from spans_from_request(doc, number, ctx)
        else:
            ctx.bad(number, "not an OTLP request object")
