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
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable

from casework.redact import assign, pii
from casework.redact.names import Sensitivity, classify, looks_like_credential, session_like
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
    kind_for,
    triggers,
)

_QUERY_REST = re.compile(r"&[\w.\-\[\]%]+=")
_LINE_PREFIX = re.compile(r"[ \t]*(?:-[ \t]+|export[ \t]+)?[\"']?")

Span = tuple[int, int, int, Callable[[], str]]


class TextEngine(ABC):
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

    @abstractmethod
    def pair_value(self, name: str, value: str, mode: str) -> str:
        """Redact the value of a name/value pair: ``mode`` is "cookie", "param" or "" (header)."""

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

    def _window(self, w: str, groups: set[int]) -> str:
        spans: list[Span] = []
        if "«" in w:
            # existing placeholders are kept as they are (redaction is idempotent)
            for m in PLACEHOLDER_RE.finditer(w):
                spans.append(_span(m, 0, 1000, _constant(m.group(0))))
        if G_ASSIGN in groups:
            self._assignments(w, spans)
        if G_AUTH in groups:
            self._auth(w, spans)
        if G_URL in groups:
            for m in USERINFO.finditer(w):
                if m.group("v") and not assign.benign(m.group("v"), quoted=True):
                    self._pw(m, spans)
                    if m.group("user"):
                        spans.append(_span(m, "user", 85, self._maker("username", m.group("user"))))
        for g in groups:
            if g >= G_TOKEN:
                rule = TOKEN_RULES[g - G_TOKEN]
                for m in rule.regex.finditer(w):
                    grp = "s" if "s" in rule.regex.groupindex else 0
                    spans.append(_span(m, grp, 50, self._maker(rule.kind, m.group(grp))))
        self._pii_spans(w, groups, spans)
        return _apply(w, spans)

    def _maker(self, kind: str, value: str) -> Callable[[], str]:
        return lambda: self.secret(kind, value)

    def _token_maker(self, value: str, kind: str) -> Callable[[], str]:
        return lambda: self.token(value, kind)

    def _header_maker(self, name: str, value: str) -> Callable[[], str]:
        return lambda: self.header(name, value)

    def _pw(self, m: re.Match[str], spans: list[Span]) -> None:
        v = m.group("v")
        if v and not assign.benign(v, quoted=True):
            spans.append(_span(m, "v", 85, self._maker("password", v)))

    def _auth(self, w: str, spans: list[Span]) -> None:
        for m in HEADER_TEXT.finditer(w):
            spans.append(_span(m, "v", 90, self._header_maker(m.group("h"), m.group("v"))))
        for m in BEARER.finditer(w):
            v = m.group("v")
            if not assign.benign(v, quoted=True):
                spans.append(_span(m, "v", 60, self._token_maker(v, "bearer")))
        for m in BASIC.finditer(w):
            v = m.group("v")
            try:
                decoded = base64.b64decode(v + "=" * (-len(v) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            if b":" in decoded:
                spans.append(_span(m, "v", 60, self._maker("basic", v)))
        for m in CURL_USER.finditer(w):
            parts = m.group("v").replace('"', "").replace("'", "").split(":", 1)
            # -u "$USER:$PASS", -u ':' and the like name no credential
            if not all(assign.benign(p, quoted=True) for p in parts if p):
                spans.append(_span(m, "v", 85, self._maker("basic", m.group("v"))))

    def _assignments(self, w: str, spans: list[Span]) -> None:
        done = -1
        for end in assign.keyword_starts(w):
            if end < done:
                continue
            start = end
            while start > 0 and w[start - 1] in assign.NAME_CHARS:
                start -= 1
            while end < len(w) and w[end] in assign.NAME_CHARS:
                end += 1
            done = end
            cli_flag = w.startswith("--", start)
            if (start > 0 and w[start - 1] == "«") or (not cli_flag and _prose_follows(w, end)):
                continue
            if classify(w[start:end]) is Sensitivity.NONE:
                continue
            m = assign.ASSIGN_TAIL.match(w, end)
            if m is not None:
                self._assignment(w, w[start:end], start, m, spans)
        # the rarer shapes run only when their punctuation is present
        if "==" in w or "!=" in w:
            for m in assign.REVERSED.finditer(w):
                self._named(m, m.group("name"), "v", True, False, spans)
        if "</" in w:
            for m in assign.XML.finditer(w):
                self._named(m, m.group("name"), "v", True, False, spans)
        if '"name"' in w:
            for rx in (assign.PAIR, assign.PAIR_REVERSED):
                for m in rx.finditer(w):
                    self._pair(m, "v", spans)
        if "value=" in w or "value =" in w:
            for m in assign.ATTR_PAIR.finditer(w):
                self._pair(m, "v", spans)
        if "name:" in w:
            for m in assign.YAML_PAIR.finditer(w):
                grp = next(g for g in ("v1", "v2", "v3") if m.group(g) is not None)
                self._pair(m, grp, spans)

    def _pair(self, m: re.Match[str], grp: str, spans: list[Span]) -> None:
        name, v = m.group("name"), m.group(grp)
        # inside a HAR "cookies": [...] array every value is a cookie value
        w, at = m.string, m.start()
        lo = max(0, at - 4096)
        mode = "cookie" if w.rfind('"cookies"', lo, at) > w.rfind("]", lo, at) else ""
        if v and (
            mode or classify(name) is not Sensitivity.NONE or name.lower() in _SPECIAL_HEADERS
        ):
            spans.append(_span(m, grp, 80, lambda: self.pair_value(name, v, mode)))

    def _assignment(
        self, w: str, name: str, start: int, m: re.Match[str], spans: list[Span]
    ) -> None:
        op = m.group("op")
        grp = next(g for g in ("v1", "v2", "v3", "v4", "v5") if m.group(g) is not None)
        quoted = grp != "v5"
        v = m.group(grp)
        # "--password hunter2" is a value; "use --password to set it" is prose
        cli_value = (
            name.startswith("--")
            and bool(m.group("sp"))
            and not v.startswith("-")
            and (not v.isalpha() or len(v) >= 12)
        )
        if op is None and not (quoted and (m.group("sp") or m.group("post"))) and not cli_value:
            return
        if assign.quoted_only(op) and not quoted and not cli_value:
            return
        if op == "," and (
            not m.group("post") or w[m.end() : m.end() + 8].lstrip(' \\"').startswith(":")
        ):
            return  # setProperty("NAME", "value"), not a JSON key after a JSON value
        if op is None and grp == "v4":
            return  # name `code span` in Markdown is prose
        url_param = op == "=" and start > 0 and w[start - 1] in "?&#;"
        end = m.end(grp)
        if not quoted and op in (":", "=", ":=", "=>"):
            line_start = w.rfind("\n", 0, start) + 1
            eol = w.find("\n", end)
            eol = len(w) if eol < 0 else eol
            if (
                _LINE_PREFIX.fullmatch(w, line_start, start)
                and not _QUERY_REST.search(w, end, eol)
                and not assign.benign(m.group(grp), quoted=False, name=name)
            ):
                end = len(w[:eol].rstrip())
        self._named(m, name, grp, quoted, url_param, spans, end=end)

    def _named(
        self,
        m: re.Match[str],
        name: str,
        grp: str,
        quoted: bool,
        url_param: bool,
        spans: list[Span],
        end: int | None = None,
    ) -> None:
        start = m.start(grp)
        stop = m.end(grp) if end is None else end
        value = m.string[start:stop]
        if not value:
            return
        sens = classify(name)
        if sens is Sensitivity.NONE:
            return
        if sens is Sensitivity.WEAK and (
            len(value) < 8
            if url_param
            else not looks_like_credential(value, allow_hex=session_like(name))
        ):
            return
        if assign.benign(value, quoted=quoted, name=name):
            return
        kind = kind_for(name)
        spans.append((start, stop, 70, lambda: self.token(value, kind)))

    def _pii_spans(self, w: str, groups: set[int], spans: list[Span]) -> None:
        for group, rx, valid, kind in _PII_CHECKS:
            if group in groups:
                for m in rx.finditer(w):
                    if valid(m):
                        spans.append(_span(m, 0, 30, self._maker(kind, m.group(0))))


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
_SPECIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def _prose_follows(w: str, end: int) -> bool:
    """A word right after the name ("password for user x"): no operator, no quote, no value."""
    j = end
    n = len(w)
    while j < n and w[j] in " \t":
        j += 1
    return j > end and j < n and w[j].isalnum() and not w.startswith("string", j)


def _constant(text: str) -> Callable[[], str]:
    return lambda: text


def _span(m: re.Match[str], grp: int | str, prio: int, make: Callable[[], str]) -> Span:
    return (m.start(grp), m.end(grp), prio, make)


def _apply(w: str, spans: list[Span]) -> str:
    if not spans:
        return w
    spans.sort(key=lambda s: (-s[2], s[0] - s[1], s[0]))
    taken: list[Span] = []
    for sp in spans:
        if sp[0] < sp[1] and all(sp[1] <= t[0] or sp[0] >= t[1] for t in taken):
            taken.append(sp)
    taken.sort(key=lambda s: s[0])
    out: list[str] = []
    pos = 0
    for start, end, _prio, make in taken:
        out.append(w[pos:start])
        out.append(make())
        pos = end
    out.append(w[pos:])
    return "".join(out)
