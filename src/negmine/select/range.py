"""``range``: the k best candidates inside a rank window, skipping the very top of the list.

The top ranks hold most false negatives (unjudged relevant documents); starting the window lower trades
hardness for label noise. FlagEmbedding's ``hn_mine.py`` samples at random from the slice ``[10:210]`` of its
0-based list (``--range_for_sampling 10-210``: ranks 11-210 here); this strategy keeps the first of the window
(retrieval order) instead, and defaults to ranks 10-100 so the window fits the default candidate depth of 100. Set
``rank_min``/``rank_max`` (e.g. 11 and 210 with ``depth >= 210``) to choose another window; the window
itself is applied by :func:`negmine.select.filters.apply_filters`, see :func:`negmine.select.strategy.window`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from negmine.config import SelectConfig
from negmine.select.order import by_rank
from negmine.select.pool import Pool


@dataclass(frozen=True)
class RangeStrategy:
    """The first k in retrieval order among the candidates inside the (already applied) rank window."""

    name: ClassVar[str] = "range"
    default_window: ClassVar[tuple[int | None, int | None]] = (10, 100)
    best_first: ClassVar[bool] = True  # the window is a filter; inside it, the first k in retrieval order

    @classmethod
    def from_config(cls, config: SelectConfig) -> "RangeStrategy":
        return cls()

    def select(self, pool: Pool, k: int, rng: np.random.Generator) -> np.ndarray:
        return by_rank(pool)[:k]
