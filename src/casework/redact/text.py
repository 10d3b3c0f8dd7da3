"""The free-text engine: one prefilter pass, then only the triggered rules on the flagged lines.

Rules propose spans (start, end, priority, replacement); the highest priority
and then the longest span wins where they overlap, so ``password=eyJ…`` is
redacted once, as a password, and ``Authorization: Bearer eyJ…`` keeps its
scheme. Only the secret itself is replaced: names, quotes, separators and the
rest of the line stay as they were.
"""

from __future__ import annotations

import base64
import binascii
import re
from abc import abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence

from casework.redact import assign, pii
from casework.redact.named import NamedRules
from casework.redact.patterns import TOKEN_RULES
from casework.redact.placeholder import PLACEHOLDER_RE, Placeholders
from casework.redact.prefilter import Prefilter, prefilter_for
from casework.redact.rules import (
    BASIC,
    BEARER,
    CURL_USER,
    G_ASSIGN,
    G_AUTH,
    G_CARD,
    G_EMAIL,
    G_IBAN,
    G_IP,
    G_PHONE,
    G_SSN,
    G_TOKEN,
    G_URL,
    HEADER_TEXT,
    USERINFO,
    triggers,
)
from casework.redact.spans import Span, apply, span

_SEP = "\n\x00\n"


