"""Recurring problems: tickets clustered by meaning and named by their distinctive terms.

k-means on the ticket vectors, with ``k`` from the number of tickets
(about ``sqrt(n / 2)``, bounded) unless given, and a fixed seed so the same
workspace gives the same clusters. A cluster's name is its three most
distinctive terms: the highest class-based TF-IDF (the cluster's mean
weight of a term minus the whole queue's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans

from casework.queue.vectors import Space

MIN_K, MAX_K = 2, 120


@dataclass(frozen=True, slots=True)
class Cluster:
    id: int
    label: str
    terms: tuple[str, ...]
    size: int
    members: tuple[int, ...]  # row indexes into the ticket list


def choose_k(n: int) -> int:
    return max(MIN_K, min(MAX_K, round(math.sqrt(n / 2)), max(n - 1, 1)))


def cluster(space: Space, k: int | None = None) -> tuple[list[int], list[Cluster]]:
    """A cluster id per ticket (ids ordered by cluster size, largest 0) and the clusters."""
    n = space.matrix.shape[0]
    if n < 2:
        return [0] * n, [Cluster(0, "all tickets", (), n, tuple(range(n)))] if n else []
    k = min(k or choose_k(n), n)
    # Restarts buy little on a large queue and cost minutes; the seed keeps it repeatable.
    km = KMeans(n_clusters=k, n_init=4 if n <= 5000 else 1, random_state=0)
    raw = km.fit_predict(space.matrix)
    sizes = np.bincount(raw, minlength=k)
    order = sorted(range(k), key=lambda c: (-int(sizes[c]), c))
    renumber = {old: new for new, old in enumerate(order)}
    assignment = [renumber[int(c)] for c in raw]
    terms = _distinctive_terms(space, assignment, k)
    clusters = []
    for cid in range(k):
        members = tuple(i for i, c in enumerate(assignment) if c == cid)
        if not members:
            continue
        label = " / ".join(terms[cid][:3]) or f"cluster {cid}"
        clusters.append(Cluster(cid, label, tuple(terms[cid][:8]), len(members), members))
    return assignment, clusters


def _distinctive_terms(space: Space, assignment: list[int], k: int) -> list[list[str]]:
    sparse: Any = space.sparse
    vocab = np.array(space.tfidf.get_feature_names_out())
    overall = np.asarray(sparse.mean(axis=0)).ravel()
    labels = np.array(assignment)
    out: list[list[str]] = []
    for cid in range(k):
        rows = np.where(labels == cid)[0]
        if len(rows) == 0:
            out.append([])
            continue
        mean = np.asarray(sparse[rows].mean(axis=0)).ravel()
        score = mean - overall
        best = np.argsort(-score)[:40]
        picked: list[str] = []
        for i in best:
            term = str(vocab[i])
            if score[i] <= 0 or term.startswith("tpl_"):
                continue
            if any(term in p or p in term for p in picked):
                continue  # "null pointer" after "null": keep the wording distinct
            picked.append(term)
            if len(picked) == 8:
                break
        out.append(picked)
    return out
