"""A user's own strategy (src/negmine/select/custom.py): the protocol check's messages, and the check of each
choice it makes while mining."""

from __future__ import annotations

import re

import numpy as np
import pytest

import negmine
from negmine.config import SelectConfig
from negmine.errors import ConfigError
from negmine.select.custom import CheckedStrategy, check_strategy, checked_positions
from negmine.testing.plugins import EveryOtherStrategy, registered


class NoSelect:
    name = "no-select"
    default_window = (None, None)
    best_first = "no"

    @classmethod
    def from_config(cls, config):
        return cls()


def test_a_class_without_select_is_refused_naming_what_is_missing_and_what_the_protocol_needs():
    with pytest.raises(ConfigError) as raised:
        negmine.register_strategy(NoSelect)
    assert str(raised.value).startswith(
        "register_strategy(NoSelect) is not a negmine strategy: best_first is 'no', of type str (it must be a bool); "
        "select is missing (it must be a method select(pool, k, rng) returning int64 positions into pool); a strategy "
        "is a class with name (its --strategy value), default_window (the rank window used when neither rank_min nor "
        "rank_max is set: a tuple (rank_min, rank_max), e.g. (None, None) for the whole pool), best_first")
    assert str(raised.value).endswith('see docs/mining.md, "Your own strategy or export format"')


def test_an_instance_a_bad_name_and_a_bad_window_are_refused():
    with pytest.raises(ConfigError, match=r"^register_strategy\(EveryOtherStrategy\): <negmine.testing.plugins."
                                          r"EveryOtherStrategy object at .*> is not a class: a strategy is registered "
                                          r"as its class \(the class itself, not an instance\); a strategy is a class"):
        negmine.register_strategy(EveryOtherStrategy())

    class Spaced(EveryOtherStrategy):
        name = "every other"
        default_window = (20, 10)

    with pytest.raises(ConfigError, match=r"^register_strategy\(Spaced\) is not a negmine strategy: name is 'every "
                                          r"other', of type str \(it must be a str of letters, digits, '-' and '_' "
                                          r"\(not starting with '-' or '_'\): its --strategy value\); default_window is "
                                          r"\(20, 10\), of type tuple \(it must be a tuple"):
        negmine.register_strategy(Spaced)


def test_check_strategy_accepts_every_built_in():
    from negmine.select.strategy import STRATEGIES

    for cls in STRATEGIES.values():
        check_strategy(cls, cls.name)


@pytest.mark.parametrize("chosen,problem", [
    ([0, 5], "returned positions [0, 5], outside 0..3 (the pool holds 4)"),
    ([1, 1], "returned positions [1, 1], with repeats"),
    ([0, 1, 2], "returned 3 positions, more than k=2"),
    ([0.0, 1.0], "returned [0.0, 1.0], not a one-dimensional array of int positions"),
    (None, "returned None, not a one-dimensional array of int positions"),
])
def test_a_plugin_choice_that_is_not_positions_into_the_pool_is_refused_naming_the_strategy(chosen, problem):
    with pytest.raises(ConfigError) as raised:
        checked_positions(chosen, 4, 2, "strategy 'x' (registered by register_strategy from module m)")
    assert str(raised.value) == (
        f"strategy 'x' (registered by register_strategy from module m) {problem}: select(pool, k, rng) must return at "
        "most k distinct int64 positions into pool, in the order the negatives are written")


def test_checked_positions_returns_int64_and_takes_an_empty_choice():
    assert checked_positions(np.array([3, 0], dtype=np.int32), 4, 2, "s").dtype == np.int64
    assert checked_positions([], 4, 2, "s").tolist() == []


def test_make_strategy_checks_a_registered_strategy_but_not_a_built_in(make_pool):
    from negmine.select.strategy import make_strategy

    class Wrong(EveryOtherStrategy):
        name = "wrong"

        def select(self, pool, k, rng):
            return np.array([0, 0])

    with registered(Wrong):
        strategy = make_strategy(SelectConfig(strategy="wrong"))
        assert isinstance(strategy, CheckedStrategy) and strategy.name == "wrong"
        with pytest.raises(ConfigError, match=rf"^strategy 'wrong' \(registered by register_strategy from module "
                                              rf"{re.escape(__name__)}\) returned positions \[0, 0\], with repeats"):
            strategy.select(make_pool([0.5, 0.4, 0.3]), 2, np.random.default_rng(0))
    assert not isinstance(make_strategy(SelectConfig(strategy="top")), CheckedStrategy)
