"""The one-pass prefilter: which few lines of a text could hold a secret, and which rules to run there.

All triggers are compiled into one Hyperscan database (a multi-pattern
automaton, hundreds of MB/s per core) when the ``hyperscan`` package is
available, otherwise into one alternation for Python's ``re``. Both report
(group, end offset) pairs; :func:`windows` turns them into line-aligned byte
ranges, each with the set of rule groups that fired in it, so the expensive
regexes run only on those lines and only the rules whose trigger was seen.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_hs: Any
try:  # which engine is present is a property of the machine
    import hyperscan as _hs
except ImportError:  # only where no hyperscan wheel exists for the platform
    _hs = None

#: Lines after a trigger that a window includes (JSON and YAML name/value
#: pairs, XML elements and HAR headers span a few lines).
LINES_AFTER = 2
#: How far a PEM block may extend past its BEGIN line.
PEM_SPAN = 1 << 16


@dataclass(slots=True)
class Window:
    """A line-aligned byte range and the rule groups triggered in it."""

    start: int
    end: int
    groups: set[int]


@dataclass(frozen=True, slots=True)
class Trigger:
    """A cheap pattern (bytes regex in the subset Hyperscan and ``re`` share) for one rule group."""

    group: int
    pattern: bytes
    caseless: bool = False
    #: a multi-line trigger (YAML name, then "value:") starts its window a line earlier
    spans_lines: bool = False
    extends_to_pem_end: bool = False


class Prefilter:
    """Finds trigger hits in a byte string; one instance per thread (Hyperscan scratch)."""

    def __init__(self, triggers: Sequence[Trigger], *, use_hyperscan: bool = True) -> None:
        self._triggers = tuple(triggers)
        self._hs_db: Any = None
        self._res: list[re.Pattern[bytes]] = []
        if use_hyperscan and _hs is not None:
            db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
            flags = [_hs.HS_FLAG_CASELESS if t.caseless else 0 for t in self._triggers]
            db.compile(
                expressions=[t.pattern for t in self._triggers],
                ids=list(range(len(self._triggers))),
                flags=flags,
            )
            self._hs_db = db
        else:
            # one scan per trigger: Python's re has no multi-pattern automaton, and
            # one big alternation is far slower than several literal-prefixed scans
            self._res = [
                re.compile(t.pattern, re.IGNORECASE if t.caseless else 0) for t in self._triggers
            ]

    @property
    def engine(self) -> str:
        """``"hyperscan"`` or ``"re"``."""
        return "hyperscan" if self._hs_db is not None else "re"

    def hits(self, data: bytes) -> list[tuple[int, int]]:
        """(trigger index, end offset) for every trigger match in ``data``."""
        found: list[tuple[int, int]] = []
        if self._hs_db is not None:
            self._hs_db.scan(data, match_event_handler=_on_match, context=found)
        else:
            for idx, rx in enumerate(self._res):
                found.extend((idx, m.end()) for m in rx.finditer(data))
        return found

    def with_hits(self, pieces: Sequence[bytes]) -> set[int]:
        """Indices of the pieces in which a trigger matches, each piece judged as if scanned alone.

        Hyperscan scans the pieces joined by newlines in one call (its per-call cost
        is most of a short piece's scan) and reports every match's end, so a match
        inside a piece is never lost; a match across a newline counts for the piece
        it ends in, which can only add a piece. Python's ``re`` finds non-overlapping
        matches, so there each piece is scanned on its own.
        """
        if self._hs_db is None:
            return {i for i, piece in enumerate(pieces) if self.hits(piece)}
        starts: list[int] = []
        at = 0
        for piece in pieces:
            starts.append(at)
            at += len(piece) + 1
        return {
            bisect_right(starts, max(end - 1, 0)) - 1 for _, end in self.hits(b"\n".join(pieces))
        }

    def windows(self, data: bytes) -> list[Window]:
        """Merged line-aligned byte ranges worth a closer look, with their rule groups."""
        hits = self.hits(data)
        if not hits:
            return []
        raw: list[tuple[int, int, int]] = []
        n = len(data)
        line_lo = line_hi = -1
        start = stop = 0
        hits.sort(key=lambda h: h[1])
        for idx, end in hits:
            trig = self._triggers[idx]
            pos = max(end - 1, 0)
            if line_lo <= pos < line_hi and not trig.extends_to_pem_end:
                # same line as the previous hit: same window (most hits share a line)
                raw.append((start, stop, trig.group))
                continue
            start = data.rfind(b"\n", 0, pos) + 1
            line_lo = start
            line_hi = data.find(b"\n", pos)
            line_hi = n if line_hi < 0 else line_hi
            if trig.spans_lines and start > 0:
                start = data.rfind(b"\n", 0, start - 1) + 1
            stop = pos
            if trig.extends_to_pem_end:
                marker = data.find(b"-----END", pos, pos + PEM_SPAN)
                stop = marker + 8 if marker >= 0 else min(n, pos + PEM_SPAN)
                line_lo = line_hi = -1
            for _ in range(LINES_AFTER + 1):
                nl = data.find(b"\n", stop)
                if nl < 0:
                    stop = n
                    break
                stop = nl + 1
            raw.append((start, stop, trig.group))
        raw.sort()
        merged: list[Window] = []
        cur = Window(raw[0][0], raw[0][1], set())
        for s_, e, g in raw:
            if s_ > cur.end:
                merged.append(cur)
                cur = Window(s_, e, set())
            cur.end = max(cur.end, e)
            cur.groups.add(g)
        merged.append(cur)
        return merged


def _on_match(idx: int, _start: int, end: int, _flags: int, found: list[tuple[int, int]]) -> None:
    found.append((idx, end))


_local = threading.local()


def prefilter_for(key: tuple[Trigger, ...], use_hyperscan: bool = True) -> Prefilter:
    """A compiled prefilter for these triggers, cached per thread (compiling costs ~0.1 s)."""
    cache: dict[tuple[tuple[Trigger, ...], bool], Prefilter] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = {}
        _local.cache = cache
    pf = cache.get((key, use_hyperscan))
    if pf is None:
        pf = Prefilter(key, use_hyperscan=use_hyperscan)
        cache[(key, use_hyperscan)] = pf
    return pf
