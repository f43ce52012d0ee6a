"""Where a config being validated sits in the config the user built, so its messages name its fields from there.

``MineConfig.validate`` checks its ``select`` within the path ``select.`` (:func:`within`, through
``negmine.config._validate_part``), so ``SelectConfig``'s checks say ``select.num_negatives must be a positive
integer, got 0; use e.g. select.num_negatives=5 (--num-negatives 5)``: the field a MineConfig's author sets, and
the option a command-line user types. A config validated on its own names its own fields (``num_negatives``).
One path, :func:`field_path`, for every message: the range, choice and type checks (:mod:`negmine.config`) and the
unused-setting rules (:mod:`negmine.config_unused`), and the messages of a run's later steps, which run within their
part's place as well: loading the data (``data.``), the model (``encoder.``), the engine (``engine.``), the judges
(``judges.``, ``denoise.judges.``), a TrainConfig's dev split (``dev.``) and re-mining (``mine.``). No code passes a
path by hand: :func:`option_of` gives the option of the command that builds the user's config, :func:`here` and
:func:`at` carry a place to code that runs later (re-mining's rounds), :func:`has_field` tells a fix whether the
user's config has the field at all.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, NamedTuple

from negmine.errors import field_option, field_setting


class Where(NamedTuple):
    """Where a config being validated sits: ``top``, the class name of the config the user built, and ``at``, the
    path from it (``denoise.``; ``""`` for the top config itself)."""

    top: str
    at: str
    parts: tuple[tuple[str, str], ...] = ()
    """(name, path) of the nested configs that do not sit at ``at + name + "."`` (:func:`built_from`)."""


_WHERE: contextvars.ContextVar[Where | None] = contextvars.ContextVar("negmine_config_where", default=None)


@contextlib.contextmanager
def within(parent, name: str) -> Iterator[None]:
    """Within the block, configs validated are ``parent``'s field ``name`` (a nested config): their messages name
    fields from the config the user built (``MineConfig denoise.depth=5``, ``denoise.enabled``)."""
    outer = where(parent)
    token = _WHERE.set(Where(outer.top, dict(outer.parts).get(name, f"{outer.at}{name}.")))
    try:
        yield
    finally:
        _WHERE.reset(token)


@contextlib.contextmanager
def built_from(config, **parts: str) -> Iterator[None]:
    """Within the block, a config negmine builds from ``config`` (the one the user built) validates and runs with
    its messages naming ``config``'s fields: its nested config ``name`` sits at ``parts[name]`` (``""``: among
    ``config``'s own fields), any other at its name. An AuditConfig mines a BEIR folder's candidates through a
    MineConfig whose ``data`` fields are the audit's own ``split`` and ``unknown_qrels``:
    ``built_from(audit_config, data="")`` makes mining's data messages say ``unknown_qrels``, not
    ``data.unknown_qrels``, a field the audit does not have."""
    outer = where(config)
    token = _WHERE.set(Where(outer.top, outer.at, tuple((name, f"{outer.at}{at}") for name, at in parts.items())))
    try:
        yield
    finally:
        _WHERE.reset(token)


def where(config) -> Where:
    """Where ``config``, being validated, sits (:func:`within`); a config validated on its own is the top one.
    ``config`` may be a config class: ``within(TrainConfig, "dev")`` names a DevEvalConfig's fields as the
    ``dev`` of a TrainConfig, for the run of a part that has no other home
    (:func:`negmine.train.dev_eval.load_dev_data`)."""
    return _WHERE.get() or Where(config.__name__ if isinstance(config, type) else type(config).__name__, "")


def here() -> Where | None:
    """The place set now (None: none), for code that runs later, outside the block that set it, to run at the
    same place (:func:`at`): re-mining runs a MineConfig that is ``mine`` of the TrainConfig the user built, each
    round called from the trainer."""
    return _WHERE.get()


@contextlib.contextmanager
def at(place: Where | None) -> Iterator[None]:
    """Within the block, the place is ``place`` (from :func:`here`; None: no place, a config on its own)."""
    token = _WHERE.set(place)
    try:
        yield
    finally:
        _WHERE.reset(token)


def field_path(name: str) -> str:
    """``name``, a field (or dotted field) of the config being validated, dotted from the config the user built:
    ``select.num_negatives`` while a MineConfig checks its ``select``, ``num_negatives`` outside any :func:`within`."""
    current = _WHERE.get()
    return f"{current.at}{name}" if current is not None else name


def class_path(config_class: str, name: str) -> str:
    """Field ``name`` of the config class ``config_class`` being validated, for a message about its type:
    ``SelectConfig.num_negatives`` on its own, ``MineConfig.select.num_negatives`` in the MineConfig the user built."""
    current = _WHERE.get()
    return f"{current.top if current is not None else config_class}.{field_path(name)}"


def path_option(name: str, option: str | None = None) -> str:
    """:func:`negmine.errors.field_option` of ``name`` at its :func:`field_path`: ``select.num_negatives
    (--num-negatives)``; ``option`` defaults to :func:`option_of` (``dev.split (--eval-split)`` in a TrainConfig),
    else to the field's name as an option. An ``option`` given for a field of another command's config nested in the
    user's is named with that command too (``--cross-encoder NAME_OR_PATH`` -> ``negmine mine --cross-encoder
    NAME_OR_PATH`` for a TrainConfig's ``mine.denoise.judges.cross_encoder``)."""
    return field_option(field_path(name), given_option(name, option) or option_of(name))


