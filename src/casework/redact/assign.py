"""Secrets found by their name: ``password=…``, ``"client_secret": "…"``, ``<apiToken>…</apiToken>``.

The regexes here find a name that could be a secret name next to a value;
:mod:`casework.redact.names` decides whether it is, and :func:`benign` keeps
values that are placeholders (``${API_KEY}``, ``<redacted>``, ``{{ vault.x }}``)
or code references rather than secrets.
"""

from __future__ import annotations

import re
import string

# Words that can make a name a secret name; `names.classify` has the final say.
KW = (
    r"(?:pass|pwd|pw|secret|token|key|auth|cred|sess|sid|cookie|sig|saml|code|salt|otp|"
    r"private|bearer|dsn|jwt|nonce|hmac|ticket|assertion|relaystate|dockerconfig|cvv|cvc)"
)

KEYWORDS = tuple(KW[3:-1].split("|"))
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def keyword_starts(text: str) -> list[int]:
    """Sorted offsets of every keyword, case-insensitively (ASCII folding keeps offsets exact).

    ``str.find`` per keyword is far faster than one case-insensitive alternation in ``re``.
    """
    low = text.translate(_ASCII_LOWER)
    found: list[int] = []
    for kw in KEYWORDS:
        i = low.find(kw)
        while i >= 0:
            found.append(i)
            i = low.find(kw, i + 1)
    found.sort()
    return found


# The prefilter's form: a keyword inside a name that is followed by an operator, a quote,
# a tag end, or a YAML "value:" line, so prose ("Failed password for") does not trigger.
KW_TRIGGER = (
    KW + r"[A-Za-z0-9_.$\-]*\\?[\x22'\x60]?(?:\[[0-9]*\])?(?:[ \t]+string)?[ \t]*"
    r"(?:[:=(,!?.+>\x22'\x60]|\r?\n[ \t]*value:)"
).encode()
# --password hunter2, --api-token abc (command lines in tickets and shell history)
CLI_TRIGGER = (r"--[A-Za-z0-9_\-]*" + KW + r"[A-Za-z0-9_\-]*[ \t]+[^\s\-]").encode()
REVERSED_TRIGGER = (r"[=!]=[ \t]*[A-Za-z0-9_$.]*" + KW).encode()
NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$.-")
_OP = r"(?P<op>:::=|::=|:=|\?=|\.=|\+=|=>|===|!==|==|!=|=|:|\.assign\(|\(|,)?"
_VALUE = (
    r"(?:\\\"(?P<v1>(?:[^\"\\\n]|\\[^\"\n])*)\\\"|\"(?P<v2>(?:[^\"\\\n]|\\.)*)\""
    r"|'(?P<v3>[^'\n]*)'|`(?P<v4>[^`\n]*)`|(?P<v5>[^\s&\"'`\\,;<]+))"
)

# what follows a secret-looking name: closing quote, [], a Go type, the operator, the value
ASSIGN_TAIL = re.compile(
    r"(?P<post>\\?[\"'`]?(?:\[\d*\])?)(?:[ \t]+string)?(?P<sp>[ \t]*)" + _OP + r"[ \t]*@?" + _VALUE
)
REVERSED = re.compile(
    r"(?P<q>[\"'`])(?P<v>[^\"'`\n]+)(?P=q)\s*(?:===|!==|==|!=)\s*"
    r"(?P<name>[A-Za-z0-9_$.]*(?i:" + KW + r")[A-Za-z0-9_$.]*)"
)
XML = re.compile(
    r"<(?P<name>[A-Za-z0-9_.:\-]*(?i:" + KW + r")[A-Za-z0-9_.:\-]*)(?:\s[^>]*)?>"
    r"\s*(?P<v>[^<\s][^<]*?)\s*</(?P=name)>"
)
# {"name": "Authorization", "value": "Bearer …"} (HAR headers, cookies, params; k8s env in JSON)
PAIR = re.compile(
    r"\"name\"\s*:\s*\"(?P<name>[^\"\\\n]{1,200})\"\s*,\s*\"value\"\s*:\s*\"(?P<v>(?:[^\"\\\n]|\\.)*)\""
)
PAIR_REVERSED = re.compile(
    r"\"value\"\s*:\s*\"(?P<v>(?:[^\"\\\n]|\\.)*)\"\s*,\s*\"name\"\s*:\s*\"(?P<name>[^\"\\\n]{1,200})\""
)
# <add key="DbPassword" value="…"/>   (.NET and Java XML configs)
ATTR_PAIR = re.compile(
    r"(?:key|name)\s*=\s*[\"'](?P<name>[^\"'\n]{1,200})[\"']\s+value\s*=\s*[\"'](?P<v>[^\"'\n]*)[\"']"
)
# - name: DB_PASSWORD\n  value: hunter2   (Kubernetes env in YAML)
YAML_PAIR = re.compile(
    r"name:[ \t]*[\"']?(?P<name>[A-Za-z0-9_.\-]+)[\"']?[ \t]*\r?\n[ \t]*value:[ \t]*"
    r"(?:\"(?P<v1>[^\"\n]*)\"|'(?P<v2>[^'\n]*)'|(?P<v3>[^\s#][^\n]*?))[ \t]*(?=\r?\n|$)"
)

