"""The redactor the ingest calls for every string: text, named values, URLs, headers and JSON."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from casework.redact import http
from casework.redact.assign import SHORT_NUMERIC_SECRET, benign
from casework.redact.names import Sensitivity, classify, looks_like_credential, session_like
from casework.redact.pii import PiiPolicy
from casework.redact.rules import kind_for
from casework.redact.text import TextEngine

_LONG_NUMBER = re.compile(r"-?\d{6,}")


@lru_cache(maxsize=16384)
def _named(name: str) -> Sensitivity:
    """How sensitive a key's value is by its name alone; auth and cookie headers count as strong."""
    lname = name.strip().lower().rsplit(".", 1)[-1]
    if lname in http.AUTH_HEADERS or lname in http.COOKIE_HEADERS or lname in http.SECRET_HEADERS:
        return Sensitivity.STRONG
    return classify(name)


#: Per key set: the weak-named keys to check value by value, and whether the keys fire no
#: trigger inside the mapping's JSON (then that JSON is what the prefilter scans); None for a
#: key set whose records always take the per-field path (a secret name, a HAR name/value
#: pair). Not a sentinel tuple compared by identity: the compiled build copies tuples.
_KeySet = tuple[tuple[str, ...], bool] | None
#: Values a key set's JSON is probed with to see whether its keys fire a trigger there.
_PROBES: tuple[object, ...] = ("", 0, None, True, [])


def _nested(attrs: dict[Any, Any]) -> bool:
    return any(isinstance(v, dict | list) for v in attrs.values())


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    """Which personal data is redacted besides secrets (secrets always are).

    IPs are kept by default: they are usually the evidence (which client,
    which backend). SSNs and IBANs follow the card switch's spirit and are on.
    """

    pii_email: bool = True
    pii_card: bool = True
    pii_phone: bool = True
    pii_ip: bool = False
    pii_ssn: bool = True
    pii_iban: bool = True

    def pii(self) -> PiiPolicy:
        """The detector switches for the text engine."""
        return PiiPolicy(
            email=self.pii_email,
            card=self.pii_card,
            phone=self.pii_phone,
            ssn=self.pii_ssn,
            iban=self.pii_iban,
            ip=self.pii_ip,
        )


