"""Parameters of a strategy of one's own: what its class declares (``params``: name -> ``bool``, ``int``, ``float`` or
``str``; ``param_defaults``: name -> value), what a run gives (``SelectConfig.strategy_params``, ``negmine mine
--strategy-param NAME=VALUE``) and the typed values its ``from_config`` reads (:func:`strategy_params`).

Checked as the config is validated (``SelectConfig.validate``), before any data is read or model loaded: a name the
strategy does not declare (with the closest declared one), a value not of the declared type, a declared param with
no default left unset, a name given twice, and params given to a built-in strategy (its own options are named
instead) or to a plugin that declares none. A declared param without a default must be given.

Light to import (no NumPy): :class:`negmine.config.SelectConfig` calls :func:`normalized` as it is built.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from negmine.config_path import class_path, field_path
from negmine.errors import ConfigError, closest_name
from negmine.plugins import is_name

FIELD, OPTION = "strategy_params", "--strategy-param"

PARAM_TYPES: dict[type, str] = {bool: "True or False", int: "an int", float: "a float", str: "a str"}
"""The types a param may be declared as, and how a message names each."""

EXAMPLES: dict[type, Any] = {bool: True, int: 1, float: 0.5, str: "text"}
"""A value of each type, for a message's example when the param has no default."""

TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")
"""How ``--strategy-param NAME=VALUE`` writes a bool (any case)."""

BUILTIN_OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "top": (("num_negatives", "--num-negatives"), ("rank_min", "--rank-min"), ("rank_max", "--rank-max"),
            ("keep_partial", "--keep-partial")),
    "range": (("rank_min", "--rank-min"), ("rank_max", "--rank-max"), ("num_negatives", "--num-negatives"),
              ("keep_partial", "--keep-partial")),
    "random": (("seed", "--seed"), ("rank_min", "--rank-min"), ("rank_max", "--rank-max"),
               ("num_negatives", "--num-negatives")),
    "simans": (("simans_a", "--simans-a"), ("simans_b", "--simans-b"), ("seed", "--seed"), ("rank_min", "--rank-min"),
               ("rank_max", "--rank-max")),
}
"""The settings each built-in strategy reads (config field, option): what a refusal of params names instead."""

DOCS = 'docs/mining.md, "Your own strategy or export format"'


def declared(cls: object) -> dict[str, type]:
    """The params ``cls`` declares (name -> type); none: ``{}``."""
    return dict(getattr(cls, "params", None) or {})


def defaults(cls: object) -> dict[str, Any]:
    """The defaults ``cls`` declares (name -> value); none: ``{}``."""
    return dict(getattr(cls, "param_defaults", None) or {})


def has_type(value: object, kind: type) -> bool:
    """``value`` is a ``kind`` as a param takes it: a bool is no int or float, an int is a float, a float is finite."""
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real) and math.isfinite(value)
    return isinstance(value, kind)


def declaration_problems(cls: object) -> list[str]:
    """One line per problem of the optional ``params`` and ``param_defaults`` of the strategy class ``cls`` (for
    :func:`negmine.select.custom.check_strategy`)."""
    params = getattr(cls, "params", {})
    if not isinstance(params, dict) or not all(is_name(k) and v in PARAM_TYPES for k, v in params.items()):
        return [f"params is {params!r} (it must be a dict of param name -> type, each name letters, digits, '-' and "
                f"'_', each type one of bool, int, float, str, e.g. {{'step': int}})"]
    given = getattr(cls, "param_defaults", {})
    if not isinstance(given, dict):
        return [f"param_defaults is {given!r}, of type {type(given).__name__} (it must be a dict of param name -> "
                f"default value, e.g. {{'step': 2}})"]
    problems = []
    for name, value in given.items():
        if name not in params:
            problems.append(f"param_defaults names {name!r}, which params does not declare (params: "
                            f"{', '.join(params) or 'none'})")
        elif not has_type(value, params[name]):
            problems.append(f"param_defaults[{name!r}] is {value!r}, of type {type(value).__name__} (params declares "
                            f"it {params[name].__name__}: it must be {PARAM_TYPES[params[name]]})")
    return problems


