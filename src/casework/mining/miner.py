"""The streaming template miner: learn and match one message at a time.

Every message is masked (one regex pass) and looked up by its masked text,
the cheap signature: repeated shapes cost one dict lookup. A new shape goes
the slow path: compare it with the templates of the same token count, and if
one agrees on enough constant tokens (and no level or outcome word differs),
the differing positions become wildcards; otherwise a template whose
wildcards can take several tokens (a user name with a space) may fit it;
otherwise it starts a new cluster.

Cluster ids never change meaning: when a template generalises so that it now
covers another cluster, that cluster is folded in and its id becomes an alias.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from casework.mining.align import (
    align,
    generalize,
    is_protected,
    is_value_like,
    token_matches,
)
from casework.mining.masks import VAR, mask, render

# A template absorbs a message when at least this share of its constant
# tokens agree position by position. Level/outcome words veto it regardless.
SIMILARITY = 0.5
# Two unrelated words at one position ("VM Started" / "VM Paused") are kept
# apart until the position has shown this many distinct words: a handful of
# words is an enumeration of events, many words are a variable (user names).
DISTINCT_WORDS = 4
SIGNATURE_CACHE = 200_000


@dataclass(frozen=True)
class Template:
    """A mined template as callers see it."""

    id: str
    text: str
    count: int
    seen_before: bool = False


def template_id(text: str) -> str:
    """Stable id of a template text, the same in every run and on every machine."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


@dataclass
class Cluster:
    """Mutable learning state of one template."""

    cid: int
    tokens: tuple[str, ...]
    count: int = 0

    @property
    def constants(self) -> int:
        return sum(1 for t in self.tokens if t != VAR)


