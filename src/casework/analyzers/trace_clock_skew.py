"""Clock skew between services seen in traces, and how much it was corrected.

A server span that starts before its client called it means the two hosts'
clocks disagree. Timings of such services are shifted before the other trace
analyzers use them (``traces.skew``); this analyzer says which clocks were
off and by how much, so nobody reads a skewed waterfall as a real delay.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from statistics import median

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding
from casework.traces import query, skew, tree

MAX_TRACES = 20_000
MAX_FINDINGS = 5
#: Shifts below a millisecond are timestamp rounding and scheduling, not clocks.
MIN_SHIFT_US = 1000.0


@analyzer(key="trace_clock_skew", needs=("spans",))
def trace_clock_skew(case: Case) -> Iterator[Finding]:
    """Clock skew between calling and called services, corrected as Zipkin does."""
    offsets: dict[tuple[str, str], list[float]] = defaultdict(list)
    calls: Counter[tuple[str, str]] = Counter()
    sample: dict[tuple[str, str], tuple[str, str]] = {}
    for trace in tree.load(case, query.sample_clause(MAX_TRACES)):
        for span in tree.walk(trace):
            if span.parent is not None and span.parent.service != span.service:
                calls[(span.parent.service, span.service)] += 1
        for fix in skew.correct(trace):
            pair = (fix.parent_service, fix.child_service)
            offsets[pair].append(fix.offset_us)
            sample.setdefault(pair, (trace.trace_id, fix.span_id))
    # The clearest skew first: most of a pair's calls corrected, by the largest shift.
    ranked = sorted(
        (p for p in offsets if abs(median(offsets[p])) >= MIN_SHIFT_US),
        key=lambda p: (-len(offsets[p]) / max(calls[p], 1), -abs(median(offsets[p])), p),
    )
    for pair in ranked[:MAX_FINDINGS]:
        yield _finding(case, pair, offsets[pair], calls[pair], sample[pair])


def _finding(
    case: Case, pair: tuple[str, str], offsets: list[float], calls: int, sample: tuple[str, str]
) -> Finding:
    shift_ms = median(offsets) / 1000
    direction = "behind" if shift_ms > 0 else "ahead of"
    fixed = len(offsets)
    calls = max(calls, fixed)
    title = (
        f"Clock skew: {pair[1]}'s clock runs ~{abs(shift_ms):.1f} ms {direction} {pair[0]}'s "
        f"({fixed} of {calls} calls corrected)"
    )
    summary = (
        f"In {fixed} of {calls} calls from {pair[0]} to {pair[1]}, the server span starts before "
        f"or ends after its client span, which only clock disagreement explains. Its times were "
        f"shifted by a median {shift_ms:+.1f} ms (Zipkin's rule: centre the server in the client) "
        "before critical-path and latency analysis. Check NTP/chrony on the hosts of "
        f"{pair[1]} if the shift is large or growing."
    )
    return Finding(
        key="TRACE_CLOCK_SKEW",
        analyzer="trace_clock_skew",
        subject=f"{pair[0]}\x00{pair[1]}",
        severity="low",
        score=0.2 + 0.1 * min(1.0, fixed / max(calls, 1)),
        title=title,
        summary=summary,
        window=case.window,
        entities={"caller": pair[0], "service": pair[1]},
        stats={
            "calls": calls,
            "corrected": fixed,
            "median_shift_ms": shift_ms,
            "max_shift_ms": max(offsets, key=abs) / 1000,
        },
        evidence=(
            Evidence(
                file=query.file_of(case, sample[0]),
                refs=(f"trace {sample[0]}", f"span {sample[1]}"),
                kind="spans",
                excerpt=f"{pair[1]} span {sample[1]} lies outside its {pair[0]} client span",
            ),
        ),
        next_steps=(f"Compare the clocks of {pair[0]} and {pair[1]} hosts (chronyc tracking).",),
    )
