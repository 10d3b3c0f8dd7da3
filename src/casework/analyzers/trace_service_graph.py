"""The service graph from traces: call counts, error rates and latency per caller → callee edge.

One info finding draws the graph (busiest edges); each edge whose calls fail
often enough gets its own finding, naming caller, callee and the numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.traces.graph import Edge, service_graph

MIN_ERRORS = 5
MIN_ERROR_RATE = 0.05
MAX_EDGE_FINDINGS = 5
SHOWN_EDGES = 12


@analyzer(key="trace_service_graph", needs=("spans",))
def trace_service_graph(case: Case) -> Iterator[Finding]:
    """Caller → callee edges with call counts, error rates and latency."""
    edges = service_graph(case)
    if not edges:
        return
    yield _overview(case, edges)
    failing = [e for e in edges if e.errors >= MIN_ERRORS and e.error_rate >= MIN_ERROR_RATE]
    failing.sort(key=lambda e: (-e.errors, e.caller, e.callee))
    for edge in failing[:MAX_EDGE_FINDINGS]:
        yield _edge_finding(case, edge)


def _overview(case: Case, edges: list[Edge]) -> Finding:
    services = {e.caller for e in edges} | {e.callee for e in edges}
    top = edges[0]
    listing = "; ".join(
        f"{e.caller} → {e.callee}: {e.calls} calls, {e.error_rate:.1%} errors, p95 {_ms(e.p95_ms)}"
        for e in edges[:SHOWN_EDGES]
    )
    return Finding(
        key="TRACE_SERVICE_GRAPH",
        analyzer="trace_service_graph",
        subject="graph",
        severity="info",
        score=0.05,
        title=(
            f"Service graph: {len(services)} services, {len(edges)} call edges; busiest "
            f"{top.caller} → {top.callee} ({top.calls} calls)"
        ),
        summary=f"Edges from parent/child spans across services and leaf client calls: {listing}.",
        window=case.window,
        entities={"busiest_caller": top.caller, "busiest_callee": top.callee},
        stats={
            "services": len(services),
            "edges": len(edges),
            "calls": sum(e.calls for e in edges),
            "errors": sum(e.errors for e in edges),
        },
    )


def _edge_finding(case: Case, edge: Edge) -> Finding:
    severity: Severity = "high" if edge.error_rate >= 0.25 else "medium"
    return Finding(
        key="TRACE_EDGE_ERRORS",
        analyzer="trace_service_graph",
        subject=f"{edge.caller}\x00{edge.callee}",
        severity=severity,
        score=min(0.85, 0.35 + edge.error_rate) * (0.6 + 0.4 * min(1.0, edge.errors / 20)),
        title=(
            f"{edge.caller} → {edge.callee}: {edge.errors} of {edge.calls} calls fail "
            f"({edge.error_rate:.1%}), p95 {_ms(edge.p95_ms)}"
        ),
        summary=(
            f"Calls from {edge.caller} to {edge.callee} fail at {edge.error_rate:.1%} "
            f"({edge.errors} of {edge.calls}); median {_ms(edge.p50_ms)}, p95 {_ms(edge.p95_ms)}. "
            "The error-origin finding says whether these errors start at the callee or below it."
        ),
        window=case.window,
        entities={"caller": edge.caller, "callee": edge.callee},
        stats={
            "calls": edge.calls,
            "errors": edge.errors,
            "error_rate": edge.error_rate,
            "p50_ms": edge.p50_ms,
            "p95_ms": edge.p95_ms,
        },
        next_steps=(f"Look at {edge.callee}'s errors and saturation for the window.",),
    )


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} ms"