_QUOTED_ONLY_OPS = frozenset({"===", "!==", "==", "!=", "(", ".assign(", ",", None})
_PLACEHOLDER = re.compile(
    r"\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|\{%.*%\}|<[^<>]*>|%\(?\w+\)?s?|\$[A-Za-z_]\w*|#\{[^}]*\}"
    r"|%[A-Za-z_]\w*%|[*xX•.#?\-]{3,}|\[?(?:redacted|masked|hidden|removed|filtered|omitted"
    r"|sanitized|secret|password|token|none|null)\]?|«secret:[^»]*»",
    re.IGNORECASE,
)
_STOP = frozenset(
    """
    null none nil undefined true false yes no on off required optional string str bool boolean
    int integer number empty default bearer basic secret password token self this env auto
    disabled enabled unset n/a na tbd todo example include omit same-origin !0 !1 0 1 async
    await new function lambda def return yield typeof
    """.split()  # noqa: SIM905 - a word list reads best as words
) | {""}
_YOURS = re.compile(r"(?i)^(?:your|my|insert|enter|replace|put|add|example)[_\- ]|[_\- ]here$")
_CODE_REF = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+|[A-Za-z_$][\w$.]*\(.*\)?[;,]?")
# minified JavaScript in HAR bodies: this.credentials=t.credentials||"same-origin"
_CODE_EXPR = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:\|\||&&|\?|[()\[\]!=]).*")
# Java toString() (AppWindowToken{9f4ef63, android.os.BinderProxy@2bd79ce), reverse-DNS names
_OBJECT_REF = re.compile(
    r"(?:[A-Z][A-Za-z0-9_$]+|[a-z][\w$]*(?:\.[\w$]+)+)[{@\[].*"
    r"|[a-z][\w\-]*(?:\.[a-z][\w\-]*){2,}(?:[/:].*)?"
)
_HEX_NUMBER = re.compile(r"0[xX][0-9a-fA-F]{1,16}")
#: names whose secrets are short numbers (card security codes, one-time codes)
SHORT_NUMERIC_SECRET = re.compile(r"(?i)cvv|cvc|otp|(?<![a-z])pin(?![a-z])")
# a type in a signature (token: CancellationToken) or an absolute path (KEY= /usr/bin/x)
# or an environment-variable name standing in for the value (KEY= SOME_AWS_SECRET)
_TYPE_OR_PATH = re.compile(
    r"[A-Z][a-z]+(?:[A-Z][a-z]+)+[),;:]*|(?:/[\w.\-]+){2,}/?|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s@/]*(?:[/?#]|$)")


def quoted_only(op: str | None) -> bool:
    """Operators after which only a quoted value counts (comparisons, calls, arguments)."""
    return op in _QUOTED_ONLY_OPS


def benign(value: str, *, quoted: bool, name: str = "") -> bool:
    """True when ``value`` is a placeholder, a switch, a small number, or a code reference."""
    v = value.strip().strip("\\")
    low = v.lower()
    if (
        low in _STOP
        or low.rstrip(":)") in _STOP
        or v.startswith("«")
        or _PLACEHOLDER.fullmatch(v)
        or _YOURS.search(v)
    ):
        return True
    if (
        v.isdigit() and len(v) < 6 and not SHORT_NUMERIC_SECRET.search(name)
    ) or _HEX_NUMBER.fullmatch(v):
        return True
    if _URL.match(v):
        return True
    if not quoted:
        if _CODE_EXPR.fullmatch(v) or (_CODE_REF.fullmatch(v) and not any(c.isdigit() for c in v)):
            return True
        if _OBJECT_REF.fullmatch(v) or _TYPE_OR_PATH.fullmatch(v):
            return True
        if v[:1] in ("(", "[", "{") and not v.startswith("{{"):
            return True  # an arrow function, a list or an object: code, not a value
        if low == name.lower() or low.replace("-", "_") == name.lower().replace("-", "_"):
            return True
    return False
