"""Realistic traces for tests, made with the OpenTelemetry SDK and its official OTLP encoding.

Spans are created with explicit times through real tracer providers (one per
service, with ``service.name``/``service.version``/``cloud.region`` resource
attributes), collected by the SDK's in-memory exporter, encoded with
``opentelemetry-exporter-otlp-proto-common`` and written as JSON with
``google.protobuf.json_format`` (so ids are base64 and enums are names), or
re-keyed to hex ids, one request per line, as the collector's file exporter
writes.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
SERVER, CLIENT, INTERNAL = SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL


class TraceMaker:
    """Builds spans with explicit times (milliseconds from a trace's start) in named services."""

    def __init__(self, seed: int = 7) -> None:
        self.exporter = InMemorySpanExporter()
        self.providers: dict[str, TracerProvider] = {}
        self.rng = random.Random(seed)
        self.trace_start_ns = BASE_NS

    def new_trace(self, gap_ms: float = 1000.0) -> None:
        self.trace_start_ns += int(gap_ms * 1e6)

    def _tracer(self, service: str, version: str, region: str) -> trace.Tracer:
        key = f"{service}/{version}/{region}"
        if key not in self.providers:
            provider = TracerProvider(
                resource=Resource.create(
                    {"service.name": service, "service.version": version, "cloud.region": region}
                )
            )
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
            self.providers[key] = provider
        return self.providers[key].get_tracer("casework.tests", "1.0")

    def span(
        self,
        service: str,
        name: str,
        start_ms: float,
        dur_ms: float,
        parent: trace.Span | None = None,
        kind: SpanKind = INTERNAL,
        attrs: Mapping[str, Any] | None = None,
        error: tuple[str, str] | None = None,
        version: str = "1.0",
        region: str = "us-east-1",
        skew_ms: float = 0.0,
    ) -> trace.Span:
        """One finished span; ``error=(exception type, message)`` marks it failed with an exception event."""
        ctx = trace.set_span_in_context(parent) if parent is not None else Context()
        begin = self.trace_start_ns + int((start_ms + skew_ms) * 1e6)
        end = begin + int(dur_ms * 1e6)
        s = self._tracer(service, version, region).start_span(
            name, context=ctx, kind=kind, attributes=dict(attrs or {}), start_time=begin
        )
        if error is not None:
            s.add_event(
                "exception",
                {"exception.type": error[0], "exception.message": error[1]},
                timestamp=end,
            )
            s.set_status(Status(StatusCode.ERROR, error[1]))
        s.end(end_time=end)
        return s

    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def request_dict(self) -> dict[str, Any]:
        """All finished spans as one ExportTraceServiceRequest, protobuf's JSON mapping."""
        doc: dict[str, Any] = MessageToDict(encode_spans(self.finished()))
        return doc

    def write_document(self, path: Path) -> Path:
        path.write_bytes(orjson.dumps(self.request_dict(), option=orjson.OPT_INDENT_2))
        return path

    def write_lines(self, path: Path, batch: int = 50) -> Path:
        """One request per line with hex ids, as the collector's file exporter writes."""
        spans = self.finished()
        with path.open("wb") as fh:
            for i in range(0, len(spans), batch):
                doc = hex_ids(MessageToDict(encode_spans(spans[i : i + batch])))
                fh.write(orjson.dumps(doc) + b"\n")
        return path


def hex_ids(doc: Any) -> Any:
    """Protobuf JSON writes bytes as base64; OTLP/JSON (and the collector) write ids as hex."""
    if isinstance(doc, dict):
        return {
            k: (
                base64.b64decode(v).hex()
                if k in ("traceId", "spanId", "parentSpanId")
                else hex_ids(v)
            )
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [hex_ids(v) for v in doc]
    return doc


def load_case(db: Path, *files: Path) -> Any:
    """A case store holding the spans of ``files`` (sniffed and parsed as ingest would), opened for reading."""
    from casework.case import Case
    from casework.formats import sniff
    from casework.formats.base import ParseContext
    from casework.model import SpanRecord
    from casework.store import Store
    from casework.traces import span_row

    store = Store(db)
    for f in files:
        fmt, _ = sniff(f.read_bytes()[:65536])
        assert fmt is not None, f
        with f.open("rb") as fh:
            for rec in fmt.parse(fh, ParseContext(path=str(f))):
                assert isinstance(rec, SpanRecord)
                store.add("spans", span_row(rec, f.name))
    store.close()
    return Case.open(str(db))


def checkout(m: TraceMaker, n: int = 50, fail_every: int = 2) -> None:
    """POST /checkout: frontend → inventory → redis, and frontend → payment.

    Every ``fail_every``-th trace fails; of those, four in five start with a
    redis timeout two hops down, one in five with payment answering 503.
    """
    for i in range(n):
        m.new_trace()
        fails = i % fail_every == 0
        redis_fault = fails and (i // fail_every) % 5 != 4
        pay_fault = fails and not redis_fault
        root_err = ("HTTPError", "500 Internal Server Error") if fails else None
        root = m.span(
            "frontend",
            "POST /checkout",
            0,
            120,
            kind=SERVER,
            error=root_err,
            attrs={"http.method": "POST", "http.route": "/checkout"},
        )
        call = m.span(
            "frontend",
            "POST /reserve",
            5,
            60,
            parent=root,
            kind=CLIENT,
            attrs={"peer.service": "inventory"},
            error=("HTTPError", "502 Bad Gateway") if redis_fault else None,
        )
        srv = m.span(
            "inventory",
            "POST /reserve",
            6,
            58,
            parent=call,
            kind=SERVER,
            error=("RedisError", "upstream failed") if redis_fault else None,
        )
        m.span(
            "inventory",
            "GET",
            8,
            50 if redis_fault else 2,
            parent=srv,
            kind=CLIENT,
            attrs={
                "db.system": "redis",
                "db.statement": f"GET stock:{i}",
                "net.peer.name": "redis-0",
            },
            error=("redis.exceptions.TimeoutError", "Timeout reading from socket")
            if redis_fault
            else None,
        )
        pay = m.span(
            "frontend",
            "POST /charge",
            70,
            40,
            parent=root,
            kind=CLIENT,
            error=("HTTPError", "503 Service Unavailable") if pay_fault else None,
        )
        m.span(
            "payment",
            "POST /charge",
            71,
            38,
            parent=pay,
            kind=SERVER,
            attrs={"http.status_code": 503 if pay_fault else 200},
            error=("HTTPError", "503 Service Unavailable") if pay_fault else None,
        )


def orders_n_plus_one(m: TraceMaker, n: int = 20, queries: int = 25) -> None:
    """GET /orders: orders loads each item with its own query, one after another."""
    for _ in range(n):
        m.new_trace()
        root = m.span("orders", "GET /orders", 0, 10 + queries * 2.5, kind=SERVER)
        for q in range(queries):
            m.span(
                "orders",
                "SELECT items",
                5 + q * 2.5,
                2,
                parent=root,
                kind=CLIENT,
                attrs={
                    "db.system": "postgresql",
                    "db.statement": f"SELECT * FROM items WHERE id = {q + 17}",
                },
            )


def profile_slow_shard(m: TraceMaker, n: int = 80) -> None:
    """GET /profile: one DB query on one of four shards; shard-3 is slow."""
    for i in range(n):
        m.new_trace()
        shard = i % 4
        db_ms = 300.0 + m.rng.uniform(0, 40) if shard == 3 else 8.0 + m.rng.uniform(0, 4)
        root = m.span("profile", "GET /profile", 0, db_ms + 12, kind=SERVER)
        m.span("profile", "auth", 1, 3, parent=root)
        m.span(
            "profile",
            "SELECT profiles",
            5,
            db_ms,
            parent=root,
            kind=CLIENT,
            attrs={
                "db.system": "postgresql",
                "db.name": f"shard-{shard}",
                "db.statement": f"SELECT * FROM profiles WHERE user_id = {i}",
            },
        )


def search_parallel(m: TraceMaker, n: int = 10) -> None:
    """GET /search: three backends queried in parallel; only the slowest (B) is critical."""
    for _ in range(n):
        m.new_trace()
        root = m.span("search", "GET /search", 0, 215, kind=SERVER)
        for name, dur in (("query A", 50.0), ("query B", 200.0), ("query C", 80.0)):
            m.span("search", name, 5, dur, parent=root, kind=CLIENT)


def billing_skewed(m: TraceMaker, n: int = 10, skew_ms: float = -40.0) -> None:
    """frontend calls billing, whose host clock is ``skew_ms`` off."""
    for _ in range(n):
        m.new_trace()
        root = m.span("frontend", "POST /invoice", 0, 130, kind=SERVER)
        call = m.span("frontend", "POST /bill", 10, 100, parent=root, kind=CLIENT)
        srv = m.span("billing", "POST /bill", 20, 80, parent=call, kind=SERVER, skew_ms=skew_ms)
        m.span("billing", "render", 30, 50, parent=srv, skew_ms=skew_ms)


def utc_from_ns(ns: int) -> Any:
    """A UTC datetime from SDK nanoseconds."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ns / 1e9, tz=UTC)
