"""Facts derived from log records: HTTP requests inside log lines, and changes ("Starting X version Y")."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from casework.model import ChangeRecord
from casework.routes import route_template

_VERSION_START = re.compile(
    r"\b(?:starting|started|booting|launching|running)\s+(?P<what>[A-Za-z][\w.\-/]*)"
    r"(?:\s+(?:version|release|build|v(?=\d)))\s*[:=]?\s*(?P<version>v?\d+(?:\.\d+)+[\w.\-+]*)",
    re.IGNORECASE,
)


def request_row(
    attrs: dict[str, Any], ts: datetime | None, file: str, line: int, attrs_json: str | None
) -> tuple[Any, ...] | None:
    """A ``requests`` row when a log record carries a status code (canonical ``http.*`` keys).

    ``attrs`` are already redacted; the row goes straight to the store (one per
    HTTP log line, so no intermediate record is built).
    """
    get = attrs.get
    status = get("http.status")
    if status is None:
        return None
    if type(status) is not int:
        status = _int(status)
    if status is None or not 100 <= status <= 599:
        return None
    route = _str(get("http.route") or get("http.path"))
    if route is not None:
        route = route_template(route)
    client = get("client.id") or get("http.user_agent") or get("client.ip")
    duration: Any = get("http.duration_ms")
    size: Any = get("http.bytes")
    method: Any = get("http.method")
    host: Any = get("http.host")
    url: Any = get("http.url")
    return (
        ts, "log", file, line,
        method if type(method) is str and method else _str(method),
        host if host is None else _str(host),
        route,
        url if url is None else _str(url),
        status,
        float(duration) if type(duration) in (int, float) else _float(duration),
        size if size is None or type(size) is int else _int(size),
        client if type(client) is str and client else _str(client),
        attrs_json,
    )  # fmt: skip


def change_from_message(
    message: str, ts: datetime | None, line: int, service: str | None
) -> ChangeRecord | None:
    """A restart with a version, from lines like ``Starting payments version 2.14.3``."""
    if ts is None or ("ersion" not in message and " v" not in message):
        return None
    m = _VERSION_START.search(message)
    if m is None:
        return None
    return ChangeRecord(
        line=line,
        ts=ts,
        kind="restart",
        what=service or m.group("what"),
        version=m.group("version"),
        attrs={"source_message": message[:200]},
    )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if type(value) is str else str(value)
