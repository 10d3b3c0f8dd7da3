"""Zipkin JSON reader: v2 span arrays, and v1 (annotations and binaryAnnotations) when present.

Zipkin lets a client and a server span share one id (``shared: true`` on the
server side). casework needs one id per span, so the server half becomes
``<id>-s``, a child of the client half, and the children that ran on the
server's host move under it, as the Zipkin UI's tree builder does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from casework.formats.base import ParseContext
from casework.model import SpanRecord
from casework.traces import fields
from casework.traces.documents import documents
from casework.traces.semconv import canonical

_V1_KINDS = {"cs": "CLIENT", "sr": "SERVER", "ms": "PRODUCER", "mr": "CONSUMER"}
SHARED_SUFFIX = "-s"


def v1_to_v2(span: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A Zipkin v1 span as v2 spans (a span holding both cs and sr becomes a client and a server)."""
    notes = {a.get("value"): a for a in span.get("annotations") or () if isinstance(a, Mapping)}
    tags: dict[str, Any] = {}
    remote: dict[str, Any] = {}
    local: dict[str, Any] = {}
    for b in span.get("binaryAnnotations") or ():
        if not isinstance(b, Mapping):
            continue
        if b.get("key") in ("ca", "sa", "ma"):
            remote = dict(b.get("endpoint") or {})
        else:
            tags[str(b.get("key"))] = b.get("value")
            local = local or dict(b.get("endpoint") or {})
    base = {k: span.get(k) for k in ("traceId", "id", "parentId", "name")}
    out: list[dict[str, Any]] = []
    pairs = (("cs", "cr"), ("sr", "ss"), ("ms", None), ("mr", None))
    for begin, end in pairs:
        if begin not in notes:
            continue
        first = notes[begin]
        last = notes.get(end) if end else None
        start = first.get("timestamp")
        v2 = dict(base, kind=_V1_KINDS[begin], timestamp=start, tags=tags)
        if last is not None and start is not None and last.get("timestamp") is not None:
            v2["duration"] = last["timestamp"] - start
        v2["localEndpoint"] = first.get("endpoint") or local
        v2["remoteEndpoint"] = remote
        out.append(v2)
    if len(out) == 2:
        out[1]["shared"] = True
    if not out:
        endpoint = next((a.get("endpoint") for a in notes.values() if a.get("endpoint")), local)
        out.append(
            dict(
                base,
                timestamp=span.get("timestamp"),
                duration=span.get("duration"),
                localEndpoint=endpoint,
                tags=tags,
            )
        )
    elif span.get("timestamp") is not None and len(out) == 1:
        out[0]["timestamp"] = span["timestamp"]
        out[0]["duration"] = span.get("duration", out[0].get("duration"))
    return out


def spans_from_list(
    items: list[Any], line: int, ctx: ParseContext | None = None
) -> Iterator[SpanRecord]:
    """The spans of one Zipkin JSON array (v2, or v1 converted)."""
    records: list[SpanRecord] = []
    for item in items:
        try:
            if not isinstance(item, Mapping):
                raise TypeError("array item is not a span object")
            v1 = "binaryAnnotations" in item or _is_v1(item)
            records.extend(_span(span, line) for span in (v1_to_v2(item) if v1 else [item]))
        except fields.UNREADABLE as exc:
            if ctx is None:
                raise
            ctx.bad(line, f"unreadable span ({type(exc).__name__})")
    yield from split_shared(records)


def _is_v1(item: Mapping[str, Any]) -> bool:
    notes = item.get("annotations") or ()
    return any(isinstance(a, Mapping) and "endpoint" in a for a in notes)


def _span(span: Mapping[str, Any], line: int) -> SpanRecord:
    trace_id = fields.span_id(span.get("traceId"))
    sid = fields.span_id(span.get("id"))
    if trace_id is None or sid is None:
        raise ValueError("span without traceId or id")
    local = span.get("localEndpoint") or {}
    remote = span.get("remoteEndpoint") or {}
    attrs: dict[str, Any] = {str(k): v for k, v in (span.get("tags") or {}).items()}
    error = "error" in attrs
    if error:
        message = attrs.pop("error")
        if message not in ("", "true", True):
            attrs["otel.status_description"] = message
    if remote.get("serviceName"):
        attrs["peer.service"] = remote["serviceName"]
    if remote.get("ipv4") or remote.get("ipv6"):
        attrs["network.peer.address"] = remote.get("ipv4") or remote.get("ipv6")
    if remote.get("port"):
        attrs["network.peer.port"] = remote["port"]
    if local.get("ipv4") or local.get("ipv6"):
        attrs["host.ip"] = local.get("ipv4") or local.get("ipv6")
    if span.get("shared"):
        attrs["zipkin.shared"] = True
    if span.get("annotations"):
        attrs["zipkin.annotations"] = len(span["annotations"])
    micros = fields.as_int(span.get("timestamp"))
    dur = fields.as_int(span.get("duration"))
    return SpanRecord(
        line=line,
        trace_id=trace_id,
        span_id=sid,
        parent_id=fields.span_id(span.get("parentId")),
        service=str(local.get("serviceName") or "unknown_service"),
        name=str(span.get("name") or ""),
        kind=fields.kind(span.get("kind")),
        start=fields.from_unix_us(micros) if micros else None,
        duration_ms=dur / 1e3 if dur is not None else None,
        status="ERROR" if error else "UNSET",
        error=error,
        attrs=canonical(attrs),
    )


def split_shared(records: list[SpanRecord]) -> list[SpanRecord]:
    """Give the server half of a shared client/server span its own id (see module docstring)."""
    owners: dict[tuple[str, str], SpanRecord] = {}
    for rec in records:
        if not rec.attrs.get("zipkin.shared"):
            owners.setdefault((rec.trace_id, rec.span_id), rec)
    moved: dict[tuple[str, str], SpanRecord] = {}
    for rec in records:
        key = (rec.trace_id, rec.span_id)
        if rec.attrs.get("zipkin.shared") and key in owners:
            rec.parent_id = rec.span_id
            rec.span_id += SHARED_SUFFIX
            moved[key] = rec
    for rec in records:
        if rec.parent_id is None or rec.span_id.endswith(SHARED_SUFFIX):
            continue
        server = moved.get((rec.trace_id, rec.parent_id))
        if server is not None and server.service == rec.service:
            rec.parent_id = server.span_id
    return records


def read(stream: BinaryIO, ctx: ParseContext) -> Iterator[SpanRecord]:
    """Spans of a Zipkin JSON file: one array, or one array per line."""
    for number, doc in documents(stream, ctx):
        if isinstance(doc, list):
            yield from spans_from_list(doc, number, ctx)
        else:
            ctx.bad(number, "not a Zipkin span array")
