"""The candidate pool record shared by all retrievers."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

PAD_INDEX = -1


class Candidates(NamedTuple):
    """Top-``depth`` documents per query, best first.

    ``indices[i, j]`` is the corpus row of query ``i``'s ``j``-th candidate (``-1`` pads short rows);
    ``scores[i, j]`` its score (``-inf`` for padding). Row ``i`` belongs to the ``i``-th query passed in.
    """

    indices: np.ndarray  # int64, (n_queries, depth)
    scores: np.ndarray  # float32, (n_queries, depth)

    @property
    def depth(self) -> int:
        return int(self.indices.shape[1])

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of query ``i`` without padding."""
        keep = self.indices[i] != PAD_INDEX
        return self.indices[i][keep], self.scores[i][keep]
