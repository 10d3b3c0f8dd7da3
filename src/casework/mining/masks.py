"""Variable masking for log messages: one regex pass per line, classification per atom.

A message is split on whitespace into tokens; inside a token, *atoms* are the
runs of word characters and ``. - / + ~ % $ @``, separated by punctuation such
as ``: = , ; ( ) [ ] < > ' "``. An atom that is a value (a number, an IP, a hex
id, a block id, a value after ``=``, a URL, a host in ``host:port``) becomes
the wildcard ``VAR``, the punctuation around it is kept, so ``(uid=0)`` reads
``(uid=<*>)`` and ``10.0.0.1:8080`` reads ``<*>:<*>``.

Inside the miner a wildcard is the single character ``VAR`` (NUL): it cannot
occur in text we keep, it never collides with ``<*>`` written by a user, and a
template token stays one string that compares with ``==``.
"""

from __future__ import annotations

import re

VAR = "\x00"
#: A wildcard that may also be empty: a value some messages of a template omit.
OPT = "\x01"
WILDCARD = "<*>"

# One pass finds every place a value can hide. Alternatives are tried in order:
# a URL (scheme://...), a host before a port, a value after "=", then any atom.
# Single dots join an atom (10.0.0.1, core.4711); a run of dots is punctuation.
_ATOM = r"[\w\-/+~%$\\]+(?:\.[\w\-/+~%$\\]+)*\.?"
_NUMBER = r"-?\d+(?:\.\d+)?"
_UNIT = r"(?:[KMGTP]i?B|B)"
_DAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_SCAN = re.compile(
    rf"(?P<date>\b{_DAY}{_MONTH}\s+\d{{1,2}},?\s+(?:\d{{4}}\s+)?"
    r"(?P<clock>\d{1,2}:\d{2}(?::\d{2})?)(?:[.,]\d+)?(?:\s+\d{4}\b)?)"
    r"|(?P<inet>(?<![\w.\-/])[\w.\-]+/\d{1,3}(?:\.\d{1,3}){3})(?![\w.])"
    rf"|(?P<size>(?<![\w.]){_NUMBER}\s?{_UNIT}\b)"
    r"|(?P<hexes>(?<![\w:])(?:[0-9A-Fa-f]{1,4}::?){2,7}[0-9A-Fa-f]{1,4}(?![\w:.]))"
    r"|(?P<request>(?:(?<=GET )|(?<=POST )|(?<=PUT )|(?<=DELETE )|(?<=HEAD )|(?<=PATCH ))"
    r"/\S* HTTP/\d(?:\.\d)?)"
    r"|(?P<email>(?<![\w.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"
    r"|(?P<path>(?<![\w.\-/\\])(?:[A-Za-z]:)?[/\\](?:[\w.\-*~$]+[/\\])+[\w.\-*~$]*)"
    r"|(?P<url>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>()\[\],;]+)"
    r"|(?P<host>(?<![\w.\-/])/?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)(?=:\d)"
    r"|=(?P<val>[\w.\-/+~%$@:#]*\d[\w.\-/+~%$@:#]*)"
    rf"|(?P<atom>{_ATOM})"
)
_HEX_BEFORE = r"[\w\-/+~%$\\.]"  # none of these may stand right before a hex id
_HEX_AFTER = r"[\w\-/+~%$\\.:@]"  # nor these right after it
#: Hex ids (at least 8 hex digits mixing digits and letters) and UUIDs standing alone as
#: atoms: ``mask`` turns each into one wildcard whatever its letters, so the miner's
#: shape signature may stand them in with one character (request ids, trace ids).
HEX_VALUE = re.compile(
    rf"(?<!{_HEX_BEFORE})"
    r"(?:(?=[0-9a-fA-F\-]{0,35}\d)(?=[0-9a-fA-F\-]{0,35}[a-fA-F])"
    r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
    r"|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,})"
    rf"(?!{_HEX_AFTER})"
)
#: The ASCII characters of those two classes, for checks without the regex.
HEX_NOT_BEFORE = frozenset(c for c in map(chr, range(128)) if re.fullmatch(_HEX_BEFORE, c))
HEX_NOT_AFTER = frozenset(c for c in map(chr, range(128)) if re.fullmatch(_HEX_AFTER, c))
_PREFIXED_NUMBER = re.compile(r"([A-Za-z]+[.\-#])\d+")
_HEX = re.compile(r"(?:0[xX])?[0-9a-fA-F]+(?:[\-:][0-9a-fA-F]+)*")
_DIGIT = re.compile(r"\d")
_HEX_LETTER = re.compile(r"[A-Fa-f]")
_WS = re.compile(r"\s+")

