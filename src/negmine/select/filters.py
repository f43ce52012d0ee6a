"""Positive-aware filters: drop candidates that are too close to (or above) the positive, or out of range.

A candidate with score s is kept only if every active filter holds (s_pos = the pair's positive score):

==================  =====================================  ==================================================
key                 keeps                                  notes
==================  =====================================  ==================================================
``rank_window``     rank_min <= rank <= rank_max            1-based, inclusive; either side may be open
``max_score``       s <= max_score
``min_score``       s >= min_score
``absolute_margin`` s < s_pos - m
``relative_margin`` s < s_pos - r * |s_pos|                 NV-Retriever TopK-PercPos (Moreira et al. 2024):
                                                           r = 0.05 is "95% of the positive" for s_pos > 0;
                                                           |s_pos| keeps the threshold below the positive
                                                           when scores are negative (the reference's
                                                           s < (1 - r) * s_pos would lie above it)
``sd_margin``       s < s_pos - k * sd                      the default (k = 0.5); sd = standard deviation
                                                           (ddof 0) of the pool's scores: the pair's
                                                           candidates, positives excluded
==================  =====================================  ==================================================

The raw-score margins assume a scale: the relative margin treats 0 as "unrelated", the absolute margin
fixes a unit. Both break on models whose scores are compressed (multilingual-e5-small on SciFact: positive
~0.87 and the whole top 100 within 0.04 of each other, so the 95% cut leaves 395 of 919 pairs with 5
negatives) or unbounded (dot products, BM25). ``sd_margin`` measures the gap in the query's own spread of
candidate scores, so shifting or scaling every score of a query leaves its selection unchanged. On SciFact
(top 100, 5 negatives) ``k = 0.5`` keeps 830 pairs with MiniLM (mean negative rank 11.0, 76% the same
negatives as the 95% relative margin's 834 pairs at rank 11.2) and 823 with e5 (rank 10.6), where one
absolute margin cannot fit both (0.01: MiniLM 843, e5 779; 0.02: 831 and 698). Trained on (SciFact, MiniLM,
3 seeds), the ``k = 0.5`` file matches the 95% rule's nDCG@10 and recovers its Recall@100 deficit (README,
"Training on SciFact"), hence the default.

``removed`` counts each dropped candidate exactly once, under the first failing filter in the order of
:data:`FILTER_ORDER` (the table's order); its keys are always all of :data:`FILTER_ORDER`, so
``sum(removed.values()) == len(pool) - len(result.pool)``. Comparisons are done in float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from negmine.config import FilterConfig
from negmine.select.pool import Pool, score_spread  # noqa: F401  (score_spread: re-exported)

FILTER_ORDER: tuple[str, ...] = (
    "rank_window", "max_score", "min_score", "absolute_margin", "relative_margin", "sd_margin",
)


class FilterResult(NamedTuple):
    pool: Pool
    removed: dict[str, int]


def filter_masks(
    pool: Pool, filters: FilterConfig, rank_min: int | None, rank_max: int | None, spread: float | None = None
) -> dict[str, np.ndarray]:
    """One boolean "passes" mask per filter key (all True for an inactive filter), in FILTER_ORDER.

    ``spread`` is the sd the sd margin uses; None computes it from ``pool`` (pass the whole pool's
    :func:`score_spread` when ``pool`` is a part of it, e.g. the few candidates an audit judges)."""
    scores = pool.scores.astype(np.float64, copy=False)
    sd = score_spread(scores) if spread is None else spread
    ranks = pool.ranks
    s_pos = float(pool.margin_reference())
    everything = np.ones(len(pool), dtype=bool)
    in_window = everything.copy()
    if rank_min is not None:
        in_window &= ranks >= rank_min
    if rank_max is not None:
        in_window &= ranks <= rank_max
    masks = {
        "rank_window": in_window,
        "max_score": everything if filters.max_score is None else scores <= filters.max_score,
        "min_score": everything if filters.min_score is None else scores >= filters.min_score,
        "absolute_margin": everything
        if filters.absolute_margin is None
        else scores < s_pos - filters.absolute_margin,
        "relative_margin": everything
        if filters.relative_margin is None
        else scores < s_pos - filters.relative_margin * abs(s_pos),
        "sd_margin": everything if filters.sd_margin is None else scores < s_pos - filters.sd_margin * sd,
    }
    return {key: masks[key] for key in FILTER_ORDER}


def apply_filters(pool: Pool, filters: FilterConfig, rank_min: int | None, rank_max: int | None) -> FilterResult:
    """Keep the candidates passing every filter (retrieval order preserved); count the others.

    Each dropped candidate is attributed to the first filter (in FILTER_ORDER) it fails.
    """
    alive = np.ones(len(pool), dtype=bool)
    removed: dict[str, int] = {}
    for key, passes in filter_masks(pool, filters, rank_min, rank_max, pool.spread).items():
        failing_now = alive & ~passes
        removed[key] = int(np.count_nonzero(failing_now))
        alive &= passes
    return FilterResult(pool.take(np.flatnonzero(alive)), removed)
