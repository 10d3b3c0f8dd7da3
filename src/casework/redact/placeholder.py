"""Keyed, stable placeholders: the same secret gives the same placeholder inside one case.

Shape (parseable, documented here once)::

    «secret:KIND:HHHHHH»                      every secret and PII value
    «secret:jwt:HHHHHH alg=RS256 iat=1700000000 exp=1767225600 iss=https://idp.example»

``KIND`` is ``[a-z0-9_]+``; ``HHHHHH`` is the first 6 hex digits of
HMAC-SHA256(case key, value): stable per (key, value), different across keys,
never reversible to the value. A JWT placeholder keeps the non-secret claims
that diagnose expiry and clock skew, as ``name=value`` pairs separated by single
spaces, in this order when present: ``alg``, ``typ`` (header), ``iat``, ``nbf``,
``exp`` (integers, seconds since the epoch), ``iss``. Claim values are
percent-encoded outside ``[A-Za-z0-9._:/@+-]`` so they never contain a space
or ``»``; :func:`jwt_claims_from_placeholder` reads them back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import quote, unquote

OPEN = "«"
CLOSE = "»"

_SAFE = "._:/@+-"
_HEADER_CLAIMS = ("alg", "typ")
_TIME_CLAIMS = ("iat", "nbf", "exp")
_MAX_CLAIM = 120

PLACEHOLDER_RE = re.compile(r"«secret:([a-z0-9_]+):([0-9a-f]{6})((?: [a-z]+=[^\s»]*)*)»")
_JWT_RE = re.compile(r"«secret:jwt:[0-9a-f]{6}((?: [a-z]+=[^\s»]*)*)»")


class Placeholders:
    """Makes placeholders under one case key; the key never leaves this object."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the redaction key must not be empty")
        self._key = bytes(key)

    def __repr__(self) -> str:
        return "Placeholders(key=<hidden>)"

    def digest(self, value: str) -> str:
        """Six hex digits of HMAC-SHA256(key, value)."""
        mac = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return mac.hexdigest()[:6]

    def make(self, kind: str, value: str) -> str:
        """``«secret:KIND:HHHHHH»``; a JWT also carries its non-secret claims."""
        if kind == "jwt":
            return self.jwt(value)
        return f"{OPEN}secret:{kind}:{self.digest(value)}{CLOSE}"

    def jwt(self, token: str) -> str:
        """A JWT placeholder with ``alg``/``typ``/``iat``/``nbf``/``exp``/``iss`` when readable."""
        claims = _visible_claims(token)
        extra = "".join(f" {name}={value}" for name, value in claims)
        return f"{OPEN}secret:jwt:{self.digest(token)}{extra}{CLOSE}"


def _b64json(part: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        obj = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _visible_claims(token: str) -> list[tuple[str, str]]:
    parts = token.split(".")
    if len(parts) < 2:
        return []
    header = _b64json(parts[0]) or {}
    payload = _b64json(parts[1]) or {}
    out: list[tuple[str, str]] = []
    for name in _HEADER_CLAIMS:
        if isinstance(header.get(name), str):
            out.append((name, _encode(header[name])))
    for name in _TIME_CLAIMS:
        value = payload.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append((name, str(int(value))))
    iss = payload.get("iss")
    if isinstance(iss, str):
        out.append(("iss", _encode(iss)))
    return out


def _encode(value: str) -> str:
    return quote(value[:_MAX_CLAIM], safe=_SAFE)


def jwt_claims_from_placeholder(text: str) -> dict[str, str | int]:
    """The visible claims of the first JWT placeholder in ``text`` (``{}`` when none).

    >>> jwt_claims_from_placeholder("Bearer «secret:jwt:3f9a1c alg=RS256 exp=1767225600»")
    {'alg': 'RS256', 'exp': 1767225600}
    """
    m = _JWT_RE.search(text)
    if m is None:
        return {}
    claims: dict[str, str | int] = {}
    for pair in m.group(1).split():
        name, _, value = pair.partition("=")
        if name in _TIME_CLAIMS and value.lstrip("-").isdigit():
            claims[name] = int(value)
        else:
            claims[name] = unquote(value)
    return claims
