"""``simans``: SimANS ambiguous-negative sampling (Zhou et al., EMNLP 2022, arXiv:2210.11773).

Candidates are sampled without replacement with weight

    w_i = exp(-a * (s_pos - s_i - b)^2)

which peaks at s_i = s_pos - b: negatives a little below the positive ("ambiguous") are favoured over
both the hardest ones (likely false negatives) and the easy ones (little gradient). ``a`` (simans_a)
sets the sharpness, ``b`` (simans_b) the offset below the positive; scores must be on the positive's
scale. The paper writes ``exp(-a * (s_i - s_pos - b)^2)``, centred at ``b`` above the positive: its ``b`` is
this ``-b`` (the same at ``b = 0``). Sampling uses the Gumbel-top-k trick (Kool et al., ICML 2019): the k largest of
log w_i + Gumbel(0, 1) are a draw without replacement proportional to w_i, computed in log space so
weights that underflow exp() (e.g. wide BM25 score ranges) still give a full sample of min(k, n).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from negmine.config import SelectConfig
from negmine.select.order import by_rank
from negmine.select.pool import Pool


def simans_log_weights(scores: np.ndarray, positive_score: float, a: float, b: float) -> np.ndarray:
    """log w_i = -a * (s_pos - s_i - b)^2 in float64."""
    gap = positive_score - scores.astype(np.float64) - b
    return -a * gap * gap


@dataclass(frozen=True)
class SimANSStrategy:
    """Sample min(k, n) candidates with SimANS weights; output in retrieval order."""

    a: float = 50.0
    b: float = 0.05
    name: ClassVar[str] = "simans"
    default_window: ClassVar[tuple[int | None, int | None]] = (None, None)
    best_first: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: SelectConfig) -> "SimANSStrategy":
        return cls(a=config.simans_a, b=config.simans_b)

    def select(self, pool: Pool, k: int, rng: np.random.Generator) -> np.ndarray:
        keys = simans_log_weights(pool.scores, pool.positive_score, self.a, self.b) + rng.gumbel(size=len(pool))
        keys = np.where(np.isnan(keys), -np.inf, keys)
        chosen = np.argsort(-keys, kind="stable")[: min(k, len(pool))]
        return by_rank(pool, chosen)
