"""``random``: k candidates drawn uniformly without replacement from the filtered pool (rank window included).

Random sampling from a window is how FlagEmbedding's ``hn_mine.py`` and many DPR-style pipelines pick
negatives; it gives more diverse, less false-negative-prone negatives than the strict top-k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from negmine.config import SelectConfig
from negmine.select.order import by_rank
from negmine.select.pool import Pool


@dataclass(frozen=True)
class RandomStrategy:
    """Uniform sample of min(k, len(pool)) positions; output in retrieval order."""

    name: ClassVar[str] = "random"
    default_window: ClassVar[tuple[int | None, int | None]] = (None, None)
    best_first: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: SelectConfig) -> "RandomStrategy":
        return cls()

    def select(self, pool: Pool, k: int, rng: np.random.Generator) -> np.ndarray:
        chosen = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
        return by_rank(pool, chosen)
