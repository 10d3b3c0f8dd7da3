"""The streaming template miner: learn and match one message at a time.

Every message is looked up by two cheap signatures before any real work:
its bytes with digits zeroed and hex ids standing alone reduced to one mark
(two C calls), then its masked text (one regex pass). A new shape goes the slow path, in this order of explanations:

1. a template of the same token count agrees on enough constant tokens, no
   level or outcome word differs, and every difference looks like a value
   (``uid=0``/``uid=7``, a wildcard against a word): those become wildcards;
2. a template of a nearby length differs only by values that are omitted or
   take other token counts (``123 bytes sent`` / ``123 bytes (1.2 KB) sent``,
   see :mod:`casework.mining.gaps`): it stretches to cover both;
3. two unrelated words at one position (``VM Paused``/``VM Resumed``) stay
   apart until that position has shown ``DISTINCT_WORDS`` distinct words: a
   few words enumerate events, many are a variable;
4. a template whose wildcard can take several tokens (a user name with a
   space) fits it; otherwise a new cluster starts.

Cluster ids never change meaning: when a template generalises so that it now
covers another cluster, that cluster is folded in and its id becomes an alias.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from casework.mining import state
from casework.mining.align import (
    fits_spanning,
    generalize,
    is_protected,
    is_value_like,
    param_pattern,
    token_matches,
)
from casework.mining.clusters import Cluster, ClusterIndex
from casework.mining.gaps import merge_lengths
from casework.mining.masks import HEX_NOT_AFTER, HEX_NOT_BEFORE, HEX_VALUE, OPT, VAR, mask, render

#: A template absorbs a message when at least this share of its constant
#: tokens agree position by position (level/outcome words veto regardless).
SIMILARITY = 0.7
#: Distinct unrelated words a position must show before it becomes a wildcard.
DISTINCT_WORDS = 4
#: How many tokens a message may be longer or shorter than a template it joins.
LENGTH_REACH = 3
#: Entries in the two signature caches together; beyond it they restart empty.
SIGNATURE_CACHE = 200_000

_ZERO_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
#: Hex digits to "x", every other byte to a space: a message whose bytes under this table hold
#: no run of eight "x" has nothing ``HEX_VALUE`` matches (its shortest match is 8 hex digits),
#: so the regex, a few microseconds per message, is skipped for it.
_HEX_RUNS = bytes(ord("x") if chr(b) in "0123456789abcdefABCDEF" else ord(" ") for b in range(256))
_EIGHT = b"xxxxxxxx"
_ANY_DIGIT = re.compile(r"\d")
#: Stands in for a hex id in shape signatures (see ``masks.HEX_VALUE``).
HEX_MARK = "\x02"
_MARK_BYTES = HEX_MARK.encode()


def hex_marked(message: str, raw: bytes, runs: bytes, first: int) -> bytes:
    """``HEX_VALUE.sub(HEX_MARK, message)`` as bytes, for an ASCII ``message`` (``raw``: its
    bytes; ``runs``: them under ``_HEX_RUNS``; ``first``: where the first eight "x" start).

    A match can start only where a run of at least eight hex digits starts (its first
    character is a hex digit, and no word character may precede it). A run not followed by
    a dash can only match whole, as the regex's second branch: it does when it holds a digit
    and a letter and the characters around it are allowed there, checked here without the
    regex. A run followed by a dash may begin a UUID, and the regex decides. Per message of
    the benchmark's Java log: 4.3-4.9 us with ``sub``, 2.3-2.4 with the regex at run starts.
    """
    pieces: list[bytes] = []
    done = 0
    at = first
    size = len(raw)
    while at >= 0:
        end = runs.find(b" ", at)
        if end < 0:
            end = size
        after = message[end] if end < size else ""
        stop: int | None = None
        if after == "-":
            found = HEX_VALUE.match(message, at)
            if found is not None:
                stop = found.end()
        elif (
            (at == 0 or message[at - 1] not in HEX_NOT_BEFORE)
            and after not in HEX_NOT_AFTER
            and not (run := raw[at:end]).isdigit()
            and not run.isalpha()
        ):
            stop = end
        if stop is None:
            at = runs.find(_EIGHT, end)
        else:
            pieces += (raw[done:at], _MARK_BYTES)
            done = stop
            at = runs.find(_EIGHT, done)
    if not pieces:
        return raw
    pieces.append(raw[done:])
    return b"".join(pieces)


@dataclass(frozen=True)
class Template:
    """A mined template as callers see it; ``id`` depends on ``text`` only."""

    id: str
    text: str
    count: int
    seen_before: bool = False


def template_id(text: str) -> str:
    """Stable id of a template text, the same in every run and on every machine."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