# Atoms that look like names even though they carry a digit (ssh2, SOCKS5,
# jk2_init, log4j, x86_64) stay constant here; if they do vary, the miner
# learns that from their position, which is the better judge.
_NAME_WITH_DIGIT = re.compile(r"[A-Za-z][A-Za-z_]*\d(?:[A-Za-z_]+)?")


_LITERALS = frozenset(("true", "false", "null", "True", "False", "NULL"))


def _classify(atom: str) -> str:
    """Return the atom itself when it is constant text, else its masked form."""
    if not _DIGIT.search(atom):
        # Booleans and nulls are values a program printed, never message text.
        return VAR if atom in _LITERALS else atom
    for sep in "/-":
        parts = atom.split(sep)
        if len(parts) > 1 and all(part.isdigit() for part in parts):
            return sep.join(VAR for _ in parts)  # a date like 2016/2/23 or 2017-07-03
    prefixed = _PREFIXED_NUMBER.fullmatch(atom)
    if prefixed:
        # "node-12", "core.4711": the word is the constant, the number the value.
        return prefixed.group(1) + VAR
    if _NAME_WITH_DIGIT.fullmatch(atom) and not _HEX_ID(atom):
        return atom
    return VAR


def _HEX_ID(atom: str) -> bool:
    return len(atom) >= 8 and _HEX.fullmatch(atom) is not None


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "atom":
        atom = match.group("atom")
        # A full stop ending a sentence is not part of the value before it.
        body = atom.rstrip(".")
        return _classify(body) + atom[len(body) :] if body else atom
    if kind == "url":
        url = match.group("url")
        body = url.rstrip(".:")  # sentence punctuation after a URL is not part of it
        scheme, _, _ = body.partition("://")
        return scheme + "://" + VAR + url[len(body) :]
    if kind == "date":
        # A calendar date with a clock reads as the clock does elsewhere.
        return ":".join(VAR for _ in match.group("clock").split(":"))
    if kind == "hexes":
        # A MAC or IPv6 address is one value; a clock (12:30:45) keeps its parts.
        text = match.group("hexes")
        if text.count(":") >= 4 or _HEX_LETTER.search(text):
            return VAR
        return ":".join(_classify(part) for part in text.split(":"))
    if kind == "val":
        return "=" + VAR
    if kind == "email":
        return VAR
    if kind == "path":
        return VAR  # a file path is a value as a whole
    if kind == "request":
        return VAR  # the request target and protocol of an HTTP request line
    if kind == "inet":
        # Java's InetAddress text, host/ip: two values, as the slash says.
        return VAR + "/" + VAR
    return VAR


def mask(message: str) -> str:
    """Mask the values of one message (the wildcard characters themselves become U+FFFD)."""
    if VAR in message or OPT in message:
        message = message.replace(VAR, "\ufffd").replace(OPT, "\ufffd")
    return _SCAN.sub(_replace, message)


def tokens(masked: str) -> list[str]:
    """Whitespace tokens of a masked message."""
    return masked.split()


def render(token_list: list[str] | tuple[str, ...]) -> str:
    """Template text a person reads: wildcards shown as ``<*>``."""
    return " ".join(token_list).replace(VAR, WILDCARD).replace(OPT, WILDCARD)


def collapse_ws(text: str) -> str:
    """Whitespace normalised the way templates are compared."""
    return _WS.sub(" ", text).strip()
