"""Merging a template with a message of another length: values that span or are omitted.

``123 bytes sent`` and ``123 bytes (1.2 KB) sent`` are one event whose second
value is sometimes absent; ``lifetime 00:01`` and ``lifetime <1 sec`` put
values of different token counts in one slot. The two token sequences are
aligned on their longest common subsequence of constant tokens (the
anchors); what lies between anchors is a gap. A gap is accepted only when it
holds a value: a gap on both sides becomes a wildcard ``VAR`` (1+ tokens)
when each side is mostly wildcard-bearing tokens; a gap on one side only becomes
``OPT`` (0+ tokens) when every token in it carries a wildcard. Any gap of
plain words means a different message, and the merge is refused.
"""

from __future__ import annotations

from casework.mining.align import ALIGN_LIMIT, token_matches
from casework.mining.masks import OPT, VAR

WILD = (VAR, OPT)


def _is_anchor(t: str, x: str) -> bool:
    if t in WILD:
        return t == VAR and x == VAR
    return token_matches(t, x)


def _anchors(template: tuple[str, ...], toks: list[str]) -> list[tuple[int, int]]:
    n, m = len(template), len(toks)
    # lcs[i][j]: longest common subsequence of template[i:] and toks[j:]
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = lcs[i], lcs[i + 1]
        for j in range(m - 1, -1, -1):
            if _is_anchor(template[i], toks[j]):
                row[j] = below[j + 1] + 1
            else:
                row[j] = max(below[j], row[j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if _is_anchor(template[i], toks[j]) and lcs[i][j] == lcs[i + 1][j + 1] + 1:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif lcs[i + 1][j] >= lcs[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _gap(t_gap: tuple[str, ...], x_gap: list[str]) -> str | None:
    """The wildcard a gap becomes, "" for no gap, or None when it is not a value."""
    if not t_gap and not x_gap:
        return ""
    if t_gap and x_gap:
        # Each side mostly values ("00:01" / "<1 sec"), never a run of words.
        for side in (t_gap, x_gap):
            valued = sum(1 for tok in side if VAR in tok or OPT in tok)
            if not valued or len(side) - valued > valued:
                return None
        return VAR
    side = t_gap or tuple(x_gap)
    return OPT if all(VAR in tok or OPT in tok for tok in side) else None


def merge_lengths(
    template: tuple[str, ...], toks: list[str], similarity: float
) -> tuple[str, ...] | None:
    """The template covering both sequences, or None when they are different messages."""
    if len(template) + len(toks) > ALIGN_LIMIT:
        return None
    anchors = _anchors(template, toks)
    kept = sum(1 for i, _ in anchors if template[i] not in WILD)
    constants = max(sum(1 for t in template if t not in WILD), sum(1 for x in toks if VAR not in x))
    if not constants or kept < similarity * constants:
        return None
    merged: list[str] = []
    prev_i = prev_j = -1
    for i, j in [*anchors, (len(template), len(toks))]:
        wildcard = _gap(template[prev_i + 1 : i], toks[prev_j + 1 : j])
        if wildcard is None:
            return None
        if wildcard:
            merged.append(wildcard)
        if i < len(template):
            merged.append(template[i])
        prev_i, prev_j = i, j
    return _collapse(merged)


def _collapse(tokens: list[str]) -> tuple[str, ...]:
    # Neighbouring wildcards are one value: VAR+OPT is VAR, OPT+OPT is OPT.
    out: list[str] = []
    for tok in tokens:
        if tok in WILD and out and out[-1] in WILD:
            out[-1] = VAR if VAR in (tok, out[-1]) else OPT
        else:
            out.append(tok)
    return tuple(out)
