"""The per-pair candidate pool that filters and strategies operate on."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Pool(NamedTuple):
    """Candidates for one (query, positive) pair after exclusions, in retrieval order.

    ``ranks`` are 1-based ranks in the query's retrieved list (positives and duplicates counted),
    ``scores`` the selection scores (same scale as ``positive_score``).
    """

    indices: np.ndarray  # int64 corpus rows
    scores: np.ndarray  # float32
    ranks: np.ndarray  # int64, 1-based
    positive_score: float

    def take(self, positions: np.ndarray) -> "Pool":
        return Pool(self.indices[positions], self.scores[positions], self.ranks[positions], self.positive_score)

    def __len__(self) -> int:
        return int(self.indices.shape[0])
