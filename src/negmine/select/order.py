"""Output order shared by the strategies: score descending, ties by retrieval rank ascending."""

from __future__ import annotations

import numpy as np

from negmine.select.pool import Pool


def by_score(pool: Pool, positions: np.ndarray | None = None) -> np.ndarray:
    """``positions`` (default: all) reordered by score descending, equal scores in retrieval (rank) order.

    NaN scores go last. Returns int64 positions into ``pool``.
    """
    if positions is None:
        positions = np.arange(len(pool), dtype=np.int64)
    positions = np.asarray(positions, dtype=np.int64)
    scores = pool.scores[positions].astype(np.float64)
    keys = np.where(np.isnan(scores), np.inf, -scores)
    return positions[np.lexsort((pool.ranks[positions], keys))]
