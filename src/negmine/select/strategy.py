"""Selection strategies: the protocol, the registry and the per-pair random generator.

Order per pair: exclusions -> :func:`negmine.select.filters.apply_filters` (with the rank window from
:func:`window`) -> ``strategy.select``. Strategies only choose among what the filters kept.

The registry (:data:`REGISTRY`, :mod:`negmine.plugins`) holds the built-ins (:data:`STRATEGIES`), the strategies
registered by :func:`register_strategy` and those installed packages declare (entry point group
``negmine.strategies``); look a name up with :func:`strategy_class`, list them with :func:`strategy_names`.
"""

from __future__ import annotations

import hashlib
import json
from typing import ClassVar, Protocol

import numpy as np

from negmine.config import SelectConfig, check_select_seed
from negmine.plugins import Registry, describe
from negmine.select.custom import CheckedStrategy, check_strategy
from negmine.select.pool import Pool
from negmine.select.random import RandomStrategy
from negmine.select.range import RangeStrategy
from negmine.select.simans import SimANSStrategy
from negmine.select.top import TopStrategy


class Strategy(Protocol):
    """Chooses negatives from a filtered pool (a built-in, or a user's own: :func:`register_strategy`).

    ``from_config`` builds one from the :class:`~negmine.config.SelectConfig` of the run.

    ``select`` returns int64 positions into ``pool`` in output order, at most ``k``, without repeats.
    ``default_window`` is the rank window used when the config sets neither rank_min nor rank_max.
    ``best_first`` is True when ``select`` returns the first k candidates in retrieval order
    (:func:`negmine.select.order.by_rank`), whatever the rng: candidates after them cannot change the choice,
    so ``--denoise`` judges only until k survive.

    A strategy of one's own may also declare params (``params: ClassVar[dict[str, type]]``, name -> ``bool``,
    ``int``, ``float`` or ``str``, and ``param_defaults: ClassVar[dict]``), which a run sets
    (``SelectConfig.strategy_params``, ``--strategy-param NAME=VALUE``) and ``from_config`` reads typed
    (:func:`negmine.select.params.strategy_params`); a declared param without a default must be given.
    """

    name: ClassVar[str]
    default_window: ClassVar[tuple[int | None, int | None]]
    best_first: ClassVar[bool]

    @classmethod
    def from_config(cls, config: SelectConfig) -> "Strategy": ...

    def select(self, pool: Pool, k: int, rng: np.random.Generator) -> np.ndarray: ...


REGISTRY: Registry[type] = Registry(
    "strategy", "negmine.strategies", "register_strategy",
    {cls.name: cls for cls in (TopStrategy, RangeStrategy, RandomStrategy, SimANSStrategy)}, check_strategy,
)

STRATEGIES = REGISTRY.builtins
"""The built-in strategies by name (read-only; :func:`strategy_names` lists the plugins too)."""


def register_strategy(cls: type, replace: bool = False) -> type:
    """Make the strategy class ``cls`` selectable by its ``name`` (``SelectConfig(strategy=name)``), in this
    process; returns ``cls``, so it also decorates a class (``@negmine.register_strategy``).

    ``cls`` is checked against :class:`Strategy` (ConfigError naming what is missing). A built-in's name is refused,
    and so is a name already registered or installed as an entry point unless ``replace=True``. The command line
    sees installed strategies only: declare yours as an entry point in group ``negmine.strategies`` (docs/mining.md).
    """
    return REGISTRY.register(cls, replace)


def strategy_names() -> list[str]:
    """Every strategy name: the built-ins, the registered ones and the installed ones (not imported)."""
    return REGISTRY.names()


def strategy_class(name: str) -> type:
    """The class of strategy ``name`` (an installed plugin's imported now); unknown names raise ConfigError listing
    :func:`strategy_names`."""
    from negmine.config_path import field_path

    return REGISTRY.get(name, field_path("strategy"))


def strategy_origin(name: str) -> dict | None:
    """Where the non-built-in strategy ``name`` came from (:meth:`negmine.plugins.Registry.origin`); None for a
    built-in."""
    return REGISTRY.origin(name)


def make_strategy(config: SelectConfig) -> Strategy:
    """The strategy named by ``config.strategy``, with its parameters taken from ``config``; a plugin's choices are
    checked as it makes them (:class:`negmine.select.custom.CheckedStrategy`)."""
    strategy = strategy_class(config.strategy).from_config(config)
    origin = strategy_origin(config.strategy)
    return strategy if origin is None else CheckedStrategy(strategy, describe(origin))  # type: ignore[return-value]


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
    check_select_seed(seed)  # SelectConfig.validate checked a run's seed already, naming select.seed
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
