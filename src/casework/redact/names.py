"""Which field, header, parameter or variable names say "the value is a secret".

A name is split into lower-case words (``x-api-key`` → x, api, key;
``adafruitToken`` → adafruit, token). ``STRONG`` names (password, token,
api key, client secret, ...) redact the whole value unless it is a
placeholder such as ``${API_KEY}``; ``WEAK`` names (key, signature, session,
code, ...) redact only a value that looks like a credential. Names whose last
word describes the secret rather than holding it (``token_endpoint``,
``password_min_length``, ``expires_in``) are not secret names at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from enum import Enum
from functools import lru_cache
from itertools import pairwise


class Sensitivity(Enum):
    """How a name makes its value sensitive."""

    NONE = 0
    WEAK = 1
    STRONG = 2


_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

# substrings of one word that make it a secret word
_STRONG_SUBSTR = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
    "privatekey",
    "accesskey",
    "secretkey",
    "authkey",
    "clientsecret",
    "samlresponse",
    "samlrequest",
    "sessionid",
    "sessiontoken",
    "authtoken",
    "dockerconfig",
    "sessid",
    "aspxauth",
)
_STRONG_WORDS = frozenset(
    {
        "pwd",
        "pass",
        "pw",
        "creds",
        "cred",
        "saml",
        "bearer",
        "jwt",
        "cvv",
        "cvc",
        "cvv2",
        "cvc2",
        "otp",
    }
)
# alone these are English words ("pass: reload"); with a qualifier (db_pass) they are strong
_ALONE_WEAK = frozenset({"pass", "pw"})
_KEY_QUALIFIERS = frozenset(
    """
    api access private secret signing encryption master app license account auth client service
    shared subscription consumer webhook partner admin sas storage hmac crypt decryption cipher
    ssh gpg pgp session deploy integration write read root user
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_WEAK_WORDS = frozenset(
    """
    key keys sig signature session sess sid auth code salt cookie cookies dsn nonce hmac
    ticket assertion relaystate credentials authorization
    """.split()  # noqa: SIM905 - a word list reads best as words
)
# keys that are identifiers or public halves, not secrets
_NOT_SECRET_KEYS = frozenset(
    """
    pub public primary foreign partition sort cache routing idempotency object s3 row hash
    unique composite natural dedup dedupe lookup map dict registry
    """.split()  # noqa: SIM905 - a word list reads best as words
)
# a last word that makes the name about a secret, not the secret itself
_DESCRIPTIVE = frozenset(
    """
    endpoint url uri urls type types mode length len size count expiry expires expiration exp
    ttl timeout lifetime age file files path dir enabled enable disabled required require policy
    name names header prefix format hint field param location version provider issuer source
    store manager class method algorithm alg strategy rotation reset changed min max minimum
    maximum regex pattern at on in seconds minutes hours days ms id ids used usage limit limits
    budget kind label description desc help scope scopes audience id_hint host port user
    username login email template ref refs env var variable status error errors invalid valid
    expired missing request requests flow tokenizer tokenizers tokenize tokenized tokenization
    iat nbf
    mismatch strength complexity history attempts retries placeholder encoding tokens cc py go
    java js ts c h cpp hpp rs rb php cs kt swift scala json yaml yml xml txt log sh conf cfg ini
    toml md html css pem crt func function fn callback handler loader getter setter factory
    builder parser validator interceptor middleware cache helper helpers generator decoder
    encoder predictions logits embeddings ids
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_\-.~:!@#$%^&*]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_HEX_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+")
_DIGIT = re.compile(r"\d")
_ALPHA = re.compile(r"[A-Za-z]")


def words(name: str) -> list[str]:
    """Lower-case words of an identifier: ``adafruitToken`` → ``["adafruit", "token"]``."""
    return [w.lower() for w in _SPLIT.split(name) if w]


@lru_cache(maxsize=8192)
def classify(name: str) -> Sensitivity:
    """How sensitive the value of a field called ``name`` is."""
    ws = words(name)
    if not ws:
        return Sensitivity.NONE
    last = ws[-1]
    if last in _DESCRIPTIVE and not (
        last == "id" and len(ws) > 1 and ws[-2] in ("session", "sess")
    ):
        return Sensitivity.NONE
    if last in ("key", "keys") and len(ws) > 1 and ws[-2] in _NOT_SECRET_KEYS:
        return Sensitivity.NONE
    # "tokenizer.dia" holds no token: descriptive words do not count as secret words
    ws = [w for w in ws if w not in _DESCRIPTIVE]
    joined = "".join(ws)
    if len(ws) == 1 and last in _ALONE_WEAK:
        return Sensitivity.WEAK
    for w in ws:
        if w in _STRONG_WORDS or any(s in w for s in _STRONG_SUBSTR):
            return Sensitivity.STRONG
    for prev, cur in pairwise(ws):
        if cur in ("key", "keys") and prev in _KEY_QUALIFIERS:
            return Sensitivity.STRONG
    if any(s in joined for s in _STRONG_SUBSTR):
        return Sensitivity.STRONG
    if any(w in _WEAK_WORDS for w in ws):
        return Sensitivity.WEAK
    return Sensitivity.NONE


def session_like(name: str) -> bool:
    """Session identifiers are often plain hex, which other weak names must not redact."""
    return any(
        w in ("session", "sess", "sid", "cookie", "cookies") or "session" in w for w in words(name)
    )


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def looks_like_credential(value: str, *, allow_hex: bool = False) -> bool:
    """A value that a weak name (``key``, ``sig``, ``session``) would hold if it were a secret.

    Long enough, one unbroken run of token characters, letters and digits
    mixed, not a UUID or other identifier shape the evidence needs.
    """
    v = value.strip()
    if len(v) < 12 or len(v) > 4096 or not _TOKEN_CHARS.fullmatch(v) or _HEX_NUMBER.fullmatch(v):
        return False
    if _UUID.fullmatch(v) or (not allow_hex and _HEX.fullmatch(v) and len(v) in (32, 40, 64)):
        return False
    if v.count(":") >= 2 or v.count(".") >= 2 or ("/" in v and not v.endswith("=")):
        return False
    return bool(_DIGIT.search(v) and _ALPHA.search(v)) and entropy(v) >= 3.0
