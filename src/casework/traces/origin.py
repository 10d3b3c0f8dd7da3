"""Error origin: the span where a failing request's error started.

Starting at a failing root, follow the failed children down: at each step
take the failed child that finished first (the error that came back first is
the one the parent reacted to) until a failed span has no failed child. That
span is the origin; the chain above it only passed the error on. A client span
not marked failed whose call failed on the server's side passes the error on
too (instrumentations differ in whether they mark the caller's side).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from casework.traces.tree import Span, Trace

_NUMBERS = re.compile(r"(?:0x)?[0-9a-f]*\d[0-9a-f]*", re.IGNORECASE)
_QUOTED = re.compile(r"(['\"]).*?\1")
_TIMEOUT = re.compile(r"time[ds]?[ _-]?out|deadline exceeded|timed out", re.IGNORECASE)
MAX_REASON = 80


def origin(trace: Trace) -> list[Span] | None:
    """The chain from the failing root down to the origin (origin last); None if the root did not fail."""
    span = trace.root
    if not span.error:
        return None
    chain = [span]
    while True:
        failed = _failed_below(span)
        if not failed:
            return chain
        path = min(failed, key=lambda p: (p[-1].end, p[-1].start))
        chain.extend(path)
        span = path[-1]


def _failed_below(span: Span) -> list[list[Span]]:
    """The failed children, each as a path from ``span``'s child: through a client span that
    is not marked failed to its failed server side."""
    out: list[list[Span]] = []
    for child in span.children:
        if child.error:
            out.append([child])
        elif child.kind == "CLIENT":
            out.extend([child, *p] for p in _failed_below(child) if p[-1].kind == "SERVER")
    return out


def reason(attrs: Mapping[str, Any]) -> str:
    """A short, value-free label of why a span failed (exception type, status, message shape)."""
    message = str(attrs.get("otel.status_description") or attrs.get("exception.message") or "")
    code = attrs.get("http.response.status_code")
    grpc = attrs.get("rpc.grpc.status_code")
    status = ""
    if isinstance(code, int) and code >= 400:
        status = f"HTTP {code}"
    elif isinstance(grpc, int) and grpc > 0:
        status = f"gRPC status {grpc}"
    label = next((str(attrs[k]) for k in ("exception.type", "error.type") if attrs.get(k)), "")
    if label and status:
        label = f"{label} ({status})"
    elif not label:
        label = status or (shape(message) if message else "")
    if _TIMEOUT.search(message) and "timeout" not in label.lower():
        label = f"{label} (timeout)" if label else "timeout"
    return label or "error"


def shape(message: str) -> str:
    """A message with quoted values and numbers masked, so equal failures read the same."""
    text = _QUOTED.sub("<v>", message)
    text = _NUMBERS.sub("<n>", text)
    text = " ".join(text.split())
    return text[:MAX_REASON]
