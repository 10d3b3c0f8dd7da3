"""The rule groups of the text engine, their regexes, and the prefilter triggers that select them.

A group runs on a line only when one of its triggers matched there: the
keyword group (names such as ``password``/``token`` next to an operator), the
HTTP-credential group (Authorization, cookies, ``curl -u``), URL userinfo,
one group per vendor token shape, and one per kind of personal data.
"""

from __future__ import annotations

import re

from casework.redact import assign, pii
from casework.redact.names import words
from casework.redact.patterns import TOKEN_RULES
from casework.redact.prefilter import Trigger

G_ASSIGN, G_AUTH, G_URL, G_EMAIL, G_CARD, G_PHONE, G_SSN, G_IBAN, G_IP = range(9)
G_TOKEN = 100  # + index into TOKEN_RULES

HEADER_TEXT = re.compile(
    r"(?i)(?:(?<=\\[nrt])|(?<![\w\-]))(?P<h>(?:proxy-)?authorization|set-cookie|cookie)\\?[\"']?[ \t]*[:=][ \t]*"
    r"(?:\\?[\"'])?(?P<v>[^\r\n\"'\\]*[^\r\n\"'\\ \t])"
)
BEARER = re.compile(r"(?i)(?<![\w\-])bearer[ \t]+(?P<v>[A-Za-z0-9\-._~+/]{8,}=*)")
BASIC = re.compile(r"(?i)(?<![\w\-])basic[ \t]+(?P<v>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])")
USERINFO = re.compile(
    # a password may hold / ? # unescaped (people paste them so); host:port/path@x is not one
    r"[A-Za-z][A-Za-z0-9+.\-]*://(?P<user>[^\s:/?#@\"'<>\\]*):(?P<v>(?!\d+(?:/|$))[^\s\"'<>\\]*)"
    r"@(?=[A-Za-z0-9\[])"
)
CURL_USER = re.compile(
    r"(?<!\S)(?:-u|--user)[ \t]+(?P<v>\"[^\"\n]*\"(?::\"[^\"\n]*\")?|'[^'\n]*'"
    r"|[^\s\"':]*:(?:'[^'\n]*'|\"[^\"\n]*\"|[^\s\"']+))"
)


def triggers(policy: pii.PiiPolicy) -> tuple[Trigger, ...]:
    """Every rule group's prefilter triggers under this personal-data policy."""
    t = [
        Trigger(G_ASSIGN, assign.KW_TRIGGER, caseless=True, spans_lines=True),
        Trigger(G_ASSIGN, assign.REVERSED_TRIGGER, caseless=True),
        Trigger(G_ASSIGN, assign.CLI_TRIGGER, caseless=True),
        Trigger(
            G_AUTH, rb"authorization|bearer[ \t]|basic[ \t]|cookie|-u[ \t]|--user", caseless=True
        ),
        Trigger(G_URL, rb"://[^\s/?#@\x22']*:[^\s\x22']*@"),
    ]
    for i, rule in enumerate(TOKEN_RULES):
        t.append(
            Trigger(
                G_TOKEN + i,
                rule.trigger,
                rule.caseless,
                extends_to_pem_end=rule.kind == "private_key",
            )
        )
    if policy.email:
        t.append(Trigger(G_EMAIL, rb"@[A-Za-z0-9\-]+\.[A-Za-z]{2}"))
    if policy.card:
        t.append(
            Trigger(G_CARD, rb"(?:^|[^0-9A-Za-z_.\-+/:])[2-6][0-9]{3}[ \-]?[0-9]{4}[ \-]?[0-9]{4}")
        )
    if policy.phone:
        t.append(
            Trigger(G_PHONE, rb"[0-9]{3}\)?[ .\-][0-9]{3}[ .\-][0-9]{4}|\+[0-9]{1,3}[ .\-]\(?[0-9]")
        )
    if policy.ssn:
        t.append(Trigger(G_SSN, rb"[0-9]{3}-[0-9]{2}-[0-9]{4}"))
    if policy.iban:
        t.append(Trigger(G_IBAN, rb"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4}"))
    if policy.ip:
        t.append(Trigger(G_IP, rb"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"))
    return tuple(t)


def kind_for(name: str) -> str:
    """The placeholder kind for a value redacted because of its name."""
    joined = "".join(words(name))
    for needle, kind in (
        ("pass", "password"),
        ("pwd", "password"),
        ("pw", "password"),
        ("apikey", "api_key"),
        ("key", "api_key"),
        ("secret", "secret"),
        ("token", "token"),
        ("session", "session"),
        ("sid", "session"),
        ("cookie", "session"),
        ("saml", "saml"),
        ("sig", "signature"),
    ):
        if needle in joined:
            return kind
    return "secret"
