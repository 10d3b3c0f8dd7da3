"""Traces as trees in memory, loaded from the ``spans`` table in trace order and in batches.

Times are float microseconds since the epoch so the algorithms stay cheap.
A span whose parent is missing (not exported, or dropped) becomes a root;
``Trace.root`` is the root that covers the most time, which is the request
the trace is about. Duplicate span ids keep their first row; a parent loop
in bad data is cut so every algorithm terminates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from casework.case import Case

#: Rows fetched from DuckDB at a time: bounds memory on very large cases.
BATCH_ROWS = 100_000

SPAN_COLUMNS = (
    "trace_id, span_id, parent_id, service, name, kind, epoch_us(start), duration_ms, error,"
    " coalesce(json_extract_string(attrs, '$.\"ref.type\"') = 'FOLLOWS_FROM', false)"
)


@dataclass(slots=True, eq=False)
class Span:
    """One span in a trace tree; ``start``/``end`` in microseconds and mutable for skew correction."""

    span_id: str
    parent_id: str | None
    service: str
    name: str
    kind: str
    start: float
    end: float
    error: bool
    follows_from: bool = False
    parent: Span | None = None
    children: list[Span] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class Trace:
    trace_id: str
    spans: dict[str, Span]
    roots: list[Span]

    @property
    def root(self) -> Span:
        return max(self.roots, key=lambda s: (s.duration, -s.start))

    @property
    def duration(self) -> float:
        return self.root.duration


def build(trace_id: str, spans: Sequence[Span]) -> Trace:
    """Link spans into a tree (see module docstring for missing parents and loops)."""
    by_id: dict[str, Span] = {}
    for s in spans:
        by_id.setdefault(s.span_id, s)
    roots: list[Span] = []
    for s in by_id.values():
        parent = by_id.get(s.parent_id) if s.parent_id else None
        if parent is None or parent is s:
            roots.append(s)
        else:
            s.parent = parent
            parent.children.append(s)
    if sum(1 for _ in _walk(roots)) < len(by_id):
        _cut_loops(by_id, roots)
    for s in by_id.values():
        if len(s.children) > 1:
            s.children.sort(key=lambda c: c.start)
    return Trace(trace_id, by_id, roots)


def _walk(roots: list[Span]) -> Iterator[Span]:
    stack = list(roots)
    while stack:
        s = stack.pop()
        yield s
        stack.extend(s.children)


def _cut_loops(by_id: dict[str, Span], roots: list[Span]) -> None:
    seen = {id(s) for s in _walk(roots)}
    for s in by_id.values():
        if id(s) in seen:
            continue
        if s.parent is not None:
            s.parent.children.remove(s)
            s.parent = None
        roots.append(s)
        seen.update(id(x) for x in _walk([s]))


def walk(trace: Trace) -> Iterator[Span]:
    """Every span reachable from the roots, parents before children."""
    return _walk(trace.roots)


def load(case: Case, where: str = "", params: Sequence[Any] = ()) -> Iterator[Trace]:
    """Traces from the ``spans`` table; ``where`` is an SQL condition on ``spans`` columns.

    Spans without timing cannot be placed in a tree and are left out.
    """
    condition = "start IS NOT NULL AND duration_ms IS NOT NULL"
    if where:
        condition += f" AND ({where})"
    # A cursor of its own: an open Arrow reader blocks its connection, and analyzers
    # query the case while they walk the traces.
    cursor = case.con.cursor()
    try:
        reader = cursor.sql(
            f"SELECT {SPAN_COLUMNS} FROM spans WHERE {condition} ORDER BY trace_id",
            params=list(params),
        ).to_arrow_reader(BATCH_ROWS)
        yield from _traces(reader)
    finally:
        cursor.close()


def _traces(reader: Any) -> Iterator[Trace]:
    current: str | None = None
    bucket: list[Span] = []
    for batch in reader:
        cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for tid, sid, pid, svc, name, kind, start, dur, err, ff in zip(*cols, strict=True):
            if tid != current:
                if bucket and current is not None:
                    yield build(current, bucket)
                current, bucket = tid, []
            begin = float(start)
            end = begin + max(float(dur), 0.0) * 1000.0
            bucket.append(
                Span(
                    sid,
                    pid,
                    svc or "?",
                    name or "",
                    kind or "INTERNAL",
                    begin,
                    end,
                    bool(err),
                    bool(ff),
                )
            )
    if bucket and current is not None:
        yield build(current, bucket)
