"""Typed records that parsers emit and the store takes in.

Parsers yield these; they never analyze. Every string in a record is still
raw evidence until the ingest step passes it through the redactor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson


@dataclass(slots=True)
class LogRecord:
    """One log record; a multi-line record (stack trace) is one record.

    ``line`` is the 1-based line number of the record's first line in its file,
    ``end_line`` the last (equal to ``line`` for single-line records).
    ``ts`` is timezone-aware UTC when the source said its zone or ``--tz``
    supplied one; ``ts_assumed`` is True when the zone was assumed.
    ``attrs`` keeps every other field of the record, nested objects flattened
    to dotted keys (``http.status``, ``user.id``).
    """

    line: int
    message: str
    ts: datetime | None = None
    level: str | None = None
    service: str | None = None
    logger: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    end_line: int | None = None
    ts_assumed: bool = False


@dataclass(slots=True)
class ChangeRecord:
    """Something that changed: a release, deploy, config change, restart."""

    line: int
    ts: datetime
    kind: str
    what: str
    version: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RequestRecord:
    """One HTTP request seen directly (HAR entry, pcap exchange).

    Requests found inside log records are derived by the ingest step from the
    record's attributes instead, so parsers of logs never emit this type.
    """

    line: int
    ts: datetime | None
    method: str | None
    url: str | None
    host: str | None
    route: str | None
    status: int | None
    duration_ms: float | None
    bytes: int | None = None
    client: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SpanRecord:
    """One span of a distributed trace (OTLP, Jaeger or Zipkin), attributes in canonical names.

    Ids are lowercase hex text as the source wrote them; ``parent_id`` is None
    for a root. ``kind`` is SERVER, CLIENT, PRODUCER, CONSUMER or INTERNAL;
    ``status`` is OK, ERROR or UNSET. ``attrs`` holds span, resource and scope
    attributes after semantic-convention aliasing (``http.response.status_code``
    whatever the instrumentation called it), plus ``exception.*`` of the first
    exception event. ``start`` is None for a span recorded without timing.
    """

    line: int
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    kind: str
    start: datetime | None
    duration_ms: float | None
    status: str = "UNSET"
    error: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PlanNodeRecord:
    """One node of a query plan, for the ``plans`` table (one row per node).

    Fields match the table's columns except ``line`` (where the node or its
    plan starts) and ``file``, which ingest adds. ``plan_id`` is unique within
    the case; ``est_rows``, ``actual_rows`` are per loop (PostgreSQL's
    convention), ``total_ms`` is the node's time over all loops. ``attrs``
    holds every other fact (filter, buffers, workers…); the root node's
    ``attrs["plan"]`` holds the plan's facts (execution time, triggers, JIT).
    """

    line: int
    plan_id: str
    node_id: int
    parent: int | None
    node_type: str
    relation: str | None
    est_rows: float | None
    actual_rows: float | None
    loops: float | None
    total_ms: float | None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ConfigRecord:
    """One configuration key, flattened to a path (``http.client.timeout_ms``), its value as text."""

    line: int
    key: str
    value: str


@dataclass(slots=True)
class K8sRecord:
    """A Kubernetes event or container state (from ``kubectl get -o json|yaml`` or ``describe``).

    ``object`` is ``Kind/name``; ``reason`` the event or state reason
    (``OOMKilled``, ``BackOff``, ``FailedScheduling``); ``attrs`` holds the
    rest: namespace, type, node, exit code, restart count, limits, age.
    """

    line: int
    ts: datetime | None
    object: str
    reason: str
    message: str
    count: int = 1
    container: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FlowRecord:
    """One TCP conversation or UDP flow of a packet capture, for the ``flows`` table.

    ``src``/``sport`` is the client (the SYN sender, else the higher port),
    ``line`` the first frame number. ``attrs`` holds the protocol facts with
    frame numbers for evidence: handshake and RTT, Wireshark-style analysis
    counts, resets (who, after how long idle), TLS versions/SNI/alerts, DNS
    transactions.
    """

    line: int
    proto: str
    src: str
    sport: int
    dst: str
    dport: int
    start: datetime | None
    end: datetime | None
    packets: int
    bytes: int
    attrs: dict[str, Any] = field(default_factory=dict)


#: A log line already in the store's shape: (line, ts, message, attrs as JSON text, the attrs'
#: keys, method, route, status, duration in ms, bytes, client, level, logger, whether the zone
#: of ts was assumed). Its JSON holds every value verbatim (no escapes), so a scan of the JSON
#: text sees each value as it is. Request fields are None on a line that is not a request.
FastLine = tuple[
    int, datetime | None, str, str, tuple[str, ...], str | None, str | None, int | None,
    float | None, int | None, str | None, str | None, str | None, bool,
]  # fmt: skip


def fast_record(line: FastLine) -> LogRecord:
    """The record the general parser gives for a line a fast path read (its JSON holds the
    attributes)."""
    return LogRecord(line=line[0], message=line[2], ts=line[1], level=line[11], logger=line[12],
                     attrs=orjson.loads(line[3]), ts_assumed=line[13])  # fmt: skip


@dataclass(slots=True)
class LogLines:
    """Log lines a parser's fast path has put in the store's shape, in file order, with the
    records of the lines it left to the general parser among them. The writer still redacts
    and mines every line."""

    items: list[FastLine | LogRecord]


@dataclass(slots=True)
class NoteRecord:
    """The case description: what the customer or the engineer wrote about the problem."""

    text: str


Record = (
    LogRecord
    | LogLines
    | ChangeRecord
    | RequestRecord
    | SpanRecord
    | PlanNodeRecord
    | ConfigRecord
    | K8sRecord
    | FlowRecord
    | NoteRecord
)
