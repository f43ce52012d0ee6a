"""Fusion of candidate pools from several retrievers (e.g. dense + BM25) into one pool per query.

- :func:`rrf`: Reciprocal Rank Fusion (Cormack, Clarke & Buettcher, SIGIR 2009)::

      score(d) = sum_i 1 / (k + rank_i(d))      rank_i 1-based; pools where d is absent add nothing

- :func:`weighted`: convex combination of per-query min-max normalised scores (CombSUM with weights,
  Fox & Shaw 1994; min-max normalisation as in ranx's ``wsum``)::

      score(d) = sum_i w_i * (s_i(d) - min_i) / (max_i - min_i)   absent -> 0; max_i == min_i -> 1

  Pools of weight 0 are left out, documents and all, so weights (1, 0) give the first pool exactly.

  (ranx maps a constant pool to 0; negmine to 1, so a pool's only candidate still counts as its best.)

Output rows hold the best ``depth`` fused documents, score descending, ties by lower document index,
padded with (-1, -inf). Scores are float32 fused values.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from negmine.retrieve.candidates import Candidates
from negmine.retrieve.topk import pad_to, topk_vector

Contribution = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
"""``contribution(pool_number, doc_rows, scores) -> per-document addend`` for one query of one pool."""


def _check_pools(pools: Sequence[Candidates], depth: int) -> int:
    if not pools:
        raise ValueError("fusion needs at least one candidate pool")
    sizes = {len(pool.indices) for pool in pools}
    if len(sizes) != 1:
        raise ValueError(f"pools cover different numbers of queries: {sorted(sizes)}")
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    return sizes.pop()


def fuse(pools: Sequence[Candidates], depth: int, contribution: Contribution) -> Candidates:
    """Sum ``contribution`` per document over pools, query by query; keep the best ``depth``."""
    n_queries = _check_pools(pools, depth)
    indices = np.full((n_queries, depth), -1, dtype=np.int64)
    scores = np.full((n_queries, depth), -np.inf, dtype=np.float32)
    for q in range(n_queries):
        rows = [pool.row(q) for pool in pools]
        docs = np.concatenate([r[0] for r in rows]).astype(np.int64)
        if not len(docs):
            continue
        addends = np.concatenate([contribution(p, *r).astype(np.float64) for p, r in enumerate(rows)])
        unique, inverse = np.unique(docs, return_inverse=True)
        totals = np.bincount(inverse.ravel(), weights=addends, minlength=len(unique)).astype(np.float32)
        top, top_scores = topk_vector(totals, depth)  # ``unique`` is ascending: position ties = index ties
        row_idx, row_sc = pad_to(unique[top][None, :], top_scores[None, :], depth)
        indices[q], scores[q] = row_idx[0], row_sc[0]
    return Candidates(indices, scores)


def rrf(pools: Sequence[Candidates], depth: int, k: int = 60) -> Candidates:
    """Reciprocal Rank Fusion with constant ``k`` (60 in Cormack et al.). Ranks follow each pool's order."""
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k!r}")

    def contribution(_: int, docs: np.ndarray, __: np.ndarray) -> np.ndarray:
        return 1.0 / (k + np.arange(1, len(docs) + 1, dtype=np.float64))

    return fuse(pools, depth, contribution)


def min_max(scores: np.ndarray) -> np.ndarray:
    """``(s - min) / (max - min)``; all ones when every score is equal."""
    scores = np.asarray(scores, dtype=np.float64)
    if not len(scores):
        return scores
    low, high = scores.min(), scores.max()
    if high == low:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def weighted(pools: Sequence[Candidates], weights: Sequence[float], depth: int) -> Candidates:
    """Weighted sum of per-query min-max normalised scores (missing documents count 0)."""
    weights = [float(w) for w in weights]
    if len(weights) != len(pools):
        raise ValueError(f"{len(weights)} weights for {len(pools)} pools; give one weight per pool")
    if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError(f"weights must be finite, >= 0 and not all 0, got {weights}")

    # a pool of weight 0 adds nothing, and its documents must not enter the fused pool either: there they
    # would score 0 and tie with the weakest document of the weighted pools (min-max maps it to 0)
    kept = [(pool, w) for pool, w in zip(pools, weights) if w > 0]

    def contribution(p: int, _: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return kept[p][1] * min_max(scores)

    return fuse([pool for pool, _ in kept], depth, contribution)
