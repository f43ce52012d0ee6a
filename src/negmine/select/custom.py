"""A user's own strategy (``negmine.register_strategy``, or an installed package's ``negmine.strategies`` entry
point): checked against the :class:`negmine.select.strategy.Strategy` protocol when it is registered, and each of
its choices checked as mining runs (a built-in's are right by construction; a plugin's wrong positions would
otherwise write wrong negatives, or fail deep in the row writer)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from negmine.errors import ConfigError
from negmine.plugins import NAME_RULE, Attribute, attribute_problems, is_bool, is_name
from negmine.select.params import declaration_problems
from negmine.select.pool import Pool

STRATEGY_PROTOCOL = (
    "a strategy is a class with name (its --strategy value), default_window (the rank window used when neither "
    "rank_min nor rank_max is set: a tuple (rank_min, rank_max), e.g. (None, None) for the whole pool), best_first "
    "(True only if it takes the first k candidates in retrieval order whatever the rng), a classmethod "
    "from_config(select_config) that returns an instance, and a method select(pool, k, rng) that returns at most k "
    "distinct int64 positions into pool; optionally params (a dict of param name -> bool, int, float or str: what "
    "--strategy-param NAME=VALUE sets) and param_defaults (a dict of param name -> default value); see "
    "docs/mining.md, \"Your own strategy or export format\""
)


def is_window(value: object) -> bool:
    """A (rank_min, rank_max) tuple: each an int >= 1 or None, rank_min <= rank_max when both are set."""
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1) for v in value):
        return False
    return None in value or value[0] <= value[1]


ATTRIBUTES = (
    Attribute("name", is_name, f"{NAME_RULE}: its --strategy value"),
    Attribute("default_window", is_window, "a tuple (rank_min, rank_max) of ints >= 1 or None, rank_min <= rank_max, "
                                           "e.g. (None, None)"),
    Attribute("best_first", is_bool, "a bool"),
    Attribute("from_config", callable, "a classmethod from_config(select_config) returning an instance"),
    Attribute("select", callable, "a method select(pool, k, rng) returning int64 positions into pool"),
)


def check_strategy(cls: object, where: str) -> None:
    """ConfigError naming ``where`` and what is missing or wrong unless ``cls`` is a strategy class."""
    if not isinstance(cls, type):
        raise ConfigError(f"{where}: {cls!r} is not a class: a strategy is registered as its class (the class "
                          f"itself, not an instance); {STRATEGY_PROTOCOL}")
    problems = attribute_problems(cls, ATTRIBUTES) + declaration_problems(cls)
    if problems:
        raise ConfigError(f"{where} is not a negmine strategy: {'; '.join(problems)}; {STRATEGY_PROTOCOL}")


@dataclass(frozen=True)
class CheckedStrategy:
    """A plugin strategy whose every ``select`` result is checked (:func:`checked_positions`); ``where`` names the
    plugin in the error."""

    inner: object
    where: str

    @property
    def name(self) -> str:
        return self.inner.name  # type: ignore[attr-defined]

    def select(self, pool: Pool, k: int, rng: np.random.Generator) -> np.ndarray:
        chosen = self.inner.select(pool, k, rng)  # type: ignore[attr-defined]
        return checked_positions(chosen, len(pool), k, f"strategy {self.name!r} ({self.where})")


def checked_positions(chosen: object, size: int, k: int, who: str) -> np.ndarray:
    """``chosen`` as int64 positions, or a ConfigError naming ``who`` unless it holds at most ``k`` distinct ints in
    ``0..size-1``."""
    positions = np.asarray(chosen)
    problem = None
    if positions.ndim != 1 or (positions.size and not np.issubdtype(positions.dtype, np.integer)):
        problem = f"returned {_shown(chosen)}, not a one-dimensional array of int positions"
    elif positions.size > k:
        problem = f"returned {positions.size} positions, more than k={k}"
    elif positions.size and (positions.min() < 0 or positions.max() >= size):
        problem = f"returned positions {_shown(positions.tolist())}, outside 0..{size - 1} (the pool holds {size})"
    elif np.unique(positions).size != positions.size:
        problem = f"returned positions {_shown(positions.tolist())}, with repeats"
    if problem is not None:
        raise ConfigError(f"{who} {problem}: select(pool, k, rng) must return at most k distinct int64 positions "
                          "into pool, in the order the negatives are written")
    return positions.astype(np.int64, copy=False)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
