"""Where the time of each endpoint's requests goes: critical-path time per service and operation.

Each sampled trace is corrected for clock skew, then its critical path is
computed with the Jaeger UI's algorithm; the time each (service, operation)
spends on it is summed per endpoint. Only the critical path counts: a slow
branch that ran in parallel with a slower one did not make anyone wait.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from statistics import median

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity
from casework.traces import query, skew, tree
from casework.traces.critical_path import critical_path

MAX_TRACES = 20_000
MIN_TRACES = 3
MAX_FINDINGS = 5
DOMINANT_SHARE = 0.5


@analyzer(key="trace_critical_path", needs=("spans",))
def trace_critical_path(case: Case) -> Iterator[Finding]:
    """Critical-path time per service/operation for each busy endpoint."""
    on_path: dict[tuple[str, str], dict[tuple[str, str], float]] = defaultdict(
        lambda: defaultdict(float)
    )
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    example: dict[tuple[tuple[str, str], tuple[str, str]], str] = {}
    for trace in tree.load(case, query.sample_clause(MAX_TRACES)):
        skew.correct(trace)
        endpoint = (trace.root.service, trace.root.name)
        durations[endpoint].append(trace.duration)
        for section in critical_path(trace):
            op = (section.span.service, section.span.name)
            on_path[endpoint][op] += section.length
            example.setdefault((endpoint, op), trace.trace_id)
    busiest = sorted(durations, key=lambda e: (-len(durations[e]), e))
    for endpoint in busiest[:MAX_FINDINGS]:
        if len(durations[endpoint]) >= MIN_TRACES and on_path[endpoint]:
            yield _finding(case, endpoint, on_path[endpoint], durations[endpoint], example)


def _finding(
    case: Case,
    endpoint: tuple[str, str],
    ops: dict[tuple[str, str], float],
    durations: list[float],
    example: dict[tuple[tuple[str, str], tuple[str, str]], str],
) -> Finding:
    total = sum(ops.values())
    traces = len(durations)
    ranked_ops = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))
    (service, op), top = ranked_ops[0]
    share = top / total if total else 0.0
    per_trace_ms = top / traces / 1000
    p50 = median(durations) / 1000
    mean = sum(durations) / traces / 1000
    ranked = "; ".join(
        f"{s} `{o}` {v / total:.0%} ({v / traces / 1000:.1f} ms/trace)"
        for (s, o), v in ranked_ops[:4]
    )
    title = (
        f"On `{endpoint[1]}` ({traces} traces, median {p50:.1f} ms, mean {mean:.1f} ms), {share:.0%} "
        f"of critical-path time is {service} `{op}` (mean {per_trace_ms:.1f} ms per trace)"
    )
    summary = (
        f"Critical path of {traces} `{endpoint[0]} {endpoint[1]}` traces (Jaeger's algorithm, after "
        f"clock-skew correction): {ranked}. Work off the critical path ran in parallel with something "
        f"slower and does not explain latency; speeding up {service} `{op}` would."
    )
    dominant = share >= DOMINANT_SHARE and (service, op) != endpoint
    severity: Severity = "low" if dominant else "info"
    trace_id = example[(endpoint, (service, op))]
    return Finding(
        key="TRACE_CRITICAL_PATH",
        analyzer="trace_critical_path",
        subject=f"{endpoint[0]}\x00{endpoint[1]}",
        severity=severity,
        score=(0.35 if dominant else 0.15) * (0.5 + 0.5 * share),
        title=title,
        summary=summary,
        window=case.window,
        entities={"endpoint": f"{endpoint[0]} {endpoint[1]}", "service": service, "operation": op},
        stats={
            "traces": traces,
            "p50_ms": p50,
            "mean_ms": mean,
            "share": share,
            "critical_ms_per_trace": per_trace_ms,
            "operations_on_path": len(ops),
        },
        evidence=(
            Evidence(
                file=query.file_of(case, trace_id),
                refs=(f"trace {trace_id}",),
                kind="spans",
                excerpt=f"{service} {op} on the critical path of trace {trace_id}",
            ),
        ),
        next_steps=(f"Profile {service} `{op}`: it is what requests of this endpoint wait for.",),
    )