class TemplateMiner:
    """Online log template miner; see the module docstring for how it decides."""

    def __init__(
        self, *, similarity: float = SIMILARITY, distinct_words: int = DISTINCT_WORDS
    ) -> None:
        self.similarity = similarity
        self.distinct_words = distinct_words
        self.index = ClusterIndex(similarity)
        self.known: set[str] = set()
        self._families: dict[tuple[object, ...], list[int]] = {}
        self._signatures: dict[str, Cluster] = {}
        self._shapes: dict[bytes, Cluster] = {}
        self._next_id = 1

    # -- public API ---------------------------------------------------------
    def add(self, message: str) -> int:
        """Learn from one message and return its cluster id (valid for the miner's life)."""
        if HEX_MARK in message:  # the shape's stand-in for a hex id: no shape for this one
            cluster = self._slow_add(message, None)
        else:
            raw = message.encode("utf-8", "surrogatepass")
            runs = raw.translate(_HEX_RUNS)
            first = runs.find(_EIGHT)
            if first >= 0:
                raw = (
                    hex_marked(message, raw, runs, first)
                    if message.isascii()
                    else HEX_VALUE.sub(HEX_MARK, message).encode("utf-8", "surrogatepass")
                )
            shape = raw.translate(_ZERO_DIGITS)
            cluster = self._shapes.get(shape) or self._slow_add(message, shape)
        while cluster.merged_into is not None:
            cluster = cluster.merged_into
        cluster.count += 1
        return cluster.cid

    def _slow_add(self, message: str, shape: bytes | None) -> Cluster:
        masked = mask(message)
        cluster = self._signatures.get(masked)
        if cluster is None:
            cluster = self._learn(masked.split())
            self._signatures[masked] = cluster
        # Only shapes whose digits all fell into wildcards are stored under the
        # digit-zeroed key, so a hit never merges two constants ("ssh1"/"ssh2").
        if shape is not None and not _ANY_DIGIT.search(masked):
            self._shapes[shape] = cluster
        if len(self._shapes) + len(self._signatures) >= SIGNATURE_CACHE:
            self._shapes.clear()  # bounded memory; a shape relearns in one lookup
            self._signatures.clear()
        return cluster

    def match(self, message: str) -> int | None:
        """The cluster id a message belongs to, without learning; None if none fits."""
        toks = mask(message).split()
        for cluster in self.index.candidates(toks):
            if all(token_matches(t, x) for t, x in zip(cluster.tokens, toks, strict=True)):
                return cluster.cid
        found = self._fit_spanning(toks)
        return found.cid if found else None

    def resolve(self, cid: int) -> int:
        """The live cluster an id (possibly an alias of a merged cluster) stands for."""
        return self.index.resolve(cid)

    def template(self, cid: int) -> Template:
        """Current template of a cluster id (aliases resolve to the surviving cluster)."""
        return self._public(self.index.clusters[self.index.resolve(cid)])

    def templates(self) -> list[Template]:
        """All templates, most frequent first."""
        ranked = sorted(self.index.clusters.values(), key=lambda c: (-c.count, c.cid))
        return [self._public(c) for c in ranked]

    def is_known(self, tid: str) -> bool:
        """Whether a template id was already known when this miner's state was loaded."""
        return tid in self.known

    def params(self, message: str, cid: int) -> list[str]:
        """Values a message puts into its template's wildcards ([] if it does not fit).

        An omittable value the message leaves out comes back as "".
        """
        tokens = self.index.clusters[self.index.resolve(cid)].tokens
        found = param_pattern(tokens).match(" ".join(message.split()))
        return [g or "" for g in found.groups()] if found else []

    def save(self, path: str | Path) -> None:
        """Persist templates, counts, aliases and known ids as JSON."""
        clusters = [(c.cid, c.tokens, c.count) for c in self.index.clusters.values()]
        known = self.known | {t.id for t in self.templates()}
        state.dump(Path(path), clusters, self.index.aliases, known, self._next_id)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        similarity: float = SIMILARITY,
        distinct_words: int = DISTINCT_WORDS,
    ) -> TemplateMiner:
        """A miner that continues from a saved state; its templates count as known."""
        doc = state.read(Path(path))
        miner = cls(similarity=similarity, distinct_words=distinct_words)
        for cid, tokens, count in doc["clusters"]:
            miner.index.add(Cluster(cid, tokens, count))
        miner.index.aliases.update(doc["aliases"])
        miner._next_id = max([doc["next_id"], *(c + 1 for c in miner.index.clusters)])
        miner.known = doc["known"] | {t.id for t in miner.templates()}
        return miner

    # -- learning -----------------------------------------------------------
    def _learn(self, toks: list[str]) -> Cluster:
        best = self._closest(toks)
        if best is not None and not best[2]:
            cluster, diffs, _ = best
            if diffs:
                merged = list(cluster.tokens)
                for i in diffs:
                    merged[i] = generalize(merged[i], toks[i])
                self._widen(cluster, tuple(merged))
            return cluster
        # Omitted or stretched values explain a message better than a new word
        # would; a wildcard swallowing extra words is the weakest explanation.
        stretched = self._fit_spanning(toks, optional_only=True) or self._merge_other_length(toks)
        if stretched is not None:
            return stretched
        if best is not None:
            return self._defer(best[0], toks, best[2])
        return self._fit_spanning(toks) or self._new_cluster(tuple(toks))

    def _merge_other_length(self, toks: list[str]) -> Cluster | None:
        """Widen a template of a nearby length whose differences to toks are all values."""
        present = set(toks)
        for cluster in self.index.near_lengths(len(toks), LENGTH_REACH):
            if len(cluster.words & present) < self.similarity * len(cluster.words):
                continue
            merged = merge_lengths(cluster.tokens, toks, self.similarity)
            if merged is not None:
                self._widen(cluster, merged, stretch=True)
                return cluster
        return None

    def _closest(self, toks: list[str]) -> tuple[Cluster, list[int], list[int]] | None:
        """Best same-length cluster: value-only differences first, then most agreement."""
        best: tuple[Cluster, list[int], list[int]] | None = None
        best_score: tuple[bool, float, int] = (False, -1.0, -1)
        for cluster in self.index.candidates(toks):
            constants = cluster.constants
            # Misses it can afford; a short message may still differ in one
            # token, and the word-family rule decides whether that is a value.
            budget = max(1.0, constants - self.similarity * constants)
            agree = 0
            diffs: list[int] = []
            words: list[int] = []
            for i, (t, x) in enumerate(zip(cluster.tokens, toks, strict=True)):
                if t == x:
                    agree += t != VAR
                elif t in (VAR, OPT):
                    continue
                elif VAR in t and token_matches(t, x):
                    agree += 1
                elif is_protected(t) or is_protected(x):
                    break
                else:
                    (diffs if is_value_like(t, x) else words).append(i)
                    if len(diffs) + len(words) > budget:
                        break
            else:
                if (diffs or words) and not agree:
                    continue
                share = agree / constants if constants else 1.0
                score = (not words, 1.0 if not diffs else share, agree)
                if score > best_score:
                    best, best_score = (cluster, diffs, words), score
        return best

    def _defer(self, near: Cluster, toks: list[str], words: list[int]) -> Cluster:
        # A new cluster for now; the family (same text apart from these word
        # positions) remembers it, and enough distinct words turn the
        # positions into wildcards for the whole family at once.
        key = (len(toks), tuple(words), *(t for i, t in enumerate(near.tokens) if i not in words))
        family = self._families.setdefault(key, [near.cid])
        family[:] = sorted({self.index.resolve(c) for c in family})
        cluster = self._new_cluster(tuple(toks))
        family.append(cluster.cid)
        if len(family) < self.distinct_words:
            return cluster
        del self._families[key]
        target = self.index.clusters[family[0]]
        merged = target.tokens
        for cid in family[1:]:
            other = self.index.clusters[cid].tokens
            if len(other) == len(merged):  # a member may have stretched meanwhile
                merged = tuple(generalize(a, b) for a, b in zip(merged, other, strict=True))
        self._widen(target, merged)
        return target

    def _fit_spanning(self, toks: list[str], optional_only: bool = False) -> Cluster | None:
        """The most specific template of another length whose wildcards can absorb toks.

        ``optional_only`` limits it to templates that learned an omittable value
        (evidence from values, not from words).
        """
        best: Cluster | None = None
        for cluster in self.index.spanning(toks):
            if cluster.constants < 2 or (best and cluster.constants <= best.constants):
                continue
            if optional_only and OPT not in cluster.tokens:
                continue
            if fits_spanning(cluster.tokens, toks):
                best = cluster
        return best

    def _widen(self, cluster: Cluster, tokens: tuple[str, ...], stretch: bool = False) -> None:
        # A wider template may now cover older, narrower clusters of the same
        # length: fold them in so one template never splits into two groups.
        self.index.retemplate(cluster, tokens)
        peers = [self.index.clusters[cid] for cid in self.index.by_len[len(tokens)]]
        for other in peers:
            if other.cid != cluster.cid and all(
                token_matches(t, x) for t, x in zip(tokens, other.tokens, strict=True)
            ):
                self.index.fold(other, cluster)
        if stretch:
            for other in self.index.spanning_covered(cluster):
                self.index.fold(other, cluster)

    def _new_cluster(self, tokens: tuple[str, ...]) -> Cluster:
        cluster = Cluster(self._next_id, tokens)
        self._next_id += 1
        self.index.add(cluster)
        return cluster

    def _public(self, cluster: Cluster) -> Template:
        text = render(cluster.tokens)
        tid = template_id(text)
        return Template(tid, text, cluster.count, tid in self.known)
