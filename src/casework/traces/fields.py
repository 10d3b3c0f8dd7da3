"""Span field normalization shared by the OTLP, Jaeger and Zipkin readers: ids, times, kinds."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: What a malformed span or document raises inside a reader; counted as bad, never propagated.
UNREADABLE = (
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    RecursionError,
    OverflowError,
)

_HEX = re.compile(r"[0-9a-fA-F]+")
_ZEROS = frozenset({"0" * 16, "0" * 32})
_KINDS = ("INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
#: OTLP SpanKind numbers (0 is "unspecified", read as INTERNAL as the spec says).
_KIND_NUMBERS = {
    0: "INTERNAL",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
_STATUS_NUMBERS = {0: "UNSET", 1: "OK", 2: "ERROR"}
#: The spellings met in practice, answered without parsing.
_KIND_SEEN: dict[int | str, str] = {
    **{k: v for k, v in _KIND_NUMBERS.items()},
    **{f"SPAN_KIND_{v}": v for v in _KINDS},
    **{v: v for v in _KINDS},
    "SPAN_KIND_UNSPECIFIED": "INTERNAL",
}
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_GO_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}


def span_id(value: Any) -> str | None:
    """An id as lowercase hex: hex text is kept, base64 (protobuf JSON) is decoded.

    An all-zero or empty id means "none" (OTLP writes ``""`` for a root's parent).
    """
    if type(value) is str and len(value) in (16, 32) and _HEX.fullmatch(value):
        # The common case, kept short: 1M spans means 3M ids.
        return None if value in _ZEROS else value.lower()
    if value is None:
        return None
    text = f"{value:016x}" if isinstance(value, int) else str(value).strip()
    if not text:
        return None
    if _HEX.fullmatch(text) and len(text) < 32 and len(text) not in (16, 32):
        # Jaeger drops leading zeros; pad so the same id always has the same text.
        text = text.zfill(16 if len(text) < 16 else 32)
    elif not _HEX.fullmatch(text):
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) in (8, 16):
            text = raw.hex()
    text = text.lower()
    if text.strip("0") == "":
        return None
    return text


def from_unix_ns(ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=ns // 1000)


def from_unix_us(us: int | float) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def as_int(value: Any) -> int | None:
    """An int64 that JSON may carry as a number or (OTLP, Jaeger) as a string."""
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def go_duration_ns(text: str) -> int | None:
    """Nanoseconds of a Go duration string (``5000ns``, ``1.5ms``, ``1m2s``), as Jaeger's model writes."""
    parts = _GO_DURATION.findall(text)
    if not parts:
        return None
    total = 0.0
    for number, unit in parts:
        total += float(number) * (3600 * 10**9 if unit == "h" else _GO_UNIT_NS[unit])
    return int(total)


def kind(value: Any) -> str:
    """SERVER, CLIENT, PRODUCER, CONSUMER or INTERNAL from an OTLP number or any spelling of a name."""
    known = _KIND_SEEN.get(value) if isinstance(value, int | str) else None
    if known is not None:
        return known
    if isinstance(value, int) and not isinstance(value, bool):
        return _KIND_NUMBERS.get(value, "INTERNAL")
    if value is None:
        return "INTERNAL"
    text = str(value).upper().removeprefix("SPAN_KIND_")
    if text.isdigit():
        return _KIND_NUMBERS.get(int(text), "INTERNAL")
    return text if text in _KINDS else "INTERNAL"


def status(value: Any) -> str:
    """OK, ERROR or UNSET from an OTLP number or name (``STATUS_CODE_ERROR``, ``Error``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _STATUS_NUMBERS.get(value, "UNSET")
    if value is None:
        return "UNSET"
    text = str(value).upper().removeprefix("STATUS_CODE_")
    if text.isdigit():
        return _STATUS_NUMBERS.get(int(text), "UNSET")
    return text if text in ("OK", "ERROR") else "UNSET"


def truthy(value: Any) -> bool:
    """Whether a tag such as Jaeger's ``error`` says yes (``true``, ``"true"``, ``1``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value).strip().lower() in ("true", "1", "yes")
