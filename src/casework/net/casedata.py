"""Reading HAR/pcap rows back from the case store for the network analyzers (never from files)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from casework.case import Case
from casework.findings import Evidence, Window


@dataclass(frozen=True, slots=True)
class Req:
    """A request row with its attributes decoded."""

    ts: datetime | None
    file: str
    line: int
    method: str
    host: str
    route: str
    url: str
    status: int | None
    duration_ms: float | None
    bytes: int | None
    attrs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow row with its attributes decoded."""

    file: str
    proto: str
    src: str
    sport: int
    dst: str
    dport: int
    start: datetime | None
    end: datetime | None
    packets: int
    bytes: int
    attrs: dict[str, Any]


def requests(case: Case, source: str = "har") -> list[Req]:
    """Requests that came from HAR (``source="har"``) or pcap files, in file order."""
    rows = case.rows(
        "SELECT ts, file, line, method, host, route, url, status, duration_ms, bytes, attrs"
        " FROM requests WHERE json_extract_string(attrs, '$.source') = ? ORDER BY file, line",
        (source,),
    )
    return [
        Req(r[0], r[1] or "?", r[2] or 0, (r[3] or "").upper(), r[4] or "", r[5] or "", r[6] or "",
            r[7], r[8], r[9], _attrs(r[10]))
        for r in rows
    ]  # fmt: skip


def flows(case: Case, where: str = "TRUE") -> list[Flow]:
    """Flow rows matching a SQL condition over the ``flows`` table."""
    rows = case.rows(
        'SELECT file, proto, src, sport, dst, dport, start, "end", packets, bytes, attrs'
        f" FROM flows WHERE {where} ORDER BY file, start"
    )
    return [
        Flow(r[0] or "?", r[1] or "", r[2] or "", r[3] or 0, r[4] or "", r[5] or 0, r[6], r[7],
             r[8] or 0, r[9] or 0, _attrs(r[10]))
        for r in rows
    ]  # fmt: skip


def entries(file: str, reqs: list[Req], excerpt: str = "") -> Evidence:
    """Evidence naming HAR entries by their 1-based index."""
    refs = tuple(str(r.line) for r in reqs[:20])
    return Evidence(file, refs=refs, kind="entries", excerpt=excerpt)


def frames(file: str, numbers: list[int], excerpt: str = "") -> Evidence:
    """Evidence naming capture frame numbers."""
    refs = tuple(str(n) for n in sorted(set(numbers))[:30])
    return Evidence(file, refs=refs, kind="frames", excerpt=excerpt)


#: Flows shown in an evidence excerpt (the evidence's refs name up to 30 frames).
EXCERPT_FLOWS = 5


def count_of(n: int, noun: str) -> str:
    """``1 connection``, ``3 connections``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def frame_list(numbers: list[int]) -> str:
    """``frame 3``, ``frames 3, 5``, or nothing when no frame is known."""
    if not numbers:
        return ""
    return ("frame " if len(numbers) == 1 else "frames ") + ", ".join(str(n) for n in numbers)


def flow_lines(pairs: list[tuple[Flow, str]]) -> str:
    """An excerpt of flows, one line each: when, who talked to whom, and what happened."""
    out = []
    for f, what in pairs[:EXCERPT_FLOWS]:
        when = f"{f.start:%Y-%m-%d %H:%M:%S.%f}"[:-3] if f.start else "?"
        out.append(f"{when} {f.proto} {f.src}:{f.sport} -> {f.dst}:{f.dport}  {what}")
    if len(pairs) > EXCERPT_FLOWS:
        out.append(f"... and {len(pairs) - EXCERPT_FLOWS} more")
    return "\n".join(out)


def window(times: list[datetime | None]) -> Window | None:
    known = [t for t in times if t is not None]
    return Window(min(known), max(known)) if known else None


def _attrs(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
