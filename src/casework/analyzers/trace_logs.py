"""Log lines under the spans of the top failing traces (the trace ↔ log join on trace id).

For failing traces whose services logged with the trace id, the records are
placed under their spans (``traces.logjoin``), so the story of a failing
request reads top to bottom: which span logged what, and whether the span
where the error started said why. One finding covers the few traces shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding
from casework.levels import ERROR_LEVELS
from casework.traces import query, skew, tree
from casework.traces.logjoin import LogLine, logs_under_spans, traces_with_logs
from casework.traces.origin import origin

MAX_CANDIDATES = 5000
MAX_TRACES = 3
MAX_LINES_PER_TRACE = 8


@dataclass(frozen=True, slots=True)
class _Joined:
    trace: tree.Trace
    origin: tree.Span
    lines: list[LogLine]

    @property
    def errors(self) -> list[LogLine]:
        return [ln for ln in self.lines if (ln.level or "").lower() in ERROR_LEVELS]

    @property
    def at_origin(self) -> list[LogLine]:
        return [ln for ln in self.lines if ln.span is self.origin]


@analyzer(key="trace_logs", needs=("spans", "events"))
def trace_logs(case: Case) -> Iterator[Finding]:
    """Log lines of the top failing traces, each under the span that wrote it."""
    failing = [
        str(t)
        for (t,) in case.rows(
            f"SELECT DISTINCT trace_id FROM spans WHERE error AND {query.ROOTS}"
            " ORDER BY trace_id LIMIT ?",
            (MAX_CANDIDATES,),
        )
    ]
    counts = traces_with_logs(case, failing)
    chosen = sorted(counts, key=lambda t: (-counts[t], t))[:MAX_TRACES]
    by_lower = {t.lower(): t for t in failing}
    joined: list[_Joined] = []
    for trace_id in chosen:
        for trace in tree.load(case, "trace_id = ?", (by_lower.get(trace_id, trace_id),)):
            skew.correct(trace)
            lines = logs_under_spans(case, trace)
            if lines:
                chain = origin(trace) or [trace.root]
                joined.append(_Joined(trace, chain[-1], lines))
    if joined:
        yield _finding(case, joined, len(counts))


def _finding(case: Case, joined: list[_Joined], with_logs: int) -> Finding:
    lines = sum(len(j.lines) for j in joined)
    errors = sum(len(j.errors) for j in joined)
    at_origin = sum(len(j.at_origin) for j in joined)
    first = joined[0]
    said = (first.at_origin or first.errors or first.lines)[0]
    title = (
        f"Logs under failing traces: {lines} lines from {len(joined)} of {with_logs} failing traces "
        f"with logs; {at_origin} written under the error-origin span, e.g. "
        f"{said.span.service} `{said.span.name}`: {said.message[:80]}"
    )
    summary = (
        f"{with_logs} failing traces have log records carrying their trace id. For the "
        f"{len(joined)} with the most, {lines} records ({errors} at error level) were placed "
        f"under the spans that wrote them; {at_origin} sit under the span where the error "
        "started. Read them in the evidence in time order, each prefixed by trace and span."
    )
    evidence = tuple(
        Evidence(
            file=ln.file,
            lines=(ln.line, ln.end_line),
            excerpt=(
                f"[{j.trace.trace_id[:16]} {ln.span.service} {ln.span.name}] "
                f"{ln.level or '-'} {ln.message[:300]}"
            ),
        )
        for j in joined
        for ln in _shown(j)
    )
    return Finding(
        key="TRACE_LOGS",
        analyzer="trace_logs",
        subject="failing-traces",
        severity="low",
        score=0.3 if at_origin else 0.2,
        title=title,
        summary=summary,
        window=case.window,
        entities={
            "trace_id": first.trace.trace_id,
            "endpoint": f"{first.trace.root.service} {first.trace.root.name}",
            "origin_service": first.origin.service,
            "origin_operation": first.origin.name,
        },
        stats={
            "traces_with_logs": with_logs,
            "traces_shown": len(joined),
            "log_lines": lines,
            "error_lines": errors,
            "lines_at_origin": at_origin,
        },
        evidence=evidence,
        next_steps=("Read the origin span's log lines first; they say why the error started.",),
    )


def _shown(j: _Joined) -> list[LogLine]:
    """The origin's lines, then error lines, then the rest, in time order within each."""
    picked = j.at_origin + [ln for ln in j.errors if ln not in j.at_origin]
    picked += [ln for ln in j.lines if ln not in picked]
    return picked[:MAX_LINES_PER_TRACE]
