"""Token-level comparison of a message with a template: match, generalise, align.

Tokens are masked strings in which ``VAR`` stands for a value. A template
token is either constant text, exactly ``VAR`` (any one token), or text with
``VAR`` inside (``user=VAR``, ``com.apple.VAR:``), which matches by pattern.
"""

from __future__ import annotations

import re
from functools import lru_cache

from casework.mining.masks import OPT, VAR

# Pieces of a token: word runs (and wildcards) versus the punctuation between.
_PIECES = re.compile(r"([^\w\x00])")

#: Token count (template plus message) above which no stretching alignment is tried.
ALIGN_LIMIT = 400
_WORD = re.compile(r"[A-Za-z0-9]")
_ZERO_DIGITS = str.maketrans("123456789", "000000000")
# Words that change what a message means even at the same position: a line
# that says ERROR is not the INFO line with a value filled in.
_LEVELS_AND_OUTCOMES = (
    "trace debug info notice warn warning error err fatal critical crit severe alert emerg"
    " emergency panic failed success succeeded ok start stop started stopped open close"
    " closed opened enabled disabled up down accepted rejected denied allowed"
)
_PROTECTED = frozenset(
    variant
    for word in _LEVELS_AND_OUTCOMES.split()
    for variant in (word, word.upper(), word.capitalize())
)
_STRIP = "[]()<>{}:;,.'\"!|*#-"


@lru_cache(maxsize=65536)
def is_protected(token: str) -> bool:
    """True for a level or outcome word (bracketed or not) that must stay constant."""
    return token.strip(_STRIP) in _PROTECTED


@lru_cache(maxsize=4096)
def token_pattern(token: str) -> re.Pattern[str]:
    """Regex for a template token with a wildcard inside it."""
    parts = [re.escape(p) for p in token.split(VAR)]
    return re.compile("(.+?)".join(parts) + r"\Z", re.DOTALL)


def token_matches(template_token: str, token: str) -> bool:
    """Whether one message token fits one template token."""
    if template_token in (token, VAR, OPT):
        return True
    if VAR not in template_token:
        return False
    return token_pattern(template_token).match(token) is not None


def _diff(a: str, b: str) -> tuple[str, str, str, str]:
    """Split two tokens into shared head, the two differing middles, shared tail."""
    pa = [p for p in _PIECES.split(a) if p]
    pb = [p for p in _PIECES.split(b) if p]
    head = 0
    limit = min(len(pa), len(pb))
    while head < limit and pa[head] == pb[head]:
        head += 1
    tail = 0
    while tail < limit - head and pa[-1 - tail] == pb[-1 - tail]:
        tail += 1
    return (
        "".join(pa[:head]),
        "".join(pa[head : len(pa) - tail]),
        "".join(pb[head : len(pb) - tail]),
        "".join(pa[len(pa) - tail :]) if tail else "",
    )


def generalize(a: str, b: str) -> str:
    """The most specific token that both ``a`` and ``b`` fit.

    Shared leading and trailing pieces stay constant and the middle becomes a
    wildcard, so ``user=root``/``user=bob`` give ``user=VAR`` and
    ``setLightsOn(1)``/``setLightsOn(0)`` give ``setLightsOn(VAR)``.
    """
    if a == b:
        return a
    if OPT in (a, b):
        return OPT  # stays omittable
    head, _, _, tail = _diff(a, b)
    return _squash(head + VAR + tail) if head or tail else VAR


@lru_cache(maxsize=65536)
def is_value_like(a: str, b: str) -> bool:
    """Whether two differing tokens look like two values of one slot.

    True when one is a wildcard, when they share a word around the difference
    (``user=root``/``user=bob``), or when one side of the difference is empty
    or already a value (``()``/``(VAR)``). Two unrelated words (``Started``/
    ``Paused``, ``overlap:VAR``/``ret:VAR``) are not: whether that position is
    a variable is left to how many distinct words it shows (see the miner).
    """
    if a == VAR or b == VAR or a.translate(_ZERO_DIGITS) == b.translate(_ZERO_DIGITS):
        return True  # a wildcard, or the same word with other digits (eth0/eth1)
    head, mid_a, mid_b, tail = _diff(a, b)
    if not (head or tail):
        return False
    return not mid_a or not mid_b or VAR in mid_a or VAR in mid_b


def _squash(token: str) -> str:
    # Adjacent wildcards, or wildcards joined by id punctuation (VAR.VAR,
    # VAR-VAR), describe one value.
    prev = None
    while prev != token:
        prev = token
        token = token.replace(VAR + VAR, VAR)
        for sep in (".", "-", "_", "/"):
            token = token.replace(VAR + sep + VAR, VAR)
    return token


def fits_spanning(template: tuple[str, ...], toks: list[str]) -> bool:
    """Whether toks fit the template when ``VAR`` takes 1+ tokens and ``OPT`` 0+ values.

    Used only on the slow path (new message shapes); memoised, so the cost is
    at most len(template) * len(toks) steps per wildcard.
    """
    n, m = len(template), len(toks)
    if n + m > ALIGN_LIMIT:
        return False  # recursion depth and time grow with n + m; huge lines stay exact
    memo: dict[tuple[int, int], bool] = {}

    def fits(i: int, j: int) -> bool:
        key = (i, j)
        hit = memo.get(key)
        if hit is not None:
            return hit
        if i == n:
            ok = j == m
        elif template[i] == OPT:
            # An omittable value takes only value tokens: "(VAR)", never words.
            ok = fits(i + 1, j) or (j < m and VAR in toks[j] and fits(i, j + 1))
        elif j == m:
            ok = False
        elif template[i] == VAR:
            ok = any(fits(i + 1, k) for k in range(j + 1, m + 1))
        else:
            ok = token_matches(template[i], toks[j]) and fits(i + 1, j + 1)
        memo[key] = ok
        return ok

    return fits(0, 0)


@lru_cache(maxsize=4096)
def param_pattern(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """Regex over a whitespace-collapsed raw message with one group per wildcard."""
    out: list[str] = []
    glued = True  # no separator needed before the next token
    for i, tok in enumerate(tokens):
        if tok == OPT and i == len(tokens) - 1:
            out.append(r"(?:\s+(.+?))?" if out else r"(.*?)")
            continue
        if not glued:
            out.append(r"\s+")
        if tok == OPT:
            out.append(r"(?:(.+?)\s+)?")  # the value and its space are optional together
            glued = True
            continue
        out.append("(.+?)".join(re.escape(piece) for piece in tok.split(VAR)))
        glued = False
    return re.compile("".join(out) + r"\Z", re.DOTALL)
