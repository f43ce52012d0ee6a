"""Deterministic top-k helpers shared by the retrievers.

Order everywhere: score descending, ties by corpus index ascending, padding (index -1, score -inf) last.
"""

from __future__ import annotations

import numpy as np

from negmine.retrieve.candidates import PAD_INDEX


def sort_rows(indices: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row by (score desc, index asc), padding last. Shapes are kept."""
    indices = np.asarray(indices, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float32)
    pad = indices == PAD_INDEX
    key_index = np.where(pad, np.iinfo(np.int64).max, indices)
    key_score = np.where(pad, np.inf, -scores.astype(np.float64))
    by_index = np.argsort(key_index, axis=1, kind="stable")
    by_score = np.argsort(np.take_along_axis(key_score, by_index, axis=1), axis=1, kind="stable")
    order = np.take_along_axis(by_index, by_score, axis=1)
    return np.take_along_axis(indices, order, axis=1), np.take_along_axis(scores, order, axis=1)


def merge_topk(
    indices_a: np.ndarray, scores_a: np.ndarray, indices_b: np.ndarray, scores_b: np.ndarray, depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``depth`` of two candidate lists per row (disjoint indices), padded to ``depth``."""
    indices = np.concatenate([indices_a, indices_b], axis=1)
    scores = np.concatenate([scores_a, scores_b], axis=1)
    indices, scores = sort_rows(indices, scores)
    return pad_to(indices[:, :depth], scores[:, :depth], depth)


def pad_to(indices: np.ndarray, scores: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad rows with (-1, -inf) up to ``depth`` columns."""
    missing = depth - indices.shape[1]
    if missing <= 0:
        return indices.astype(np.int64, copy=False), scores.astype(np.float32, copy=False)
    n = indices.shape[0]
    indices = np.concatenate([indices, np.full((n, missing), PAD_INDEX, dtype=np.int64)], axis=1)
    scores = np.concatenate([scores, np.full((n, missing), -np.inf, dtype=np.float32)], axis=1)
    return indices.astype(np.int64, copy=False), scores.astype(np.float32, copy=False)


def topk_vector(scores: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``depth`` best entries of a 1-D score vector, best first.

    O(n) selection with :func:`numpy.partition`; among entries tied with the k-th best score the
    lowest indices are kept, so the result never depends on the partition's internal order.
    """
    scores = np.asarray(scores, dtype=np.float32)
    k = min(depth, len(scores))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    threshold = -np.partition(-scores, k - 1)[k - 1]
    above = np.flatnonzero(scores > threshold)
    tied = np.flatnonzero(scores == threshold)[: k - len(above)]
    chosen = np.concatenate([above, tied])
    order = np.lexsort((chosen, -scores[chosen].astype(np.float64)))
    chosen = chosen[order].astype(np.int64)
    return chosen, scores[chosen]