def normalized(value: object) -> object:
    """``strategy_params`` as :class:`~negmine.config.SelectConfig` holds it: a tuple of ``(name, value)`` pairs
    sorted by name (frozen, hashable; a dict or a list of pairs, such as a summary's JSON holds, becomes one), NumPy
    scalars as Python ones. Anything else is returned unchanged, for :func:`given_pairs` to refuse."""
    from negmine.config import _given_as

    items = value.items() if isinstance(value, Mapping) else value
    if isinstance(value, (str, bytes)) or not isinstance(value, (Mapping, tuple, list)):
        return value
    pairs = []
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            return value
        pairs.append((item[0], _given_as(item[1], object)))
    return tuple(sorted(pairs, key=lambda pair: pair[0]))


def given_pairs(value: object) -> tuple[tuple[str, Any], ...]:
    """``value`` (``SelectConfig.strategy_params``), or a ConfigError unless it is ``(name, value)`` pairs."""
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value):
        return value
    raise ConfigError(f"{class_path('SelectConfig', FIELD)} must be a dict {{name: value}} or (name, value) pairs, got "
                      f"{value!r:.80} ({type(value).__name__}); e.g. {field_path(FIELD)}={{'step': 3}} ({OPTION} step=3)")


def example(cls: object, name: str) -> Any:
    """A value for the message's example: the param's default, else one of its type."""
    return defaults(cls).get(name, EXAMPLES[declared(cls)[name]])


def cli_text(name: str, value: object) -> str:
    """``step=3``: a param as ``--strategy-param`` takes it (a bool as ``true``/``false``)."""
    return f"{name}={str(value).lower() if isinstance(value, bool) else value}"


def setting(name: str, value: object) -> str:
    """``strategy_params={'step': 3} (--strategy-param step=3)``: a param set both ways."""
    return f"{field_path(FIELD)}={{{name!r}: {value!r}}} ({OPTION} {cli_text(name, value)})"


def strategy_params(cls: object, config: Any) -> dict[str, Any]:
    """The values of the params the strategy class ``cls`` declares, for the run of ``config`` (its
    ``SelectConfig``): those ``config.strategy_params`` gives, the others at their ``param_defaults``, each as its
    declared type (an int given for a float param as a float). What a strategy's ``from_config`` reads; a bad
    setting is the ConfigError ``SelectConfig.validate`` raises for it (as ``negmine.strategy_params``)."""
    return param_values(cls, getattr(cls, "name", config.strategy), config.strategy_params)


def param_values(cls: object, strategy: str, value: object) -> dict[str, Any]:
    """:func:`strategy_params` of the strategy ``cls``, named ``strategy``, given ``value`` (``strategy_params``)."""
    given = given_pairs(value)
    if given:
        _refuse_undeclared(cls, strategy, given)
        _refuse_repeats(given)
    params, base = declared(cls), defaults(cls)
    for name, item in given:
        _check_given(cls, strategy, name, item)
    values = {**base, **dict(given)}
    for name, kind in params.items():
        if name not in values:
            raise ConfigError(f"strategy {strategy!r} needs param {name!r} ({PARAM_TYPES[kind]}; it has no default): "
                              f"set it, e.g. {setting(name, EXAMPLES[kind])}")
    return {name: kind(values[name]) for name, kind in params.items()}


def _refuse_undeclared(cls: object, strategy: str, given: tuple[tuple[str, Any], ...]) -> None:
    """ConfigError when ``cls`` takes no params at all: a built-in (its own options named instead), or a plugin that
    declares none."""
    from negmine.plugins import describe
    from negmine.select.strategy import STRATEGIES, strategy_origin

    shown = ", ".join(f"{name}={item!r}" for name, item in given)
    if STRATEGIES.get(strategy) is cls:
        own = ", ".join(f"{field_path(name)} ({option})" for name, option in BUILTIN_OPTIONS.get(strategy, ()))
        raise ConfigError(f"the built-in strategy {strategy!r} takes no {field_path(FIELD)} ({OPTION}), got {shown}; set "
                          f"its own options instead: {own}; {field_path(FIELD)} are for a strategy of one's own that "
                          f"declares params ({DOCS})")
    if not declared(cls):
        origin = strategy_origin(strategy)
        where = f" ({describe(origin)})" if origin is not None else ""
        raise ConfigError(f"strategy {strategy!r}{where} declares no params, so {field_path(FIELD)} ({OPTION}) cannot "
                          f"set {shown}; leave {field_path(FIELD)} unset (no {OPTION}), or declare params in the "
                          f"strategy's class, e.g. params = {{'step': int}} and param_defaults = {{'step': 2}} ({DOCS})")