class TemplateMiner:
    """Online log template miner; see the module docstring for how it decides."""

    def __init__(
        self, *, similarity: float = SIMILARITY, distinct_words: int = DISTINCT_WORDS
    ) -> None:
        self.similarity = similarity
        self.distinct_words = distinct_words
        self._families: dict[tuple[object, ...], list[int]] = {}
        self.clusters: dict[int, Cluster] = {}
        self.aliases: dict[int, int] = {}
        self.known: set[str] = set()
        self._by_len: dict[int, list[int]] = {}
        self._signatures: dict[str, int] = {}
        self._next_id = 1

    # -- public API ---------------------------------------------------------
    def add(self, message: str) -> int:
        """Learn from one message and return its cluster id."""
        masked = mask(message)
        cid = self._signatures.get(masked)
        if cid is None:
            cid = self._learn(masked.split())
            if len(self._signatures) >= SIGNATURE_CACHE:
                self._signatures.clear()  # bounded memory; shapes relearn in one lookup
            self._signatures[masked] = cid
        cluster = self.clusters[self.resolve(cid)]
        cluster.count += 1
        return cid

    def match(self, message: str) -> int | None:
        """The cluster id a message belongs to, without learning; None if none fits."""
        toks = mask(message).split()
        for cid in self._by_len.get(len(toks), ()):
            if all(token_matches(t, x) for t, x in zip(self.clusters[cid].tokens, toks)):
                return cid
        found = self._fit_variable_length(toks)
        return found.cid if found else None

    def resolve(self, cid: int) -> int:
        """The live cluster an id (possibly an alias of a merged cluster) stands for."""
        while cid in self.aliases:
            cid = self.aliases[cid]
        return cid

    def template(self, cid: int) -> Template:
        """Current template of a cluster id (aliases resolve to the surviving cluster)."""
        return self._public(self.clusters[self.resolve(cid)])

    def templates(self) -> list[Template]:
        """All templates, most frequent first."""
        ranked = sorted(self.clusters.values(), key=lambda c: (-c.count, c.cid))
        return [self._public(c) for c in ranked]

    def is_known(self, tid: str) -> bool:
        """Whether a template id was already known when this miner's state was loaded."""
        return tid in self.known

    def params(self, message: str, cid: int) -> list[str]:
        """Values a message puts into its template's wildcards ([] if it does not fit)."""
        text = render(self.clusters[self.resolve(cid)].tokens)
        found = _param_pattern(text).match(" ".join(message.split()))
        return list(found.groups()) if found else []

    # -- learning -----------------------------------------------------------
    def _learn(self, toks: list[str]) -> int:
        best = self._closest_same_length(toks)
        if best is not None:
            cluster, diffs, words = best
            if not words:
                if diffs:
                    self._generalize(cluster, toks, diffs)
                return cluster.cid
            return self._defer(cluster, toks, words)
        fitted = self._fit_variable_length(toks)
        if fitted is not None:
            return fitted.cid
        return self._new_cluster(tuple(toks)).cid

    def _closest_same_length(
        self, toks: list[str]
    ) -> tuple[Cluster, list[int], list[int]] | None:
        best: tuple[Cluster, list[int], list[int]] | None = None
        best_score: tuple[bool, float, int] = (False, -1.0, -1)
        for cid in self._by_len.get(len(toks), ()):
            cluster = self.clusters[cid]
            agree = 0
            diffs: list[int] = []
            words: list[int] = []
            for i, (t, x) in enumerate(zip(cluster.tokens, toks)):
                if t == x:
                    agree += t != VAR
                elif t == VAR:
                    continue
                elif VAR in t and token_matches(t, x):
                    agree += 1
                elif is_protected(t) or is_protected(x):
                    break
                elif is_value_like(t, x):
                    diffs.append(i)
                else:
                    words.append(i)
            else:
                constants = cluster.constants
                share = agree / constants if constants else 1.0
                if (diffs or words) and share < self.similarity:
                    continue
                score = (not words, 1.0 if not diffs else share, agree)
                if score > best_score:
                    best, best_score = (cluster, diffs, words), score
        return best

    def _defer(self, near: Cluster, toks: list[str], words: list[int]) -> int:
        # A new cluster for now; the family (same text apart from these word
        # positions) remembers it, and enough distinct words turn the
        # positions into wildcards for the whole family at once.
        key = (len(toks), tuple(words), *(t for i, t in enumerate(near.tokens) if i not in words))
        family = self._families.setdefault(key, [near.cid])
        family[:] = [c for c in (self.resolve(c) for c in family) if c in self.clusters]
        cluster = self._new_cluster(tuple(toks))
        family.append(cluster.cid)
        if len(set(family)) < self.distinct_words:
            return cluster.cid
        target = self.clusters[min(family)]
        for cid in set(family) - {target.cid}:
            other = self.clusters[cid]
            target.tokens = tuple(generalize(a, b) for a, b in zip(target.tokens, other.tokens))
        del self._families[key]
        self._absorb_covered(target)
        return target.cid

    def _fit_variable_length(self, toks: list[str]) -> Cluster | None:
        best: Cluster | None = None
        for length, cids in self._by_len.items():
            if length >= len(toks):
                continue
            for cid in cids:
                cluster = self.clusters[cid]
                if VAR not in cluster.tokens or (best and cluster.constants <= best.constants):
                    continue
                if cluster.constants >= 2 and align(cluster.tokens, toks) is not None:
                    best = cluster
        return best

    def _generalize(self, cluster: Cluster, toks: list[str], diffs: list[int]) -> None:
        tokens = list(cluster.tokens)
        for i in diffs:
            tokens[i] = generalize(tokens[i], toks[i])
        cluster.tokens = tuple(tokens)
        self._absorb_covered(cluster)

    def _absorb_covered(self, cluster: Cluster) -> None:
        # A wider template may now cover older, narrower clusters: fold them in
        # so one template never splits into two groups.
        peers = self._by_len[len(cluster.tokens)]
        for cid in list(peers):
            other = self.clusters[cid]
            if cid == cluster.cid:
                continue
            if all(token_matches(t, x) for t, x in zip(cluster.tokens, other.tokens)):
                cluster.count += other.count
                self.aliases[cid] = cluster.cid
                peers.remove(cid)
                del self.clusters[cid]

    def _new_cluster(self, tokens: tuple[str, ...]) -> Cluster:
        cluster = Cluster(self._next_id, tokens)
        self._next_id += 1
        self.clusters[cluster.cid] = cluster
        self._by_len.setdefault(len(tokens), []).append(cluster.cid)
        return cluster

    def _public(self, cluster: Cluster) -> Template:
        text = render(cluster.tokens)
        tid = template_id(text)
        return Template(tid, text, cluster.count, tid in self.known)


@lru_cache(maxsize=4096)
def _param_pattern(text: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in text.split("<*>")]
    return re.compile("(.+?)".join(parts) + r"\Z", re.DOTALL)
