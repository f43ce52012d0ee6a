"""Output order shared by the strategies: the pool's retrieval order (rank ascending).

A dense or BM25 pool is retrieved best score first, so this is score order (ties by corpus row, as the
search broke them). A hybrid pool is in fusion order (RRF or weighted) while its scores are dense cosines
(the margins compare like with like): ``top`` takes the best-fused candidates that pass the margins, not the
highest cosines, which would make the fusion irrelevant to the choice.
"""

from __future__ import annotations

import numpy as np

from negmine.select.pool import Pool


def by_rank(pool: Pool, positions: np.ndarray | None = None) -> np.ndarray:
    """``positions`` (default: all) in retrieval order: rank ascending. Returns int64 positions into ``pool``."""
    if positions is None:
        positions = np.arange(len(pool), dtype=np.int64)
    positions = np.asarray(positions, dtype=np.int64)
    return positions[np.argsort(pool.ranks[positions], kind="stable")]
