"""Candidate replacements and how overlapping ones are resolved."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

#: (start, end, priority, make the replacement): made only when the span wins
Span = tuple[int, int, int, Callable[[], str]]


def span(m: re.Match[str], grp: int | str, prio: int, make: Callable[[], str]) -> Span:
    """The span of group ``grp`` of a match."""
    return (m.start(grp), m.end(grp), prio, make)


def apply(w: str, spans: list[Span]) -> str:
    """Replace the winning spans: higher priority first, then longer, then earlier."""
    if not spans:
        return w
    spans.sort(key=lambda s: (-s[2], s[0] - s[1], s[0]))
    starts: list[int] = []  # accepted spans, sorted by start (they never overlap)
    taken: list[Span] = []
    for sp in spans:
        start, end = sp[0], sp[1]
        if start >= end:
            continue
        i = bisect.bisect_right(starts, start)
        if (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end):
            continue
        starts.insert(i, start)
        taken.insert(i, sp)
    out: list[str] = []
    pos = 0
    for start, end, _prio, make in taken:
        out.append(w[pos:start])
        out.append(make())
        pos = end
    out.append(w[pos:])
    return "".join(out)
