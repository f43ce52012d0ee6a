"""``top``: the first k candidates left after filters, in retrieval order: the highest-scoring for a dense or
BM25 pool, the best-fused for a hybrid one (the classic hard-negative choice).

With the default relative margin this is NV-Retriever's TopK-PercPos (Moreira et al. 2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from negmine.config import SelectConfig
from negmine.select.order import by_rank
from negmine.select.pool import Pool


@dataclass(frozen=True)
class TopStrategy:
    """The first k in retrieval order (:func:`negmine.select.order.by_rank`). Deterministic (the rng is unused)."""

    name: ClassVar[str] = "top"
    default_window: ClassVar[tuple[int | None, int | None]] = (None, None)
    best_first: ClassVar[bool] = True

    @classmethod
    def from_config(cls, config: SelectConfig) -> "TopStrategy":
        return cls()

    def select(self, pool: Pool, k: int, rng: np.random.Generator) -> np.ndarray:
        return by_rank(pool)[:k]
