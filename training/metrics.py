"""Retrieval metrics: consumer-to-shop Recall@K (DeepFashion protocol) and category Recall@1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _topk(queries: np.ndarray, gallery: np.ndarray, k: int, exclude_self: bool = False) -> np.ndarray:
    """Indices of the ``k`` most similar gallery rows per query (cosine of unit vectors), in chunks."""
    k = min(k, len(gallery) - (1 if exclude_self else 0))
    out = np.empty((len(queries), max(k, 0)), np.int64)
    for start in range(0, len(queries), 1024):
        sims = queries[start : start + 1024] @ gallery.T
        if exclude_self:
            idx = np.arange(start, start + len(sims))
            sims[np.arange(len(sims)), idx] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(sims), 0), np.int64)
        order = np.take_along_axis(sims, part, 1).argsort(1)[:, ::-1]
        out[start : start + len(sims)] = np.take_along_axis(part, order, 1)
    return out


def recall_at_k(
    query_vectors: np.ndarray,
    query_items: Sequence,
    gallery_vectors: np.ndarray,
    gallery_items: Sequence,
    ks: Sequence[int] = (1, 5, 10, 20),
) -> dict[str, float]:
    """Share of queries whose item is among the ``k`` nearest gallery images, for each ``k``.

    DeepFashion consumer-to-shop protocol: queries are consumer photos, the gallery is shop photos, a hit is a
    gallery image of the same item id in the top k. Every query counts (one whose item is not in the gallery
    can never hit).

    Returns:
        ``{"recall@1": ..., "recall@5": ..., ...}``.
    """
    if len(query_vectors) == 0 or len(gallery_vectors) == 0:
        raise ValueError("recall@k needs at least one query and one gallery image")
    q_items = np.asarray(query_items)
    g_items = np.asarray(gallery_items)
    top = _topk(np.asarray(query_vectors, np.float32), np.asarray(gallery_vectors, np.float32), max(ks))
    hits = g_items[top] == q_items[:, None]
    return {f"recall@{k}": float(hits[:, :k].any(1).mean()) for k in ks}


def category_recall_at_1(vectors: np.ndarray, categories: Sequence) -> float:
    """Leave-one-out: share of images whose nearest *other* image has the same category."""
    if len(vectors) < 2:
        raise ValueError("category recall needs at least two images")
    cats = np.asarray(categories)
    nearest = _topk(np.asarray(vectors, np.float32), np.asarray(vectors, np.float32), 1, exclude_self=True)[:, 0]
    return float((cats[nearest] == cats).mean())
