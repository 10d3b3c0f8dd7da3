"""HTTP credentials: Authorization schemes and cookies, redacted while keeping their structure.

``Authorization: Bearer <token>`` keeps ``Bearer``; ``Cookie`` and
``Set-Cookie`` keep every cookie name and every attribute (``Path``,
``Secure``, ``SameSite`` …) and lose only the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from casework.redact.assign import benign

AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})
COOKIE_HEADERS = frozenset({"cookie", "set-cookie", "set-cookie2"})
#: Headers whose whole value is a credential.
SECRET_HEADERS = frozenset(
    {
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-xsrf-token",
        "x-amz-security-token",
        "x-goog-api-key",
        "ocp-apim-subscription-key",
        "x-functions-key",
        "private-token",
        "job-token",
        "x-vault-token",
        "x-session-token",
        "x-refresh-token",
        "x-id-token",
        "x-client-secret",
        "x-gitlab-token",
        "x-hub-signature",
        "x-hub-signature-256",
        "x-slack-signature",
        "stripe-signature",
        "x-signature",
    }
)
_SCHEME = re.compile(
    r"(?P<lead>\s*)(?P<scheme>[A-Za-z][A-Za-z0-9_\-]*)(?P<gap>\s+)(?P<cred>\S.*)", re.S
)
_KNOWN_SCHEMES = frozenset(
    {
        "bearer",
        "basic",
        "token",
        "digest",
        "negotiate",
        "ntlm",
        "aws4-hmac-sha256",
        "apikey",
        "api-key",
        "bot",
        "sso-key",
        "hmac",
        "mac",
        "dpop",
        "oauth",
        "key",
        "splunk",
        "gtoken",
        "sharedaccesssignature",
        "hawk",
        "jwt",
        "session",
        "kerberos",
        "pat",
    }
)
_COOKIE_ATTRS = frozenset(
    {
        "path",
        "domain",
        "expires",
        "max-age",
        "secure",
        "httponly",
        "samesite",
        "priority",
        "partitioned",
        "version",
        "comment",
    }
)
# values a cookie holds that identify nothing (switches, languages, themes)
_TRIVIAL = re.compile(r"[A-Za-z]{1,8}|\d{1,4}|")

Secret = Callable[[str, str], str]


def authorization(value: str, token: Callable[[str, str], str]) -> str:
    """``Bearer xyz`` → ``Bearer «secret:bearer:…»``; an unknown shape loses its whole value."""
    if "${" in value and value.lstrip()[:1] in ("`", "'", '"'):
        return value  # a template in code: `Bearer ${token}`
    m = _SCHEME.fullmatch(value)
    if m is not None and m.group("scheme").lower() in _KNOWN_SCHEMES:
        scheme = m.group("scheme")
        kind = (
            scheme.lower() if scheme.lower() in ("bearer", "basic", "digest", "ntlm") else "token"
        )
        cred = m.group("cred")
        if benign(cred, quoted=True):
            return value
        return f"{m.group('lead')}{scheme}{m.group('gap')}{token(cred, kind)}"
    if benign(value, quoted=True):
        return value
    return token(value.strip(), "authorization")


def cookie(value: str, secret: Secret, *, set_cookie: bool) -> str:
    """Keep cookie names and attributes; replace values that could identify a session."""
    if "\n" in value:  # browsers export several Set-Cookie headers as one, one per line
        return "\n".join(cookie(line, secret, set_cookie=set_cookie) for line in value.split("\n"))
    parts = value.split(";")
    out: list[str] = []
    for i, part in enumerate(parts):
        name, eq, val = part.partition("=")
        is_attr = set_cookie and i > 0 and name.strip().lower() in _COOKIE_ATTRS
        if not eq or is_attr or _TRIVIAL.fullmatch(val.strip()):
            out.append(part)
            continue
        lead = val[: len(val) - len(val.lstrip())]
        trail = val[len(val.rstrip()) :]
        out.append(f"{name}={lead}{secret('cookie', val.strip())}{trail}")
    return ";".join(out)
