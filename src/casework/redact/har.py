"""JSON and HAR documents for ``casework redact``: a redacted HAR is still a valid HAR.

A HAR is rewritten structurally (headers by name, cookies by value, query
and form parameters by name, bodies as text) and keeps every key, list and
type. Response bodies stored base64-encoded (``"encoding": "base64"``) with a
textual MIME type are decoded, redacted and encoded again, so a token in a
JSON response cannot hide in base64. Other JSON is redacted as text when the
result still parses, which keeps its layout byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from casework.redact.redactor import Redactor

_TEXTUAL = ("json", "text", "xml", "javascript", "html", "x-www-form-urlencoded", "graphql")


def _indent(text: str) -> int | None:
    head = text.lstrip()[:4096]
    if "\n" not in head:
        return None
    line = head.split("\n", 1)[1]
    return len(line) - len(line.lstrip(" ")) or 2


def is_har(doc: Any) -> bool:
    """A HAR 1.x document: ``{"log": {"entries": [...]}}``."""
    return isinstance(doc, dict) and isinstance(doc.get("log"), dict) and "entries" in doc["log"]


def _decode_bodies(r: Redactor, doc: dict[str, Any]) -> None:
    for entry in doc["log"].get("entries") or []:
        content = entry.get("response", {}).get("content") if isinstance(entry, dict) else None
        if not isinstance(content, dict) or content.get("encoding") != "base64":
            continue
        mime, body = str(content.get("mimeType", "")), content.get("text")
        if not isinstance(body, str) or not any(t in mime for t in _TEXTUAL):
            continue
        try:
            raw = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        content["text"] = base64.b64encode(r.text(raw).encode("utf-8")).decode("ascii")


def redact_har(r: Redactor, doc: dict[str, Any]) -> Any:
    """A redacted copy of a parsed HAR with the same structure."""
    _decode_bodies(r, doc)
    return r.json(doc)


def redact_json_text(r: Redactor, text: str) -> str:
    """A HAR structurally; any other JSON as text when that keeps it valid JSON."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return r.text(text)
    if is_har(doc):
        out_doc = redact_har(r, doc)
    else:
        out = r.text(text)
        try:
            json.loads(out)
            return out
        except (ValueError, RecursionError):
            out_doc = r.json(doc)
    trailing = "\n" if text.endswith("\n") else ""
    return json.dumps(out_doc, indent=_indent(text), ensure_ascii=False) + trailing
