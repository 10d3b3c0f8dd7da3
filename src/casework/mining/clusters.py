"""The miner's clusters and the indexes that find candidate templates for a new shape.

A new message shape is compared only with clusters that could reach the
similarity threshold: an inverted index from (position, token) to clusters
counts the shared constant tokens for all clusters at once, so the cost
follows the message's length, not the number of templates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from casework.mining.align import fits_spanning
from casework.mining.masks import OPT, VAR


@dataclass
class Cluster:
    """Mutable learning state of one template; ``retemplate`` keeps derived fields right."""

    cid: int
    tokens: tuple[str, ...]
    count: int = 0
    constants: int = field(default=0, init=False)
    exact: frozenset[tuple[int, str]] = field(default=frozenset(), init=False)
    words: frozenset[str] = field(default=frozenset(), init=False)
    patterns: int = field(default=0, init=False)
    min_len: int = field(default=0, init=False)
    #: Set when this cluster was folded into another; its id is then an alias.
    merged_into: Cluster | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.retemplate(self.tokens)

    def retemplate(self, tokens: tuple[str, ...]) -> None:
        """Replace the template tokens (they only ever get more general)."""
        self.tokens = tokens
        self.constants = sum(1 for t in tokens if t not in (VAR, OPT))
        self.min_len = len(tokens) - tokens.count(OPT)
        self.exact = frozenset((i, t) for i, t in enumerate(tokens) if VAR not in t and t != OPT)
        self.words = frozenset(t for t in tokens if VAR not in t and t != OPT)
        self.patterns = sum(1 for t in tokens if VAR in t and t != VAR)


class ClusterIndex:
    """All live clusters, by id, by token count, and by (position, constant token)."""

    def __init__(self, similarity: float) -> None:
        self.similarity = similarity
        self.clusters: dict[int, Cluster] = {}
        self.aliases: dict[int, int] = {}
        self.by_len: dict[int, list[int]] = {}
        self._postings: dict[tuple[int, str], set[int]] = {}
        self._loose: dict[int, set[int]] = {}  # few exact constants: always candidates
        self._wide: set[int] = set()  # templates with a wildcard: may span tokens

    def __len__(self) -> int:
        return len(self.clusters)

    def add(self, cluster: Cluster) -> None:
        """Index a cluster (new, or loaded from a saved state)."""
        self.clusters[cluster.cid] = cluster
        self.by_len.setdefault(len(cluster.tokens), []).append(cluster.cid)
        self._post(cluster)

    def retemplate(self, cluster: Cluster, tokens: tuple[str, ...]) -> None:
        """Change a cluster's template and its index entries together."""
        self._unpost(cluster)
        if len(tokens) != len(cluster.tokens):
            self.by_len[len(cluster.tokens)].remove(cluster.cid)
            self.by_len.setdefault(len(tokens), []).append(cluster.cid)
        cluster.retemplate(tokens)
        self._post(cluster)

    def fold(self, gone: Cluster, into: Cluster) -> None:
        """Merge ``gone`` into ``into``; ``gone``'s id stays valid as an alias."""
        into.count += gone.count
        gone.merged_into = into
        self.aliases[gone.cid] = into.cid
        self._unpost(gone)
        self.by_len[len(gone.tokens)].remove(gone.cid)
        del self.clusters[gone.cid]

    def resolve(self, cid: int) -> int:
        """The live cluster an id (possibly an alias of a merged cluster) stands for."""
        while cid in self.aliases:
            cid = self.aliases[cid]
        return cid

    def candidates(self, toks: list[str]) -> list[Cluster]:
        """Same-length clusters that can share ``similarity`` of their constants with toks."""
        length = len(toks)
        hits: Counter[int] = Counter()
        for pair in enumerate(toks):
            posting = self._postings.get(pair)
            if posting:
                hits.update(posting)
        out = []
        for cid in hits.keys() | self._loose.get(length, set()):
            cluster = self.clusters[cid]
            if len(cluster.tokens) != length:
                continue
            if hits[cid] + cluster.patterns >= self.similarity * cluster.constants:
                out.append(cluster)
        return out

    def spanning(self, toks: list[str]) -> list[Cluster]:
        """Clusters of another length whose wildcards could stretch or shrink to fit toks."""
        present = set(toks)
        return [
            c
            for c in (self.clusters[cid] for cid in self._wide)
            if c.min_len <= len(toks)
            and c.words <= present
            and (len(c.tokens) != len(toks) or OPT in c.tokens)
        ]

    def spanning_covered(self, wide: Cluster) -> list[Cluster]:
        """Clusters of other lengths whose templates a stretched ``wide`` now covers."""
        return [
            c
            for c in list(self.clusters.values())
            if c.cid != wide.cid
            and (len(c.tokens) != len(wide.tokens) or OPT in wide.tokens)
            and wide.words <= set(c.tokens)
            and fits_spanning(wide.tokens, list(c.tokens))
        ]

    def near_lengths(self, length: int, reach: int) -> list[Cluster]:
        """Clusters whose token count differs from ``length`` by at most ``reach``.

        Same-length clusters come only when they hold a wildcard: a value can
        then sit one token to the left or right of where the template has it.
        """
        same = [
            c
            for c in (self.clusters[cid] for cid in self.by_len.get(length, ()))
            if c.cid in self._wide
        ]
        return same + [
            self.clusters[cid]
            for delta in range(1, reach + 1)
            for other in (length - delta, length + delta)
            for cid in self.by_len.get(other, ())
        ]

    def _post(self, cluster: Cluster) -> None:
        for pair in cluster.exact:
            self._postings.setdefault(pair, set()).add(cluster.cid)
        if cluster.patterns >= self.similarity * cluster.constants:
            self._loose.setdefault(len(cluster.tokens), set()).add(cluster.cid)
        if VAR in cluster.tokens or OPT in cluster.tokens:
            self._wide.add(cluster.cid)

    def _unpost(self, cluster: Cluster) -> None:
        for pair in cluster.exact:
            self._postings[pair].discard(cluster.cid)
        self._loose.get(len(cluster.tokens), set()).discard(cluster.cid)
        self._wide.discard(cluster.cid)
