"""Params of a strategy of one's own (src/negmine/select/params.py): declared by its class, set by
``SelectConfig.strategy_params`` (``--strategy-param NAME=VALUE``), read typed by its ``from_config``, and refused
with the bad value, the allowed values and the fix when they do not fit, as the config is validated."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

import negmine
from negmine.config import DataConfig, MineConfig, RetrieveConfig, SelectConfig
from negmine.errors import ConfigError, InputError
from negmine.select.params import parse_texts
from negmine.select.strategy import make_strategy, pair_rng
from negmine.testing.plugins import EveryNthStrategy, EveryOtherStrategy, registered


class Tuned:
    """A strategy with one param of each type; ``offset`` has no default, so it must be given."""

    name = "tuned"
    default_window = (None, None)
    best_first = False
    params = {"step": int, "temperature": float, "reverse": bool, "mode": str, "offset": int}
    param_defaults = {"step": 2, "temperature": 1.0, "reverse": False, "mode": "plain"}

    def __init__(self, values):
        self.values = values

    @classmethod
    def from_config(cls, config):
        return cls(negmine.strategy_params(cls, config))

    def select(self, pool, k, rng):
        return np.arange(min(k, len(pool)))


def test_params_given_as_a_dict_or_pairs_make_one_sorted_hashable_config_and_from_config_reads_them_typed():
    given = SelectConfig(strategy="tuned", strategy_params={"offset": np.int64(1), "temperature": 2, "mode": "x"})
    assert given.strategy_params == (("mode", "x"), ("offset", 1), ("temperature", 2))
    assert type(given.strategy_params[1][1]) is int  # a NumPy integer as a Python one, as every config field
    pairs = SelectConfig(strategy="tuned", strategy_params=[["temperature", 2], ["offset", 1], ["mode", "x"]])
    assert pairs == given and hash(pairs) == hash(given)  # a summary's JSON holds lists: the same config
    with registered(Tuned):
        given.validate()
        values = make_strategy(given).inner.values  # a plugin's strategy is wrapped in its choices' check
    assert values == {"step": 2, "temperature": 2.0, "reverse": False, "mode": "x", "offset": 1}
    assert type(values["temperature"]) is float  # an int given for a float param is read as a float
    assert SelectConfig().strategy_params == () and SelectConfig(strategy_params={}).strategy_params == ()


def test_a_param_changes_the_choice(make_pool):
    pool = make_pool(np.linspace(0.9, 0.1, 9))
    with registered(EveryNthStrategy):
        chosen = {step: make_strategy(SelectConfig(strategy="every-nth", strategy_params={"step": step}))
                  .select(pool, 3, pair_rng(0, 0)).tolist() for step in (2, 3)}
        default = make_strategy(SelectConfig(strategy="every-nth")).select(pool, 3, pair_rng(0, 0)).tolist()
    assert chosen == {2: [0, 2, 4], 3: [0, 3, 6]} and default == chosen[2]


BAD = [
    ({"stpe": 3}, "unknown param 'stpe' of strategy 'tuned'; allowed: mode, offset, reverse, step, temperature; did "
                  "you mean strategy_params={'step': 3} (--strategy-param step=3)?"),
    ({"offset": 1, "size": 3}, "unknown param 'size' of strategy 'tuned'; allowed: mode, offset, reverse, step, "
                               "temperature; set one of them, e.g. strategy_params={'mode': 'plain'} (--strategy-param "
                               "mode=plain)"),
    ({"offset": "1"}, "strategy_params offset='1' (str): param 'offset' of strategy 'tuned' takes an int; give e.g. "
                      "strategy_params={'offset': 1} (--strategy-param offset=1)"),
    ({"offset": 1, "step": 2.5}, "strategy_params step=2.5 (float): param 'step' of strategy 'tuned' takes an int; "
                                 "give e.g. strategy_params={'step': 2} (--strategy-param step=2)"),
    ({"offset": 1, "reverse": 1}, "strategy_params reverse=1 (int): param 'reverse' of strategy 'tuned' takes True or "
                                  "False; give e.g. strategy_params={'reverse': False} (--strategy-param "
                                  "reverse=false)"),
    ({"offset": 1, "temperature": float("nan")}, "strategy_params temperature=nan (float): param 'temperature' of "
                                                 "strategy 'tuned' takes a float; give e.g. strategy_params="
                                                 "{'temperature': 1.0} (--strategy-param temperature=1.0)"),
    ({"step": 3}, "strategy 'tuned' needs param 'offset' (an int; it has no default): set it, e.g. "
                  "strategy_params={'offset': 1} (--strategy-param offset=1)"),
    ([("offset", 1), ("offset", 2)], "strategy_params (--strategy-param) gives param 'offset' 2 times (1, 2); give "
                                     "each param once"),
    ("offset=1", "SelectConfig.strategy_params must be a dict {name: value} or (name, value) pairs, got 'offset=1' "
                 "(str); e.g. strategy_params={'step': 3} (--strategy-param step=3)"),
]


@pytest.mark.parametrize("params,message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_a_bad_param_is_refused_with_the_value_the_allowed_values_and_the_fix(params, message):
    with registered(Tuned), pytest.raises(ConfigError) as raised:
        SelectConfig(strategy="tuned", strategy_params=params).validate()
    assert str(raised.value) == message


def test_from_config_refuses_what_validate_refuses():
    """``negmine.strategy_params`` checks as it reads: a from_config given a config nobody validated."""
    with pytest.raises(ConfigError, match=r"^strategy 'tuned' needs param 'offset'"):
        negmine.strategy_params(Tuned, SelectConfig(strategy="tuned"))


def test_params_for_a_built_in_name_its_own_options_and_for_a_plugin_without_params_say_how_to_declare_them():
    with pytest.raises(ConfigError) as raised:
        SelectConfig(strategy="simans", strategy_params={"a": 0.5}).validate()
    assert str(raised.value) == (
        "the built-in strategy 'simans' takes no strategy_params (--strategy-param), got a=0.5; set its own options "
        "instead: simans_a (--simans-a), simans_b (--simans-b), seed (--seed), rank_min (--rank-min), rank_max "
        "(--rank-max); strategy_params are for a strategy of one's own that declares params (docs/mining.md, \"Your "
        "own strategy or export format\")")
    with pytest.raises(ConfigError, match=r"^the built-in strategy 'top' takes no strategy_params "
                                          r"\(--strategy-param\), got window='10'; set its own options instead: "
                                          r"num_negatives "):
        SelectConfig(strategy_params=parse_texts("top", ["window=10"])).validate()
    with registered(EveryOtherStrategy), pytest.raises(ConfigError) as raised:
        SelectConfig(strategy="every-other", strategy_params={"step": 3}).validate()
    assert str(raised.value) == (
        "strategy 'every-other' (registered by register_strategy from module negmine.testing.plugins) declares no "
        "params, so strategy_params (--strategy-param) cannot set step=3; leave strategy_params unset (no "
        "--strategy-param), or declare params in the strategy's class, e.g. params = {'step': int} and param_defaults "
        "= {'step': 2} (docs/mining.md, \"Your own strategy or export format\")")


def test_every_built_in_strategy_names_its_own_options():
    from negmine.select.params import BUILTIN_OPTIONS
    from negmine.select.strategy import STRATEGIES

    assert set(BUILTIN_OPTIONS) == set(STRATEGIES)
    fields = set(SelectConfig.__dataclass_fields__)
    assert all(name in fields and option == "--" + name.replace("_", "-")
               for options in BUILTIN_OPTIONS.values() for name, option in options)


def test_command_line_texts_are_typed_as_the_strategy_declares_and_refused_when_they_do_not_parse():
    with registered(Tuned):
        assert parse_texts("tuned", ["offset=3", "temperature=0.25", "reverse=Yes", "mode=a=b", "step= 4"]) == (
            ("offset", 3), ("temperature", 0.25), ("reverse", True), ("mode", "a=b"), ("step", 4))
        assert parse_texts("tuned", ["reverse=off", "sise=4"]) == (("reverse", False), ("sise", "4"))  # for validate
        refused = {
            "offset=three": "--strategy-param offset=three: param 'offset' of strategy 'tuned' takes an int, and "
                            "'three' is not one; give e.g. --strategy-param offset=1",
            "temperature=inf": "--strategy-param temperature=inf: param 'temperature' of strategy 'tuned' takes a "
                               "float, and 'inf' is not one; give e.g. --strategy-param temperature=1.0",
            "reverse=maybe": "--strategy-param reverse=maybe: param 'reverse' of strategy 'tuned' takes True or False "
                             "(true/false, yes/no, on/off, 1/0), and 'maybe' is not one; give e.g. --strategy-param "
                             "reverse=false",
            "step": "--strategy-param 'step': give NAME=VALUE, one param per --strategy-param, e.g. --strategy-param "
                    "step=2; strategy 'tuned' declares step (an int), temperature (a float), reverse (True or False), "
                    "mode (a str), offset (an int)",
            "=3": "--strategy-param '=3': give NAME=VALUE, one param per --strategy-param, e.g. --strategy-param "
                  "mode=plain; strategy 'tuned' declares step (an int), temperature (a float), reverse (True or "
                  "False), mode (a str), offset (an int)",
        }
        for text, message in refused.items():
            with pytest.raises(ConfigError) as raised:
                parse_texts("tuned", [text])
            assert str(raised.value) == message
        with pytest.raises(ConfigError) as raised:  # a typo typed on the command line: its value parsed in the hint
            SelectConfig(strategy="tuned", strategy_params=parse_texts("tuned", ["offst=5"])).validate()
        assert str(raised.value).endswith("did you mean strategy_params={'offset': 5} (--strategy-param offset=5)?")


def test_a_bad_declaration_is_refused_when_registered():
    class Listed(Tuned):
        name = "listed"
        params = {"step": list}

    class Stray(Tuned):
        name = "stray"
        param_defaults = {"step": "2", "size": 3}

    with pytest.raises(ConfigError, match=re.escape(
            "register_strategy(Listed) is not a negmine strategy: params is {'step': <class 'list'>} (it must be a "
            "dict of param name -> type, each name letters, digits, '-' and '_', each type one of bool, int, float, "
            "str, e.g. {'step': int}); a strategy is a class with name")):
        negmine.register_strategy(Listed)
    with pytest.raises(ConfigError, match=re.escape(
            "register_strategy(Stray) is not a negmine strategy: param_defaults['step'] is '2', of type str (params "
            "declares it int: it must be an int); param_defaults names 'size', which params does not declare (params: "
            "step, temperature, reverse, mode, offset); a strategy is a class with name")):
        negmine.register_strategy(Stray)


def test_bad_params_stop_a_mine_before_any_data_is_read(tmp_path):
    config = MineConfig(data=DataConfig(data_dir=tmp_path / "no-such-folder"), retrieve=RetrieveConfig(method="bm25"),
                        select=SelectConfig(strategy="every-nth", strategy_params={"step": "3"}))
    with registered(EveryNthStrategy):
        with pytest.raises(ConfigError, match=r"^select\.strategy_params step='3' \(str\): param 'step' of strategy "
                                              r"'every-nth' takes an int; give e\.g\. select\.strategy_params=\{'step': 2\} "
                                              r"\(--strategy-param step=2\)$"):
            negmine.mine(config)
        # with good params, the missing data is what fails
        with pytest.raises(InputError, match="no-such-folder: BEIR directory not found"):
            negmine.mine(replace(config, select=SelectConfig(strategy="every-nth", strategy_params={"step": 3})))
