"""Log lines under the spans of the top failing traces (the trace ↔ log join on trace id).

For failing traces whose services logged with the trace id, the records are
placed under their spans (``traces.logjoin``), so the story of one failing
request reads top to bottom: which span logged what, and where the first
error line was written.
"""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding
from casework.traces import query, skew, tree
from casework.traces.logjoin import LogLine, logs_under_spans, traces_with_logs
from casework.traces.origin import origin

MAX_CANDIDATES = 5000
MAX_TRACES = 3
MAX_LINES = 15
ERROR_LEVELS = frozenset(
    {"error", "err", "fatal", "critical", "crit", "severe", "panic", "alert", "emerg"}
)


@analyzer(key="trace_logs", needs=("spans", "events"))
def trace_logs(case: Case) -> Iterator[Finding]:
    """Log lines of the top failing traces, each under the span that wrote it."""
    failing = [
        str(t)
        for (t,) in case.rows(
            f"SELECT DISTINCT trace_id FROM spans WHERE error AND {query.ROOTS} ORDER BY trace_id LIMIT ?",
            (MAX_CANDIDATES,),
        )
    ]
    counts = traces_with_logs(case, failing)
    chosen = sorted(counts, key=lambda t: (-counts[t], t))[:MAX_TRACES]
    by_lower = {t.lower(): t for t in failing}
    for trace_id in chosen:
        for trace in tree.load(case, "trace_id = ?", (by_lower.get(trace_id, trace_id),)):
            skew.correct(trace)
            lines = logs_under_spans(case, trace)
            if lines:
                yield _finding(case, trace, lines)


def _finding(case: Case, trace: tree.Trace, lines: list[LogLine]) -> Finding:
    root = trace.root
    chain = origin(trace) or [root]
    errors = [ln for ln in lines if (ln.level or "").lower() in ERROR_LEVELS]
    first = errors[0] if errors else lines[0]
    spans = {id(ln.span) for ln in lines}
    at_origin = sum(1 for ln in lines if ln.span is chain[-1])
    title = (
        f"Failing trace {trace.trace_id[:16]} ({root.service} `{root.name}`, {root.duration / 1000:.0f} ms): "
        f"{len(lines)} log lines under {len(spans)} spans; first {'error ' if errors else ''}line in "
        f"{first.span.service} `{first.span.name}`: {first.message[:80]}"
    )
    summary = (
        f"{len(lines)} log records carry this trace's id ({len(errors)} at error level); "
        f"{at_origin} of them were written under the error-origin span {chain[-1].service} "
        f"`{chain[-1].name}`. Read them in the evidence in time order, each prefixed by its span."
    )
    evidence = tuple(
        Evidence(
            file=ln.file,
            lines=(ln.line, ln.end_line),
            excerpt=f"[{ln.span.service} {ln.span.name}] {ln.level or '-'} {ln.message[:300]}",
        )
        for ln in (errors + [x for x in lines if x not in errors])[:MAX_LINES]
    )
    return Finding(
        key="TRACE_LOGS",
        analyzer="trace_logs",
        subject=trace.trace_id,
        severity="low",
        score=0.3 if errors else 0.2,
        title=title,
        summary=summary,
        window=case.window,
        entities={
            "trace_id": trace.trace_id,
            "endpoint": f"{root.service} {root.name}",
            "origin_service": chain[-1].service,
            "origin_operation": chain[-1].name,
        },
        stats={
            "log_lines": len(lines),
            "error_lines": len(errors),
            "spans_with_logs": len(spans),
            "lines_at_origin": at_origin,
        },
        evidence=evidence,
        next_steps=("Read the origin span's log lines first; they say why the error started.",),
    )
