"""Clock skew between services: shift a server span back inside its client, as Zipkin's UI does.

Each host has its own clock, so a server span can appear to start before the
client called it. Only cross-service calls are checked (inside one service
the clock is shared, and a child outside its parent is async work). When a
child starts before its parent, or ends after it while being shorter, it is
moved to sit centred in the parent: the network latency is taken as half the
difference of the two durations (Zipkin's assumption). A child longer than
its parent goes one microsecond after the parent's start. The shift applies to
every descendant on the same service, whose times come from the same clock;
each further service hop is checked on its own. Messaging and FOLLOWS_FROM
edges are asynchronous by design and never adjusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.traces.tree import Span, Trace

_ASYNC_KINDS = frozenset({"PRODUCER", "CONSUMER"})


@dataclass(frozen=True, slots=True)
class SkewFix:
    """One adjusted call: the child's service clock was moved by ``offset_us``."""

    parent_service: str
    child_service: str
    span_id: str
    offset_us: float


def correct(trace: Trace) -> list[SkewFix]:
    """Adjust ``trace`` in place and say which spans moved and by how much."""
    fixes: list[SkewFix] = []
    stack: list[tuple[Span, float]] = [(r, 0.0) for r in trace.roots]
    while stack:
        span, delta = stack.pop()
        for child in span.children:
            if child.service == span.service:
                _shift(child, delta)
                stack.append((child, delta))
                continue
            offset = _offset(span, child)
            if offset:
                _shift(child, offset)
                fixes.append(SkewFix(span.service, child.service, child.span_id, offset))
            stack.append((child, offset))
    return fixes


def _offset(parent: Span, child: Span) -> float:
    if child.follows_from or child.kind in _ASYNC_KINDS or parent.kind in _ASYNC_KINDS:
        return 0.0
    starts_early = child.start < parent.start
    ends_late = child.end > parent.end and child.duration <= parent.duration
    if not (starts_early or ends_late):
        return 0.0
    if child.duration <= parent.duration:
        latency = (parent.duration - child.duration) / 2
        return parent.start + latency - child.start
    return parent.start + 1.0 - child.start


def _shift(span: Span, offset: float) -> None:
    if offset:
        span.start += offset
        span.end += offset