def _refuse_repeats(given: tuple[tuple[str, Any], ...]) -> None:
    names = [name for name, _ in given]
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            values = ", ".join(repr(item) for key, item in given if key == name)
            raise ConfigError(f"{field_path(FIELD)} ({OPTION}) gives param {name!r} {names.count(name)} times "
                              f"({values}); give each param once")


def _check_given(cls: object, strategy: str, name: str, value: object) -> None:
    """ConfigError unless ``cls`` declares ``name`` (else the closest declared name) and ``value`` is of its type."""
    params = declared(cls)
    if name not in params:
        close = closest_name(name, params)
        first = sorted(params)[0]
        hint = (f"did you mean {setting(close, _as_declared(cls, close, value))}?" if close is not None
                else f"set one of them, e.g. {setting(first, example(cls, first))}")
        raise ConfigError(f"unknown param {name!r} of strategy {strategy!r}; allowed: {', '.join(sorted(params))}; "
                          f"{hint}")
    if not has_type(value, params[name]):
        raise ConfigError(f"{field_path(FIELD)} {name}={value!r} ({type(value).__name__}): param {name!r} of strategy "
                          f"{strategy!r} takes {PARAM_TYPES[params[name]]}; give e.g. "
                          f"{setting(name, example(cls, name))}")


def _as_declared(cls: object, name: str, value: object) -> Any:
    """``value`` for the param ``name`` of ``cls`` in a suggestion: itself if of its type, a text parsed as it (what the
    command line gave), else an example of the type."""
    if has_type(value, declared(cls)[name]):
        return value
    try:
        return _parse(cls, "", name, value) if isinstance(value, str) else example(cls, name)
    except ConfigError:
        return example(cls, name)


def parse_texts(strategy: str, texts: list[str] | tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """``--strategy-param NAME=VALUE`` texts as ``strategy_params``: each value as the type ``strategy`` declares for
    its name; a name it does not declare (or a strategy not found, or a built-in) keeps its text, for
    ``SelectConfig.validate`` to refuse with the rest. ConfigError for a text with no ``=`` or a value that does not
    parse as its type."""
    from negmine.select.strategy import REGISTRY

    cls = REGISTRY.find(strategy) if texts else None
    params = declared(cls) if cls is not None else {}
    pairs = [_split(cls, strategy, text) for text in texts]
    return tuple((name, _parse(cls, strategy, name, text) if name in params else text) for name, text in pairs)


def _split(cls: object, strategy: str, text: str) -> tuple[str, str]:
    """``(name, value text)`` of ``NAME=VALUE``, or a ConfigError with an example (and the params ``cls`` declares)."""
    name, sep, value = text.partition("=")
    if sep and name.strip():
        return name.strip(), value
    params = declared(cls)
    known = name.strip() if name.strip() in params else (sorted(params)[0] if params else None)
    shown = cli_text(known, example(cls, known)) if known else f"{name.strip() or 'NAME'}=VALUE"
    takes = (f"; strategy {strategy!r} declares {', '.join(f'{n} ({PARAM_TYPES[t]})' for n, t in params.items())}"
             if params else "")
    raise ConfigError(f"{OPTION} {text!r}: give NAME=VALUE, one param per {OPTION}, e.g. {OPTION} {shown}{takes}")


def _parse(cls: object, strategy: str, name: str, text: str) -> Any:
    """``text`` as the type ``cls`` declares for ``name``, or a ConfigError with the allowed values and an example."""
    kind = declared(cls)[name]
    word = text.strip().lower()
    try:
        if kind is bool:
            if word not in TRUE + FALSE:
                raise ValueError(text)
            return word in TRUE
        value = kind(text)
        if kind is float and not math.isfinite(value):
            raise ValueError(text)
        return value
    except ValueError:
        allowed = f" ({', '.join(f'{t}/{f}' for t, f in zip(TRUE, FALSE))})" if kind is bool else ""
        raise ConfigError(f"{OPTION} {name}={text}: param {name!r} of strategy {strategy!r} takes {PARAM_TYPES[kind]}"
                          f"{allowed}, and {text!r} is not one; give e.g. "
                          f"{OPTION} {cli_text(name, example(cls, name))}") from None
