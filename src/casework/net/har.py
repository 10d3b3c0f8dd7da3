"""HAR 1.2 reading that survives real exports: BOM, missing fields, ``_error``, -1 for n/a, broken JSON.

Facts follow ``../shared/data/har/har_facts.py`` definitions exactly so that
``casework inspect FILE.har --json`` compares with ``HAR_FACTS.tsv``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

PHASES = ("blocked", "dns", "connect", "ssl", "send", "wait", "receive")
FACT_COLUMNS = (
    "creator", "entries", "status_hist", "status0_errors", "redirects", "max_time_ms",
    "max_blocked", "max_dns", "max_connect", "max_ssl", "max_send", "max_wait", "max_receive",
    "ssl_gt_connect_entries", "parse_error",
)  # fmt: skip


@dataclass
class HarLog:
    """A HAR's entries, or why there are none."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    creator: dict[str, Any] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def looks_like_har(head: bytes) -> bool:
    """A JSON object whose first key is ``log`` (a HAR always starts that way)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    start = text[1:400].lstrip()
    return start.startswith((b'"log"', b"'log'"))


def read(data: bytes) -> HarLog:
    """Parse a HAR document; a file that is not one gets ``error`` set, never an exception."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            data = data.decode("utf-16").encode()
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        return HarLog(error=f"invalid JSON{where}")
    log = doc.get("log") if isinstance(doc, dict) else None
    if not isinstance(log, dict):
        return HarLog(error="not a HAR: no log object")
    entries = log.get("entries")
    if not isinstance(entries, list):
        return HarLog(error="not a HAR: log has no entries")
    creator = log.get("creator") if isinstance(log.get("creator"), dict) else {}
    pages = log.get("pages") if isinstance(log.get("pages"), list) else []
    good = [e for e in entries if isinstance(e, dict)]
    return HarLog(entries=good, creator=creator or {}, pages=pages or [])


def response(entry: dict[str, Any]) -> dict[str, Any]:
    value = entry.get("response")
    return value if isinstance(value, dict) else {}


def timings(entry: dict[str, Any]) -> dict[str, Any]:
    value = entry.get("timings")
    return value if isinstance(value, dict) else {}


def error_text(entry: dict[str, Any]) -> str:
    """The browser's failure reason (``net::ERR_…``) where the producer recorded one."""
    return str(response(entry).get("_error") or entry.get("_error") or "")


def facts(log: HarLog) -> dict[str, Any]:
    """The HAR_FACTS.tsv columns for one file (numbers as numbers, breakdowns as text)."""
    out: dict[str, Any] = dict.fromkeys(FACT_COLUMNS, "")
    if log.error:
        out["parse_error"] = log.error
        return out
    entries = log.entries
    out["creator"] = f"{log.creator.get('name')} {log.creator.get('version')}"
    out["entries"] = len(entries)
    statuses = Counter(response(e).get("status") for e in entries)
    out["status_hist"] = ",".join(
        f"{k}:{v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))
    )
    errors = Counter(error_text(e) for e in entries if response(e).get("status") in (0, None, -1))
    out["status0_errors"] = ";".join(f"{k or '<empty>'}x{v}" for k, v in errors.items())
    out["redirects"] = sum(
        1
        for e in entries
        if 300 <= _number(response(e).get("status")) < 400 and response(e).get("redirectURL")
    )
    out["max_time_ms"] = round(max([_number(e.get("time")) for e in entries] or [0]), 1)
    for phase in PHASES:
        values = [_number(timings(e).get(phase)) for e in entries]
        out["max_" + phase] = round(max(values or [0]), 1)
    out["ssl_gt_connect_entries"] = sum(1 for e in entries if ssl_outside_connect(timings(e)))
    return out


def ssl_outside_connect(t: dict[str, Any]) -> bool:
    """``ssl`` larger than ``connect``: the producer did not nest TLS inside connect as HAR 1.2 says."""
    ssl = _number(t.get("ssl")) or -1
    connect = _number(t.get("connect")) or -1
    return ssl > connect >= 0


def _number(value: Any) -> float:
    """A HAR number; absent, null, text or other junk counts as 0 like ``x or 0`` would."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return value
