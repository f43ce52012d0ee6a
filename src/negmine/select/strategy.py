"""Selection strategies: the protocol, the registry and the per-pair random generator.

Order per pair: exclusions -> :func:`negmine.select.filters.apply_filters` (with the rank window from
:func:`window`) -> ``strategy.select``. Strategies only choose among what the filters kept.
"""

from __future__ import annotations

import hashlib
import json
from typing import ClassVar, Protocol

import numpy as np

from negmine.config import SelectConfig
from negmine.errors import ConfigError, field_setting, unknown_choice
from negmine.select.pool import Pool
from negmine.select.random import RandomStrategy
from negmine.select.range import RangeStrategy
from negmine.select.simans import SimANSStrategy
from negmine.select.top import TopStrategy


class Strategy(Protocol):
    """Chooses negatives from a filtered pool.

    ``select`` returns int64 positions into ``pool`` in output order, at most ``k``, without repeats.
    ``default_window`` is the rank window used when the config sets neither rank_min nor rank_max.
    ``best_first`` is True when ``select`` returns the first k candidates in retrieval order
    (:func:`negmine.select.order.by_rank`), whatever the rng: candidates after them cannot change the choice,
    so ``--denoise`` judges only until k survive.
    """

    name: ClassVar[str]
    default_window: ClassVar[tuple[int | None, int | None]]
    best_first: ClassVar[bool]

    def select(self, pool: Pool, k: int, rng: np.random.Generator) -> np.ndarray: ...


STRATEGIES: dict[str, type] = {
    cls.name: cls for cls in (TopStrategy, RangeStrategy, RandomStrategy, SimANSStrategy)
}


def strategy_class(name: str) -> type:
    """The registered class for ``name``; unknown names raise ConfigError listing the registry keys."""
    if name not in STRATEGIES:
        raise unknown_choice("strategy", name, STRATEGIES)
    return STRATEGIES[name]


def make_strategy(config: SelectConfig) -> Strategy:
    """The strategy named by ``config.strategy``, with its parameters taken from ``config``."""
    return strategy_class(config.strategy).from_config(config)


def window(config: SelectConfig) -> tuple[int | None, int | None]:
    """The 1-based inclusive rank window (rank_min, rank_max) that every caller passes to apply_filters.

    If the config sets rank_min or rank_max, exactly those values are used (an unset side is open);
    if it sets neither, the strategy's ``default_window`` applies (``range``: 10-100, others: none).
    """
    if config.rank_min is not None or config.rank_max is not None:
        return config.rank_min, config.rank_max
    return strategy_class(config.strategy).default_window


def pair_rng(seed: int, pair_index: int) -> np.random.Generator:
    """Generator for one pair: ``default_rng([seed, pair_index])``; mining passes ``pair_key(pair)``.

    Seeding from (seed, pair) instead of one shared stream makes each pair's draw independent of the
    order in which pairs are processed and of how they are sharded across workers.
    """
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}; use e.g. {field_setting('seed', 42)}")
    if pair_index < 0:
        raise ValueError(f"pair_index must be >= 0, got {pair_index}")
    return np.random.default_rng([seed, pair_index])


def pair_key(query_id: str, positive_id: str) -> int:
    """A pair's stable 64-bit number, from its ids: the second half of its generator's seed.

    Keyed by ids, not by the pair's position in the qrels file, a pair draws the same negatives however the
    file's rows are ordered or what other pairs it holds (by position, shuffling the demo's qrels changed 45 of
    46 ``simans`` rows). blake2b, not ``hash()``, which Python salts per process.
    """
    text = json.dumps([query_id, positive_id], ensure_ascii=False)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
