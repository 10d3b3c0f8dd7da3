"""AWS Lambda logs (a CloudWatch log stream as exported): START, END and REPORT lines around each
invocation's own lines.

The runtime writes ``START RequestId: <id> Version: <v>``, then the function's
lines (``<time>\\t<id>\\t<LEVEL>\\t<message>`` from the Node and Python
runtimes, or free text), ``Task timed out after 3.00 seconds`` when the
invocation hit its timeout, ``END RequestId: <id>`` and ``REPORT RequestId:
<id> Duration: … ms Billed Duration: … Max Memory Used: … MB``. START, END and
REPORT carry no time of their own: each gets the last time seen in the stream
(at most seconds off). REPORT's numbers become attributes in milliseconds and
MB; a timeout is an ERROR record.

>>> import io
>>> text = (b"START RequestId: 6f1c Version: $LATEST\\n"
...         b"2026-11-27T10:00:00.120Z\\t6f1c\\tINFO\\tprocessing order 42\\n"
...         b"2026-11-27T10:00:03.130Z 6f1c Task timed out after 3.00 seconds\\n"
...         b"END RequestId: 6f1c\\n"
...         b"REPORT RequestId: 6f1c\\tDuration: 3003.45 ms\\tBilled Duration: 3000 ms\\t"
...         b"Memory Size: 512 MB\\tMax Memory Used: 97 MB\\n")
>>> recs = list(parse(io.BytesIO(text), ParseContext("orders.log")))
>>> [(r.level, r.message[:22]) for r in recs[1:3]]
[('INFO', 'processing order 42'), ('ERROR', 'Task timed out after 3')]
>>> recs[4].attrs["lambda.duration_ms"], recs[4].attrs["lambda.max_memory_used_mb"], recs[4].ts.second
(3003.45, 97.0, 3)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, iter_lines
from casework.formats.fieldroles import level_name
from casework.formats.sniffing import text_lines
from casework.model import LogRecord
from casework.timeparse import parse_ts

_RUNTIME = re.compile(r"^(START|END|REPORT) RequestId: ([0-9a-fA-F-]{4,64})")
_STAMPED = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\s+([0-9a-fA-F-]{4,64})\s+(.*)$"
)
_LEVEL = re.compile(r"^(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\t(.*)$", re.DOTALL)
_TIMEOUT = re.compile(r"^Task timed out after [\d.]+ seconds")
_REPORT_FIELD = re.compile(r"(Init Duration|Billed Duration|Duration|Memory Size|Max Memory Used):"
                           r" ([\d.]+) (ms|MB)")  # fmt: skip


def sniff(head: bytes) -> float:
    """Runtime lines (START/END/REPORT RequestId) among the first lines of the stream."""
    lines = text_lines(head)[:200]
    runtime = sum(1 for line in lines if _RUNTIME.match(line))
    return 0.95 if lines and runtime >= 2 and runtime >= 0.1 * len(lines) else 0.0


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per line; runtime lines take the last time seen."""
    last: datetime | None = None
    assumed = False
    for number, text in iter_lines(stream, ctx):
        if not text.strip():
            continue
        attrs: dict[str, Any] = {}
        level: str | None = "INFO"
        message = text
        runtime = _RUNTIME.match(text)
        stamped = _STAMPED.match(text) if runtime is None else None
        if runtime is not None:
            attrs["lambda.request_id"] = runtime[2]
            if runtime[1] == "REPORT":
                for name, value, unit in _REPORT_FIELD.findall(text):
                    key = name.lower().replace(" ", "_")
                    attrs[f"lambda.{key}_{unit.lower()}"] = float(value)
        elif stamped is not None:
            parsed = parse_ts(stamped[1], ctx.tz, ctx.year)
            if parsed is not None:
                last, assumed = parsed
            attrs["lambda.request_id"] = stamped[2]
            message = stamped[3]
            leveled = _LEVEL.match(message)
            if leveled is not None:
                level, message = level_name(leveled[1]), leveled[2]
            elif _TIMEOUT.match(message):
                level = "ERROR"
        yield LogRecord(line=number, message=message, ts=last, level=level, attrs=attrs,
                        ts_assumed=assumed and last is not None)  # fmt: skip


FORMAT = Format(
    kind="lambda-log",
    category="log",
    sniff=sniff,
    parse=parse,
    description="AWS Lambda log stream (START/END/REPORT and the function's lines)",
)
