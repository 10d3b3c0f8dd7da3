"""A captured HTTP request rebuilt from a ``requests`` row: method, URL, headers, query, body.

Headers and body fields come from the row's attributes, as HAR entries and
structured request logs store them (``request.headers.<name>``,
``request.body.<field>``, HAR's ``request.<header>``). Values are the
redacted ones from the store; secrets are marked here and replaced by
environment variables in every script, so a captured value never leaves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

PLACEHOLDER = "«secret:"
#: Where a request whose capture names no host is sent unless ``--base-url`` says otherwise.
UNKNOWN_ORIGIN = "http://127.0.0.1"
_PLACEHOLDER_RE = re.compile(r"«secret:[^»]*»")
#: A secret inside the path is kept as this marker and read from the environment by the scripts.
ENV_MARK = re.compile(r"@@CASEWORK_ENV:([A-Z0-9_]+)@@")
_HEADER_PREFIXES = ("request.headers.", "req.headers.", "http.request.header.", "headers.")
_BODY_PREFIXES = ("request.body.", "req.body.", "body.")
_BODY_KEYS = ("request.body", "req.body", "body", "request.postData")
#: Request headers a HAR entry keeps as ``request.<name>``.
_HAR_HEADERS = frozenset(
    ("origin", "content-type", "authorization", "cookie", "access-control-request-method",
     "access-control-request-headers")
)  # fmt: skip
_SENSITIVE_NAME = re.compile(
    r"authorization|cookie|token|secret|password|passwd|api[-_]?key|apikey|session|signature|^sig$|credential|^key$|^code$",
    re.IGNORECASE,
)
#: Headers the HTTP client sets itself; replaying them by hand only gets in the way.
_CLIENT_HEADERS = frozenset(
    ("host", "content-length", "connection", "accept-encoding", "transfer-encoding")
)


@dataclass(frozen=True, slots=True)
class Part:
    """One header, query parameter or top-level body field of the request.

    ``env`` names the environment variable that supplies a secret value, and
    ``prefix`` is what the captured value kept before the secret (``Bearer ``).
    """

    kind: str  # "header" | "query" | "body"
    name: str
    value: Any
    env: str | None = None
    prefix: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class Captured:
    """The failing request as captured; ``parts`` is everything a minimal version may drop."""

    method: str
    origin: str
    path: str
    parts: tuple[Part, ...]
    status: int
    file: str
    line: int
    raw_body: str | None = None

    def where(self) -> str:
        at = f"captured at {self.file}:{self.line}" if self.file else "captured"
        path = ENV_MARK.sub(r"$\1", self.path)
        return f"{self.method} {path} {at}"

    def path_secrets(self) -> list[str]:
        return ENV_MARK.findall(self.path)

    def only(self, keep: tuple[Part, ...]) -> Captured:
        return replace(self, parts=keep)

    def of(self, kind: str) -> list[Part]:
        return [p for p in self.parts if p.kind == kind]


def captured(row: dict[str, Any]) -> Captured | None:
    """The request of one ``requests`` row (columns by name), or None when it has no route."""
    attrs = row.get("attrs")
    attrs = orjson.loads(attrs) if isinstance(attrs, str) else dict(attrs or {})
    url = row.get("url") or attrs.get("http.url") or ""
    split = urlsplit(url) if "://" in str(url) else None
    host = (split.netloc if split else None) or row.get("host") or attrs.get("http.host")
    # The concrete path a client asked for; the route may have ``{id}`` where it had ids.
    path = (split.path if split else str(url).partition("?")[0]) or attrs.get("http.path")
    path = path or row.get("route")
    if not path:
        return None
    scheme = split.scheme if split else "https"
    origin = f"{scheme}://{host}" if host else UNKNOWN_ORIGIN
    query = split.query if split else str(attrs.get("http.query") or "")
    parts = [
        *_headers(attrs),
        *(_part("query", k, v) for k, v in parse_qsl(query, keep_blank_values=True)),
    ]
    body, raw = _body(attrs)
    parts += [_part("body", k, v) for k, v in body.items()]
    return Captured(
        method=str(row.get("method") or "GET").upper(),
        origin=origin,
        path=_path_with_markers(str(path)),
        parts=tuple(parts),
        status=int(row["status"]),
        file=str(row.get("file") or ""),
        line=int(row.get("line") or 0),
        raw_body=None if raw is None or PLACEHOLDER in raw else raw,
    )


def _path_with_markers(path: str) -> str:
    """Each secret placeholder in the path becomes a marker for ``CASEWORK_PATH_SECRET_<n>``."""
    count = 0

    def mark(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"@@CASEWORK_ENV:CASEWORK_PATH_SECRET_{count}@@"

    return _PLACEHOLDER_RE.sub(mark, path)


def env_name(part_name: str) -> str:
    """``CASEWORK_AUTH_TOKEN`` for Authorization, else ``CASEWORK_<NAME>``."""
    if part_name.lower() in ("authorization", "proxy-authorization"):
        return "CASEWORK_AUTH_TOKEN"
    return "CASEWORK_" + re.sub(r"[^A-Za-z0-9]+", "_", part_name).strip("_").upper()


def _part(kind: str, name: str, value: Any) -> Part:
    text = value if isinstance(value, str) else ""
    secret = (
        _SENSITIVE_NAME.search(name) is not None or (PLACEHOLDER in text) or _nested_secret(value)
    )
    if not secret:
        return Part(kind, name, value)
    prefix = ""
    scheme, _, rest = text.partition(" ")
    if rest and scheme.isalpha() and len(scheme) <= 16 and PLACEHOLDER not in scheme:
        prefix = scheme + " "  # "Bearer <token>": keep the scheme, the token is the secret
    return Part(kind, name, None, env=env_name(name), prefix=prefix)


def _nested_secret(value: Any) -> bool:
    return not isinstance(value, str) and PLACEHOLDER in orjson.dumps(value, default=str).decode()


def _headers(attrs: dict[str, Any]) -> list[Part]:
    seen: dict[str, Part] = {}
    for key, value in attrs.items():
        name = next((key[len(p) :] for p in _HEADER_PREFIXES if key.startswith(p)), None)
        if name is None and key.startswith("request.") and key[8:] in _HAR_HEADERS:
            name = key[8:]
        if name and name.lower() not in _CLIENT_HEADERS and name.lower() not in seen:
            seen[name.lower()] = _part("header", name, str(value))
    return list(seen.values())


def _body(attrs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Top-level body fields (nested ones rebuilt from dotted keys) and a raw body if only that exists."""
    fields: dict[str, Any] = {}
    for key, value in attrs.items():
        rest = next((key[len(p) :] for p in _BODY_PREFIXES if key.startswith(p)), None)
        if not rest:
            continue
        head, *tail = rest.split(".")
        node = fields
        for piece in [head, *tail][:-1]:
            child = node.setdefault(piece, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[[head, *tail][-1]] = value
    raw = next((attrs[k] for k in _BODY_KEYS if isinstance(attrs.get(k), str)), None)
    if not fields and isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            return doc, None
    return fields, raw if not fields else None
