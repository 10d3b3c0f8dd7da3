"""Secrets found by their name: the keyword rules of the text engine.

``password=…``, ``"client_secret": "…"``, ``<apiToken>…</apiToken>``,
``{"name": "Cookie", "value": "…"}``, ``- name: DB_PASSWORD / value: …``,
``--password …`` and ``"…" == secret`` all end here; which names count and
which values are placeholders is decided in :mod:`names` and :mod:`assign`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

from casework.redact import assign
from casework.redact.names import Sensitivity, classify, looks_like_credential, session_like
from casework.redact.rules import kind_for
from casework.redact.spans import Span, span

# what may follow `name "value"` (no operator): the end of a statement or a CLI argument
_ENDS_STATEMENT = re.compile(r"[ \t]*(?:[;)]|[ \t]\d|[ \t]-)")
# more name=value pairs after the value (a=1&b=2, SID=x; path=/): the value ends before them
_MORE_PAIRS = re.compile(r"[;,&\s][ \t]*[A-Za-z_][\w.\-\[\]%]*[ \t]*[=:]")
_LINE_PREFIX = re.compile(r"[ \t]*(?:-[ \t]+|export[ \t]+)?[\"']?")
_SPECIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class NamedRules(ABC):
    """The keyword rules; the engine supplies how a value becomes a placeholder."""

    @abstractmethod
    def token(self, value: str, default_kind: str) -> str:
        """The placeholder for a secret value."""

    @abstractmethod
    def pair_value(self, name: str, value: str, mode: str) -> str:
        """Redact the value of a name/value pair: ``mode`` is "cookie", "param" or "" (header)."""

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
            spans.append(span(m, grp, 80, lambda: self.pair_value(name, v, mode)))

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
        if (
            op is None
            and not cli_value
            and not (
                quoted and (m.group("sp") or m.group("post")) and _ENDS_STATEMENT.match(w, m.end())
            )
        ):
            return  # password "x"; is code, unexpected token 'x' is prose
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
        if not quoted and op in (":", "=", ":=", "=>") and _starts_line(w, start):
            eol = w.find("\n", end)
            eol = len(w) if eol < 0 else eol
            if not _MORE_PAIRS.search(w, end, eol) and not assign.benign(
                m.group(grp), quoted=False, name=name
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


def _starts_line(w: str, start: int) -> bool:
    """Only blanks, a YAML dash, ``export`` or a quote before the name on its line."""
    lo = max(0, start - 16)  # a bounded look back: no quadratic scans on huge lines
    nl = w.rfind("\n", lo, start)
    if nl < 0 and lo > 0:
        return False
    return _LINE_PREFIX.fullmatch(w, nl + 1, start) is not None


def _prose_follows(w: str, end: int) -> bool:
    """A word right after the name ("password for user x"): no operator, no quote, no value."""
    j = end
    n = len(w)
    while j < n and w[j] in " \t":
        j += 1
    return j > end and j < n and w[j].isalnum() and not w.startswith("string", j)
