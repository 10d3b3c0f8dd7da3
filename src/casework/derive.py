"""Facts derived from log records: HTTP requests inside log lines, and changes ("Starting X version Y")."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from casework.model import ChangeRecord, RequestRecord

_VERSION_START = re.compile(
    r"\b(?:starting|started|booting|launching|running)\s+(?P<what>[A-Za-z][\w.\-/]*)"
    r"(?:\s+(?:version|release|build|v(?=\d)))\s*[:=]?\s*(?P<version>v?\d+(?:\.\d+)+[\w.\-+]*)",
    re.IGNORECASE,
)


def request_from_attrs(
    attrs: dict[str, Any], ts: datetime | None, line: int
) -> RequestRecord | None:
    """An HTTP request when a record carries a status code (canonical ``http.*`` keys)."""
    status = _int(attrs.get("http.status"))
    if status is None or not 100 <= status <= 599:
        return None
    route = attrs.get("http.route") or attrs.get("http.path")
    client = attrs.get("client.id") or attrs.get("http.user_agent") or attrs.get("client.ip")
    return RequestRecord(
        line=line,
        ts=ts,
        method=_str(attrs.get("http.method")),
        url=_str(attrs.get("http.url")),
        host=_str(attrs.get("http.host")),
        route=_str(route),
        status=status,
        duration_ms=_float(attrs.get("http.duration_ms")),
        bytes=_int(attrs.get("http.bytes")),
        client=_str(client),
        attrs=attrs,
    )


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
    return str(value)
