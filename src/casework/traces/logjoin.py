"""Trace ↔ log join: the log lines a trace's services wrote, placed under their spans.

A log record belongs to a trace when its attributes carry the trace id
(``trace_id``, ``traceId``, ``trace.id`` and kin, any case). It goes under
the span its span id names; without one, under the deepest span of the same
service whose time range holds the record's timestamp; failing that, under
the root.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.case import Case
from casework.traces.tree import Span, Trace

_ID_KEYS = ("trace_id", "traceId", "trace.id", "traceid", "otel.trace_id", "TraceId", "trace")
_SPAN_KEYS = ("span_id", "spanId", "span.id", "spanid", "otel.span_id", "SpanId")


def _coalesce(keys: tuple[str, ...]) -> str:
    parts = ", ".join(f"json_extract_string(attrs, '$.\"{k}\"')" for k in keys)
    return f"lower(coalesce({parts}))"


TRACE_ID_SQL = _coalesce(_ID_KEYS)
SPAN_ID_SQL = _coalesce(_SPAN_KEYS)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log record of a trace and the span it was placed under."""

    span: Span
    ts: datetime | None
    file: str
    line: int
    end_line: int
    level: str | None
    service: str | None
    message: str


def traces_with_logs(case: Case, trace_ids: list[str]) -> dict[str, int]:
    """How many log records carry each of ``trace_ids``."""
    rows = case.rows(
        f"SELECT {TRACE_ID_SQL} t, count(*) FROM events WHERE {TRACE_ID_SQL} IN "
        "(SELECT unnest(?::VARCHAR[])) GROUP BY t",
        ([t.lower() for t in trace_ids],),
    )
    return {str(t): int(n) for t, n in rows}


def logs_under_spans(case: Case, trace: Trace) -> list[LogLine]:
    """The log records of ``trace``, in time order, each under its span."""
    rows = case.rows(
        f"SELECT {SPAN_ID_SQL}, ts, epoch_us(ts), file, line, end_line, level, service, message"
        f" FROM events WHERE {TRACE_ID_SQL} = ? ORDER BY ts NULLS LAST, file, line",
        (trace.trace_id.lower(),),
    )
    return [
        LogLine(
            _place(trace, sid, us, svc), ts, str(f), int(line), int(end or line), lvl, svc, str(msg)
        )
        for sid, ts, us, f, line, end, lvl, svc, msg in rows
    ]


def _place(trace: Trace, span_id: str | None, at_us: int | None, service: str | None) -> Span:
    if span_id and span_id in trace.spans:
        return trace.spans[span_id]
    best: Span | None = None
    best_depth = -1
    if at_us is not None:
        for span in trace.spans.values():
            if service and span.service != service:
                continue
            if span.start <= at_us <= span.end:
                depth = _depth(span)
                if depth > best_depth:
                    best, best_depth = span, depth
    return best or trace.root


def _depth(span: Span) -> int:
    depth = 0
    while span.parent is not None:
        span = span.parent
        depth += 1
    return depth