class TextEngine(NamedRules):
    """Free-text redaction; subclasses supply the name-aware ``value`` and ``header``."""

    def __init__(self, key: bytes, policy: pii.PiiPolicy, *, use_hyperscan: bool = True) -> None:
        self._ph = Placeholders(key)
        self._pii = policy
        self._hs = use_hyperscan
        self._pf: Prefilter = prefilter_for(triggers(policy), use_hyperscan)
        self.counts: Counter[str] = Counter()

    def __getstate__(self) -> dict[str, object]:
        # the compiled prefilter is per process and thread; a worker rebuilds its own
        state = dict(self.__dict__)
        del state["_pf"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._pf = prefilter_for(triggers(self._pii), self._hs)

    @abstractmethod
    def value(self, name: str, value: str) -> str:
        """Redact a named field's value."""

    @abstractmethod
    def header(self, name: str, value: str) -> str:
        """Redact an HTTP header value."""

    def secret(self, kind: str, value: str) -> str:
        """The placeholder for ``value``, counted under ``kind`` (a placeholder stays as it is)."""
        if value.startswith("«") and PLACEHOLDER_RE.fullmatch(value):
            return value
        self.counts[kind] += 1
        return self._ph.make(kind, value)

    def token(self, value: str, default_kind: str) -> str:
        """A placeholder whose kind is the specific token shape when ``value`` is one."""
        for rule in TOKEN_RULES:
            m = rule.regex.fullmatch(value)
            if m is not None and (m.lastgroup != "s" or m.group("s") == value):
                return self.secret(rule.kind, value)
        return self.secret(default_kind, value)

    def text(self, s: str) -> str:
        """Redact every secret in free text; the rest of the text is kept byte for byte."""
        if not s:
            return s
        data = s.encode("utf-8", "surrogatepass")
        wins = self._pf.windows(data)
        if not wins:
            return s
        out: list[bytes] = []
        pos = 0
        for win in wins:
            out.append(data[pos : win.start])
            seg = data[win.start : win.end].decode("utf-8", "surrogatepass")
            out.append(self._window(seg, win.groups).encode("utf-8", "surrogatepass"))
            pos = win.end
        out.append(data[pos:])
        return b"".join(out).decode("utf-8", "surrogatepass")

    def texts(self, items: Sequence[str]) -> list[str]:
        """``[text(s) for s in items]`` in one prefilter pass (batch the ingest's small strings)."""
        if any("\x00" in s for s in items):
            return [self.text(s) for s in items]
        before = Counter(self.counts)
        parts = self.text(_SEP.join(items)).split(_SEP)
        if len(parts) == len(items):
            return parts
        # a multi-line rule joined two items: redo them one by one, counting once
        self.counts = before
        return [self.text(s) for s in items]

    def _window(self, w: str, groups: set[int]) -> str:
        spans: list[Span] = []
        if "«" in w:
            # existing placeholders are kept as they are (redaction is idempotent)
            for m in PLACEHOLDER_RE.finditer(w):
                spans.append(span(m, 0, 1000, _constant(m.group(0))))
        if G_ASSIGN in groups:
            self._assignments(w, spans)
        if G_AUTH in groups:
            self._auth(w, spans)
        if G_URL in groups:
            for m in USERINFO.finditer(w):
                if m.group("v") and not assign.benign(m.group("v"), quoted=True):
                    self._pw(m, spans)
                    if m.group("user"):
                        spans.append(span(m, "user", 85, self._maker("username", m.group("user"))))
        for g in groups:
            if g >= G_TOKEN:
                rule = TOKEN_RULES[g - G_TOKEN]
                for m in rule.regex.finditer(w):
                    grp = "s" if "s" in rule.regex.groupindex else 0
                    spans.append(span(m, grp, 50, self._maker(rule.kind, m.group(grp))))
        self._pii_spans(w, groups, spans)
        return apply(w, spans)

    def _maker(self, kind: str, value: str) -> Callable[[], str]:
        return lambda: self.secret(kind, value)

    def _token_maker(self, value: str, kind: str) -> Callable[[], str]:
        return lambda: self.token(value, kind)

    def _header_maker(self, name: str, value: str) -> Callable[[], str]:
        return lambda: self.header(name, value)

    def _pw(self, m: re.Match[str], spans: list[Span]) -> None:
        v = m.group("v")
        if v and not assign.benign(v, quoted=True):
            spans.append(span(m, "v", 85, self._maker("password", v)))

    def _auth(self, w: str, spans: list[Span]) -> None:
        for m in HEADER_TEXT.finditer(w):
            spans.append(span(m, "v", 90, self._header_maker(m.group("h"), m.group("v"))))
        for m in BEARER.finditer(w):
            v = m.group("v")
            if not assign.benign(v, quoted=True):
                spans.append(span(m, "v", 60, self._token_maker(v, "bearer")))
        for m in BASIC.finditer(w):
            v = m.group("v")
            try:
                decoded = base64.b64decode(v + "=" * (-len(v) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            if b":" in decoded:
                spans.append(span(m, "v", 60, self._maker("basic", v)))
        for m in CURL_USER.finditer(w):
            parts = m.group("v").replace('"', "").replace("'", "").split(":", 1)
            # -u "$USER:$PASS", -u ':' and the like name no credential
            if not all(assign.benign(p, quoted=True) for p in parts if p):
                spans.append(span(m, "v", 85, self._maker("basic", m.group("v"))))

    def _pii_spans(self, w: str, groups: set[int], spans: list[Span]) -> None:
        for group, rx, valid, kind in _PII_CHECKS:
            if group in groups:
                for m in rx.finditer(w):
                    if valid(m):
                        spans.append(span(m, 0, 30, self._maker(kind, m.group(0))))


_PII_CHECKS: tuple[tuple[int, re.Pattern[str], Callable[[re.Match[str]], bool], str], ...] = (
    (G_EMAIL, pii.EMAIL, lambda m: pii.is_email(m.group(0)), "email"),
    (
        G_CARD,
        pii.CARD,
        lambda m: pii.is_card(m.group(0), m.string[max(0, m.start() - 60) : m.start()]),
        "card",
    ),
    (G_PHONE, pii.PHONE, lambda m: pii.is_phone(m.group(0)), "phone"),
    (G_SSN, pii.SSN, lambda m: True, "ssn"),
    (G_IBAN, pii.IBAN, lambda m: pii.is_iban(m.group(0)), "iban"),
    (G_IP, pii.IPV4, lambda m: pii.is_public_ip(m.group(0)), "ip"),
)


def _constant(text: str) -> Callable[[], str]:
    return lambda: text
