"""One HAR entry as a RequestRecord: timings per phase, failure reason, and the auth facts analyzers need.

Auth facts are read before redaction, because afterwards only placeholders
remain: JWT ``exp``/``iat``/``nbf`` of a bearer token become numbers in
``jwt.*``; OAuth token requests keep ``grant_type``, the refresh token
(redacted later into a stable placeholder, so a reuse is still visible) and
the server's ``error``/``error_description``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any, TypeGuard
from urllib.parse import parse_qsl, urlsplit

from casework.model import RequestRecord
from casework.net.har import PHASES, error_text, response, ssl_outside_connect, timings

#: Response headers kept for the CORS, redirect, auth and server-clock analyzers.
RESPONSE_HEADERS = (
    "location", "www-authenticate", "content-type", "access-control-allow-origin",
    "access-control-allow-methods", "access-control-allow-headers",
    "access-control-allow-credentials", "date", "age", "x-served-by", "x-backend-server",
    "x-upstream",
)  # fmt: skip
REQUEST_HEADERS = (
    "origin", "access-control-request-method", "access-control-request-headers", "content-type",
)  # fmt: skip
MAX_BODY = 65536


def page_timings(pages: list[Any]) -> dict[str, dict[str, Any]]:
    """Per page id, what the browser timed of it: the page's start and, in ms after it, when
    DOMContentLoaded and the load event fired (``pageTimings``; -1 or absent: not timed)."""
    out: dict[str, dict[str, Any]] = {}
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("id"), str):
            continue
        started = _time(page.get("startedDateTime"))
        timed = page.get("pageTimings")
        if not isinstance(timed, dict):
            continue
        facts: dict[str, Any] = {}
        for name, key in (("onContentLoad", "page.content_loaded_ms"), ("onLoad", "page.load_ms")):
            value = timed.get(name)
            if started is not None and _is_number(value) and value >= 0:
                facts[key] = round(float(value), 1)
        if facts and started is not None:
            out[page["id"]] = {"page.started": started.isoformat(), **facts}
    return out


def entry_record(
    index: int, entry: dict[str, Any], pages: dict[str, dict[str, Any]] | None = None
) -> RequestRecord:
    """The request row of the ``index``-th (1-based) entry, with its page's timings."""
    req = entry.get("request") if isinstance(entry.get("request"), dict) else {}
    assert isinstance(req, dict)
    resp = response(entry)
    url = str(req.get("url") or "")
    parts = urlsplit(url) if url else None
    status = resp.get("status")
    total = entry.get("time")
    attrs: dict[str, Any] = {"source": "har", "entry": index}
    for key in ("pageref", "serverIPAddress", "connection"):
        if entry.get(key) not in (None, ""):
            attrs[key] = entry[key]
    if pages and isinstance(entry.get("pageref"), str):
        attrs.update(pages.get(entry["pageref"], {}))
    _timings(timings(entry), attrs)
    if error_text(entry):
        attrs["error"] = error_text(entry)
    if resp.get("redirectURL"):
        attrs["redirect_url"] = resp["redirectURL"]
    if resp.get("httpVersion"):
        attrs["http_version"] = resp["httpVersion"]
    req_headers = _headers(req)
    resp_headers = _headers(resp)
    for name in REQUEST_HEADERS:
        if name in req_headers:
            attrs[f"request.{name}"] = req_headers[name]
    for name in RESPONSE_HEADERS:
        if name in resp_headers:
            attrs[f"response.{name}"] = resp_headers[name]
    _auth(req, req_headers, resp, attrs)
    return RequestRecord(
        line=index,
        ts=_time(entry.get("startedDateTime")),
        method=str(req.get("method")) if req.get("method") else None,
        url=url or None,
        host=parts.hostname if parts else None,
        route=parts.path or "/" if parts else None,
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        duration_ms=float(total) if _is_number(total) and total >= 0 else None,
        bytes=_size(resp),
        client=None,
        attrs=attrs,
    )


def _timings(t: dict[str, Any], attrs: dict[str, Any]) -> None:
    for phase in PHASES:
        value = t.get(phase)
        if _is_number(value) and value >= 0:  # -1 means "does not apply"
            attrs[f"timings.{phase}"] = float(value)
    ssl, connect = attrs.get("timings.ssl"), attrs.get("timings.connect")
    if ssl is not None and connect is not None:
        inside = not ssl_outside_connect(t)
        attrs["timings.ssl_in_connect"] = inside
        # The TCP part of connecting, whichever way the producer nested TLS.
        attrs["timings.tcp_connect"] = max(connect - ssl, 0.0) if inside else connect


def _auth(
    req: dict[str, Any], headers: dict[str, str], resp: dict[str, Any], attrs: dict[str, Any]
) -> None:
    auth = headers.get("authorization", "")
    if auth:
        attrs["request.authorization"] = auth
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer":
            for claim, value in _jwt_claims(token.strip()).items():
                attrs[f"jwt.{claim}"] = value
    params = _form(req)
    if "grant_type" in params:
        attrs["oauth.grant_type"] = params["grant_type"]
        if "refresh_token" in params:
            attrs["oauth.refresh_token"] = params["refresh_token"]
        if "client_id" in params:
            attrs["oauth.client_id"] = params["client_id"]
    body = _json_body(resp)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        attrs["oauth.error"] = body["error"][:100]
        if isinstance(body.get("error_description"), str):
            attrs["oauth.error_description"] = body["error_description"][:300]


def _jwt_claims(token: str) -> dict[str, int]:
    """``exp``, ``iat``, ``nbf`` of a JWT as integers; nothing if it is not one."""
    pieces = token.split(".")
    if len(pieces) < 2:
        return {}
    try:
        raw = base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4))
        claims = json.loads(raw)
    except (ValueError, binascii.Error):
        return {}
    if not isinstance(claims, dict):
        return {}
    return {k: int(claims[k]) for k in ("exp", "iat", "nbf") if _is_number(claims.get(k))}


def _form(req: dict[str, Any]) -> dict[str, str]:
    post = req.get("postData")
    if not isinstance(post, dict):
        return {}
    params = post.get("params")
    if isinstance(params, list) and params:
        return {
            str(p.get("name")): str(p.get("value", ""))
            for p in params
            if isinstance(p, dict) and p.get("name")
        }
    text = post.get("text")
    if not isinstance(text, str) or len(text) > MAX_BODY:
        return {}
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
    return dict(parse_qsl(text))


def _json_body(resp: dict[str, Any]) -> Any:
    content = resp.get("content")
    if not isinstance(content, dict):
        return None
    text = content.get("text")
    if not isinstance(text, str) or len(text) > MAX_BODY:
        return None
    if content.get("encoding") == "base64":
        try:
            text = base64.b64decode(text).decode("utf-8", "replace")
        except (ValueError, binascii.Error):
            return None
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _headers(message: dict[str, Any]) -> dict[str, str]:
    headers = message.get("headers")
    if not isinstance(headers, list):
        return {}
    out: dict[str, str] = {}
    for h in headers:
        if isinstance(h, dict) and h.get("name"):
            out.setdefault(str(h["name"]).lower(), str(h.get("value", "")))
    return out


def _size(resp: dict[str, Any]) -> int | None:
    content = resp.get("content") if isinstance(resp.get("content"), dict) else {}
    assert isinstance(content, dict)
    for value in (content.get("size"), resp.get("bodySize")):
        if _is_number(value) and value >= 0:
            return int(value)
    return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)  # HAR requires an offset; a missing one is taken as UTC
    return ts.astimezone(UTC)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