class Redactor(TextEngine):
    """Replaces secrets with stable keyed placeholders; see :mod:`casework.redact`.

    One instance per case (the key) and per thread (the prefilter's scratch
    space is not shared). ``counts`` accumulates how many values of each kind
    were replaced; ``take_counts()`` returns and resets it.
    """

    def __init__(
        self, key: bytes, policy: RedactionPolicy | None = None, *, use_hyperscan: bool = True
    ) -> None:
        self.policy = policy or RedactionPolicy()
        super().__init__(key, self.policy.pii(), use_hyperscan=use_hyperscan)
        self._keysets: dict[tuple[Any, ...], _KeySet] = {}

    def __repr__(self) -> str:
        return f"Redactor(policy={self.policy!r})"

    def take_counts(self) -> Counter[str]:
        """Counts by kind since the last call (the ingest calls this per file)."""
        taken = Counter(self.counts)
        self.counts.clear()
        return taken

    def value(self, name: str, value: str) -> str:
        """A named field: a secret name redacts the whole value, then the text rules run."""
        # flattened attribute paths (request.headers.authorization) end in the field's name
        lname = name.strip().lower().rsplit(".", 1)[-1]
        if lname in http.AUTH_HEADERS or lname in http.COOKIE_HEADERS:
            return self.header(lname, value)
        sens = classify(name)
        strong = sens is Sensitivity.STRONG or lname in http.SECRET_HEADERS
        if strong and not benign(value, quoted=True, name=name):
            return self.token(value, kind_for(name))
        if sens is Sensitivity.WEAK and looks_like_credential(value, allow_hex=session_like(name)):
            return self.token(value, kind_for(name))
        return self.text(value)

    def param(self, name: str, value: str) -> str:
        """A URL query or form parameter: ``code``, ``sig``, ``key`` … count as secret names."""
        if classify(name) is Sensitivity.WEAK and value and not benign(value, quoted=True):
            return self.token(value, kind_for(name))
        return self.value(name, value)

    def url(self, u: str) -> str:
        """Userinfo passwords and sensitive query/fragment parameters, then the text rules."""
        return self.text(u)

    def header(self, name: str, value: str) -> str:
        """Authorization keeps its scheme; cookies keep names and attributes; others by name."""
        lname = name.strip().lower()
        if lname in http.AUTH_HEADERS:
            return http.authorization(value, self.token)
        if lname in http.COOKIE_HEADERS:
            return http.cookie(value, self.secret, set_cookie=lname != "cookie")
        return self.value(name, value)

    def json(self, obj: Any, _name: str | None = None, _mode: str = "") -> Any:
        """A redacted copy of a JSON value: same shape, keys and values checked by name."""
        if isinstance(obj, str):
            return self.value(_name, obj) if _name else self.text(obj)
        if isinstance(obj, dict):
            return self._json_object(obj, _mode)
        if isinstance(obj, list):
            mode = {"cookies": "cookie", "queryString": "param", "params": "param"}.get(
                _name or "", ""
            )
            return [self.json(x, _name, mode) for x in obj]
        if (
            isinstance(obj, int)
            and not isinstance(obj, bool)
            and _name
            and classify(_name) is Sensitivity.STRONG
            and (_LONG_NUMBER.fullmatch(str(obj)) or SHORT_NUMERIC_SECRET.search(_name))
        ):
            return self.secret(kind_for(_name), str(obj))
        return obj

    def _json_object(self, obj: dict[Any, Any], mode: str) -> dict[Any, Any]:
        if not mode and self.clean_record((), obj):
            return obj
        name, val = obj.get("name"), obj.get("value")
        pair = isinstance(name, str) and isinstance(val, str)
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            key = self.text(k) if isinstance(k, str) else k
            if pair and k == "value":
                out[key] = self.pair_value(str(name), str(v), mode)
            elif pair and k == "name":
                out[key] = v
            else:
                out[key] = self.json(v, k if isinstance(k, str) else None)
        return out

    def clean_record(self, texts: Sequence[str | None], attrs: dict[Any, Any]) -> bool:
        """Whether texts and a flat mapping hold nothing to redact; see :meth:`clean_json`."""
        return self.clean_json([(texts, attrs)])[0] is not None

    def clean_json(
        self, records: Sequence[tuple[Sequence[str | None], dict[Any, Any]]]
    ) -> list[str | None]:
        """Per log record (its texts and flat mapping): the mapping as JSON text when nothing in
        the record needs redacting, else None (the record takes the per-field path).

        ``texts`` are a record's message and other strings. A clean verdict is
        exact: every string ``text()`` and ``json()`` would look at is scanned, all
        records in one prefilter call, separated so no trigger loses a match. Keys
        are checked once per key set. Values are scanned inside the mapping's own
        JSON (one orjson call serves the scan and the store) when the key set's
        keys fire no trigger in that context; a match inside a value is a match
        inside its JSON either way. Otherwise (``"status_code":`` looks like an
        assignment) the values alone are serialized for the scan. JSON escapes
        could hide a trigger, so a value with a backslash, a quote or a control
        character sends its record to the per-field path.
        """
        out: list[str | None] = [None] * len(records)
        pieces: list[bytes] = []
        owners: list[tuple[int, bytes]] = []
        for i, (texts, attrs) in enumerate(records):
            scanned = self._scan_piece(texts, attrs)
            if scanned is not None:
                pieces.append(scanned[0])
                owners.append((i, scanned[1]))
        if pieces:
            dirty = self._pf.with_hits(pieces)
            for j, (i, dump) in enumerate(owners):
                if j not in dirty:
                    out[i] = dump.decode()  # a str: orjson's bytes keep a 4 KiB buffer each
        return out

    def clean_texts(self, records: Sequence[tuple[str, str, tuple[str, ...]]]) -> list[bool]:
        """Per record given as its message, its attributes' JSON text as orjson writes it and
        their keys: whether nothing in it needs redacting, all in one prefilter call.

        A yes needs keys that are neither secret- nor weak-named and fire no trigger, alone
        or inside the JSON, and a JSON text without escapes (every value is then in it
        verbatim), so scanning message and JSON sees every string ``text()`` and ``json()``
        would look at; any other record is a no (the per-field path).
        """
        pieces: list[bytes] = []
        owners: list[int] = []
        for i, (message, text, keys) in enumerate(records):
            verdict = self._keyset(keys)
            if verdict is not None and verdict[1] and not verdict[0] and "\\" not in text:
                pieces.append(f"{message}\n{text}".encode("utf-8", "surrogatepass"))
                owners.append(i)
        clean = [False] * len(records)
        dirty = self._pf.with_hits(pieces) if pieces else set()
        for j, i in enumerate(owners):
            clean[i] = j not in dirty
        return clean

    def _keyset(self, keys: tuple[Any, ...]) -> _KeySet:
        try:
            return self._keysets[keys]
        except KeyError:
            verdict = self._keyset_verdict(keys)
            if len(self._keysets) >= 4096:
                self._keysets.clear()
            self._keysets[keys] = verdict
        return verdict

    def _scan_piece(
        self, texts: Sequence[str | None], attrs: dict[Any, Any]
    ) -> tuple[bytes, bytes] | None:
        """What the prefilter must scan for one record and the mapping's JSON, or None when
        the record takes the per-field path."""
        verdict = self._keyset(tuple(attrs))
        if verdict is None:
            return None
        weak, quiet = verdict
        for k in weak:
            v = attrs[k]
            if isinstance(v, str) and looks_like_credential(v, allow_hex=session_like(k)):
                return None
        try:
            dump = orjson.dumps(attrs)
        except TypeError:  # a value orjson cannot write (surrogates, objects): per field
            return None
        if b"\\" in dump or ((b"[" in dump or dump.count(b"{") > 1) and _nested(attrs)):
            return None
        values = dump if quiet else orjson.dumps(tuple(attrs.values()))
        joined = "\n".join([t for t in texts if t]).encode("utf-8", "surrogatepass")
        return joined + b"\n" + values, dump

    def _keyset_verdict(self, keys: tuple[Any, ...]) -> _KeySet:
        """None (unsafe), or the weak-named keys whose values must be checked one by one and
        whether the keys are quiet inside the mapping's JSON."""
        if "name" in keys and "value" in keys:
            return None
        weak: list[str] = []
        for k in keys:
            if not isinstance(k, str):
                return None
            named = _named(k)
            if named is Sensitivity.STRONG:
                return None
            if named is Sensitivity.WEAK:
                weak.append(k)
        if self._pf.hits("\n".join(keys).encode("utf-8", "surrogatepass")):
            return None
        probes = [orjson.dumps(dict.fromkeys(keys, value)) for value in _PROBES]
        return tuple(weak), not self._pf.with_hits(probes)

    def pair_value(self, name: str, value: str, mode: str) -> str:
        """A HAR-style name/value pair: a cookie, a parameter or a header."""
        if mode == "cookie":
            return http.cookie(f"{name}={value}", self.secret, set_cookie=False)[len(name) + 1 :]
        if mode == "param":
            return self.param(name, value)
        return self.header(name, value)
