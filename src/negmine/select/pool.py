"""The per-pair candidate pool that filters and strategies operate on."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Pool(NamedTuple):
    """Candidates for one (query, positive) pair after exclusions, in retrieval order.

    ``ranks`` are 1-based ranks in the query's retrieved list (positives and duplicates counted),
    ``scores`` the selection scores (same scale as ``positive_score``). ``false_negatives`` holds the corpus
    rows a judge removed from the pool as likely false negatives (``--denoise``): they are written to the
    row's ``false_negative_ids`` so training can still mask them in-batch.
    """

    indices: np.ndarray  # int64 corpus rows
    scores: np.ndarray  # float32
    ranks: np.ndarray  # int64, 1-based
    positive_score: float
    false_negatives: tuple[int, ...] = ()

    def take(self, positions: np.ndarray) -> "Pool":
        return Pool(
            self.indices[positions], self.scores[positions], self.ranks[positions], self.positive_score,
            self.false_negatives,
        )

    def with_false_negatives(self, rows: np.ndarray) -> "Pool":
        """This pool with ``rows`` added to :attr:`false_negatives` (NamedTuple ``_replace`` cannot be used:
        ``__len__`` counts candidates, not fields)."""
        flagged = self.false_negatives + tuple(int(r) for r in rows)
        return Pool(self.indices, self.scores, self.ranks, self.positive_score, flagged)

    def __len__(self) -> int:
        return int(self.indices.shape[0])
