"""Critical path of a trace (the Jaeger UI's algorithm) and the self time of spans.

Jaeger first clips every child to its parent (a child starting after its
parent ended is dropped with its subtree; one sticking out is trimmed) and
ignores FOLLOWS_FROM children. Then it walks back from the end of the root:
the last child to finish before the current point is on the path; inside it
the same rule repeats; when a span has no child finishing before the point,
the span itself is on the path from its start, and the walk resumes in its
parent at that start. The result is a list of sections whose lengths add up
to the root's duration minus idle gaps nobody waited for.
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.traces.tree import Span, Trace


@dataclass(frozen=True, slots=True)
class Section:
    """Part of a span's time that is on the critical path, in microseconds."""

    span: Span
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def clipped(root: Span) -> dict[Span, tuple[float, float]]:
    """Each span reachable by CHILD_OF links, with its times clipped to its (clipped) parent."""
    bounds = {root: (root.start, root.end)}
    stack = [root]
    while stack:
        span = stack.pop()
        lo, hi = bounds[span]
        for child in span.children:
            if child.follows_from or child.start >= hi or child.end <= lo:
                continue
            bounds[child] = (max(child.start, lo), min(child.end, hi))
            stack.append(child)
    return bounds


def critical_path(trace: Trace) -> list[Section]:
    """The critical path of the trace's root, latest section first."""
    root = trace.root
    bounds = clipped(root)
    kids = {
        span: sorted(
            (c for c in span.children if c in bounds), key=lambda c: bounds[c][1], reverse=True
        )
        for span in bounds
    }
    path: list[Section] = []
    span = root
    spawn: float | None = None
    while True:
        start, end = bounds[span]
        section_end = end if spawn is None else spawn
        last = next((c for c in kids[span] if spawn is None or bounds[c][1] < spawn), None)
        if last is not None:
            if bounds[last][1] != section_end:
                path.append(Section(span, bounds[last][1], section_end))
            span, spawn = last, None
            continue
        if start != section_end:
            path.append(Section(span, start, section_end))
        if span is root or span.parent is None:
            return path
        span, spawn = span.parent, start


def self_time(span: Span) -> float:
    """The span's duration not covered by any of its children (overlaps counted once)."""
    covered = 0.0
    cursor = span.start
    for child in span.children:  # sorted by start
        lo = max(child.start, cursor)
        hi = min(child.end, span.end)
        if hi > lo:
            covered += hi - lo
            cursor = hi
    return max(span.duration - covered, 0.0)