def given_option(name: str, option: str | None) -> str | None:
    """``option`` as the message of the config the user built names it: prefixed with the other command
    :func:`option_of` finds for ``name`` (``negmine mine``), if any."""
    if option is None or not option.startswith("-"):
        return option
    found = option_of(name)
    return f"{found.rsplit(' ', 1)[0]} {option}" if found and found.startswith("negmine ") else option


def path_setting(name: str, value: object, option: str | None = None, cli: str | None = None) -> str:
    """:func:`negmine.errors.field_setting` of ``name`` at its :func:`field_path`: ``select.num_negatives=5
    (--num-negatives 5)``; ``option`` as for :func:`path_option`, but not a positional argument's (``the DATA_DIR
    argument``, which takes no ``option value`` form)."""
    found = given_option(name, option) or option_of(name)
    positional = found is not None and found.startswith("the ")  # the DATA_DIR argument (of negmine mine)
    return field_setting(field_path(name), value, None if positional else found, cli)


def command() -> str | None:
    """The command that builds the config the user built (``audit`` while an AuditConfig validates its parts,
    :data:`negmine.config_options.COMMANDS`); None for a config validated on its own."""
    from negmine.config_options import COMMANDS

    current = _WHERE.get()
    return COMMANDS.get(current.top) if current is not None else None


def command_option(name: str) -> str | None:
    """The option that sets field ``name`` (at its :func:`field_path`) on the :func:`command` that builds the config
    the user built, read off that command's option table: ``--encode-batch-size`` for an AuditConfig's
    ``encoder.batch_size``, ``--batch-size`` for a MineConfig's. None without a command (a config validated on its
    own) and for a field no option of that command sets (``mine.encoder.batch_size`` in a TrainConfig, whose
    command takes a mined file)."""
    from negmine.config_options import _option_setting

    current = _WHERE.get()
    return _option_setting(current.top, field_path(name)) if command() is not None else None


def option_of(name: str) -> str | None:
    """The option that sets field ``name`` at its :func:`field_path`: the one of the :func:`command` that builds the
    config the user built (:func:`command_option`: ``--eval-split`` for a TrainConfig's ``dev.split``), else, for a
    field of another command's config nested in it, that command's, named with it (``negmine mine --teacher`` for a
    TrainConfig's ``mine.denoise.judges.teachers``: re-mining repeats what ``negmine mine --teacher`` recorded, and
    the train command's own option of that name may set another field). None without a
    command, and for a field no option sets."""
    from negmine.config_options import COMMANDS, _class_at, _config_class, _option_setting

    current = _WHERE.get()
    if current is None or current.top not in COMMANDS:
        return None
    path = field_path(name)
    root = _config_class(current.top)
    try:
        found = _option_setting(current.top, path)
        parts = path.split(".")
        for i in range(1, len(parts)):
            if found is not None:
                break
            nested = _class_at(root, ".".join(parts[:i]))
            if nested.__name__ in COMMANDS:
                found = _other_command(COMMANDS[nested.__name__], _option_setting(nested.__name__, ".".join(parts[i:])))
    except (KeyError, TypeError, AttributeError):  # no such field in the user's config: nothing to read it off
        return None
    return found


def _other_command(name: str, option: str | None) -> str | None:
    """``option`` of command ``name`` as another command's message names it: ``negmine mine --unknown-qrels`` (on
    ``negmine train``, ``--unknown-qrels`` sets the dev split's field, not the re-mining's), ``the DATA_DIR argument
    of negmine mine``."""
    if option is None:
        return None
    return f"negmine {name} {option}" if option.startswith("-") else f"{option} of negmine {name}"


def has_field(name: str) -> bool:
    """Whether the config the user built has a field ``name`` at its :func:`field_path`: a TrainConfig's dev split
    loads through a DataConfig, whose ``corpus`` the TrainConfig has no ``dev.corpus`` for, so a fix cannot name it.
    True outside any place (a config on its own: its fields are the user's)."""
    from negmine.config_options import _class_at, _config_class

    current = _WHERE.get()
    if current is None:
        return True
    try:
        _class_at(_config_class(current.top), field_path(name))
    except (KeyError, AttributeError, TypeError):
        return False
    return True
