"""Exceptions raised for bad user input. Messages name the file, line and field where known."""

from __future__ import annotations

import dataclasses
from pathlib import Path


class NegmineError(Exception):
    """Base class of every error negmine raises on purpose."""


class ConfigError(NegmineError, ValueError):
    """An option has a value outside its allowed range. The message gives value, allowed values and fix."""


class EncodingError(NegmineError, ValueError):
    """The model returned vectors that cannot be compared (NaN or infinite values) for some texts."""


class EngineError(NegmineError, RuntimeError):
    """A worker of a distributed engine cannot run the job as the driver configured it (e.g. its model differs
    from the driver's). The message says what differs and how to fix it."""


class InputError(NegmineError, ValueError):
    """A data file is malformed. ``str(err)`` reads ``path:line: field 'x': problem``."""

    def __init__(self, path: str | Path | None, line: int | None, field: str | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        what = f" field '{self.field}':" if self.field else ""
        return f"{where}:{what} {self.problem}"

    def __reduce__(self):  # picklable (e.g. raised in a Ray worker, re-raised by the driver)
        return type(self), (self.path, self.line, self.field, self.problem)


class DatasetInputError(InputError):
    """An InputError in a table held in memory (a Hugging Face ``datasets.Dataset``, a folder written by its
    ``save_to_disk``, an Arrow table), which has no file line to name. ``str(err)`` reads ``dataset 'nq', row 17
    (index 16), column 'positive': empty text``: ``source`` names the dataset (and split), ``row`` is 1-based as the
    pairs' ids count rows (``q17``), the index is the 0-based one ``ds[16]`` takes. ``path`` and ``line`` are None."""

    def __init__(self, source: str, row: int | None, field: str | None, problem: str) -> None:
        self.source = source
        self.row = row
        super().__init__(None, None, field, problem)

    def _format(self) -> str:
        parts = [self.source]
        if self.row is not None:
            parts.append(f"row {self.row} (index {self.row - 1})")
        if self.field:
            parts.append(f"column {self.field!r}")
        return f"{', '.join(parts)}: {self.problem}"

    def __reduce__(self):
        return type(self), (self.source, self.row, self.field, self.problem)


class NegmineWarning(UserWarning):
    """Base class of the warnings negmine issues with ``warnings.warn``: a run that went on, with something the user
    should know. Library users filter them as any warning (``warnings.filterwarnings("ignore",
    category=NegmineWarning)``); the ``negmine`` command line prints them as ``warning: <message>``."""


class WorkerFallbackWarning(NegmineWarning, RuntimeWarning):
    """Worker processes failed and the rest of the work ran in this process (same results). Also a
    RuntimeWarning, the category it had before :class:`NegmineWarning`, so filters on that keep matching."""


class DevOnTestSplitWarning(NegmineWarning):
    """A training's dev evaluation scores the ``test`` split (``negmine train --eval-split test``): its figures are
    test scores, which pick the checkpoint with ``--keep-best`` and steer any setting chosen by them. Its own category
    so a run that means it silences this warning alone (:mod:`negmine.train.dev_on_test`)."""


class NegmineDeprecationWarning(NegmineWarning, DeprecationWarning):
    """A call negmine still accepts in a form that will go (e.g. ``run_audit(config, split=...)``: the setting now
    lives in the config). Also a DeprecationWarning, so Python shows it where such warnings show (code run as
    ``__main__``, tests) and a filter on either category matches it."""


def first_line(err: BaseException, empty: str | None = None) -> str:
    """The first line of ``err``'s text, stripped, for a message that quotes a library's words; when the text is
    blank, ``empty`` (default: the exception's class name). ``str(OSError())`` is ``""``: indexing its
    ``splitlines()`` raised IndexError, which hid the error being reported."""
    text = str(err).strip()
    if text:
        return text.splitlines()[0]
    return type(err).__name__ if empty is None else empty


def counted(count: int, noun: str, plural: str | None = None, spec: str = "") -> str:
    """``count`` and ``noun``, plural unless ``count`` is 1 ("1 candidate", "3 candidates"); ``plural`` for a noun
    not made plural by an s ("1 query", "2 queries"); ``spec`` formats the count (``","``: "1,234 rows")."""
    return f"{count:{spec}} {noun if count == 1 else plural or noun + 's'}"


def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` in the calling function point at the user's call into
    negmine: the frame that called the outermost negmine frame on the stack. A fixed ``stacklevel=2`` pointed at a
    line inside negmine whenever the warning was issued a few calls deep (``train`` -> data loading -> the
    warning), so the user saw negmine's file and line and a filter on their own module (``module=`` of
    ``warnings.filterwarnings``) did not match. The outermost negmine frame, not the first frame outside it:
    Python 3.12's ``skip_file_prefixes`` stops at the first foreign frame, which for a warning issued in a
    callback negmine gives the transformers Trainer is that trainer's code. Usage:
    ``warnings.warn(message, NegmineWarning, stacklevel=caller_stacklevel())``."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level, outermost = sys._getframe(1), 1, 1  # level 1: the function calling warnings.warn
    while frame is not None:
        if os.path.abspath(frame.f_code.co_filename).startswith(package):
            outermost = level
        frame, level = frame.f_back, level + 1
    return min(outermost + 1, level - 1)  # its caller; the outermost frame when negmine started the process


def unknown_choice(kind: str, value: object, registry: dict | list | tuple, field: str | None = None,
                   option: str | None = None, many: bool = False) -> ConfigError:
    """Error for a name missing from a registry; lists the registry's keys so messages never drift, then
    :func:`choice_fix`'s hint (the closest name, the field and option that take it)."""
    allowed = sorted(registry)
    return ConfigError(f"unknown {kind} {value!r}; allowed: {', '.join(allowed)}"
                       f"{choice_fix(value, allowed, field, option, many)}")


CLOSE_NAME = 0.7
"""The similarity (difflib's ratio, case ignored) from which a name is suggested for an unknown one: typos score
0.75-0.93 (``mnlr``/``mnrl``, ``triplets``/``triplet``); at difflib's default 0.6, ``--false-negative-policy
remove`` (meant: drop) got ``did you mean 'promote'`` (0.615), the opposite action."""


def choice_fix(value: object, allowed, field: str | None = None, option: str | None = None,
               many: bool = False) -> str:
    """The end of an ``unknown X 'v'; allowed: ...`` message. For a typo of an allowed name (``simams``,
    ``triplets``): ``; did you mean strategy='simans' (--strategy simans)?``, or for a field holding a list of
    names (``many``: ``formats``, ``judges``) ``; did you mean 'triplet' in formats (--export triplet)?``; for
    another value, ``; pick one with strategy (--strategy)``; without ``field``, ``; did you mean 'simans'?`` or
    nothing. Before, the message only listed the names, leaving the reader to spot the near-miss among up to 14
    of them and to find the option that takes it."""
    close = [name] if (name := closest_name(value, allowed)) is not None else []
    if not close:
        return f"; pick {'one or more' if many else 'one'} with {field_option(field, option)}" if field else ""
    if not field:
        return f"; did you mean {close[0]!r}?"
    if many:
        return f"; did you mean {close[0]!r} in {field} ({option or _option_of(field)} {close[0]})?"
    return f"; did you mean {field_setting(field, close[0], option)}?"


def closest_name(value: object, allowed) -> str | None:
    """The name of ``allowed`` closest to ``value`` (a typo of it: difflib's ratio, case ignored, from
    :data:`CLOSE_NAME`), or None."""
    import difflib

    if not isinstance(value, str):
        return None
    by_lower = {name.lower(): name for name in allowed}
    close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=CLOSE_NAME)
    return by_lower[close[0]] if close else None


def field_option(name: str, option: str | None = None) -> str:
    """``name (--option)``: a setting a message asks to change, named both ways it is set, so a Python user (who
    has the config field, not the option) and a command-line user (who has the option) can each act on it:
    ``num_negatives (--num-negatives)``. ``option`` defaults to the field's name as an option; a dotted field
    (``retrieve.depth``, a nested config's) takes its last part. Every message goes through here so the wording
    of the two forms does not drift."""
    return f"{name} ({option or _option_of(name)})"


def field_setting(name: str, value: object, option: str | None = None, cli: str | None = None) -> str:
    """``name=value (--option value)``: a value a message suggests, as the config field takes it (``repr``) and as
    the command line does: ``num_negatives=5 (--num-negatives 5)``, ``strategy='simans' (--strategy simans)``; a
    True flag is the bare option (``keep_partial=True (--keep-partial)``). ``cli`` is the command-line text in
    full where it is not ``option value`` (``--no-checkpoints``, a list of values)."""
    flag = option or _option_of(name)
    return f"{name}={value!r} ({cli or (flag if value is True else f'{flag} {value}')})"


def _option_of(name: str) -> str:
    return "--" + name.rsplit(".", 1)[-1].replace("_", "-")


class UnknownFieldError(ConfigError, TypeError):
    """A config was given a keyword that is none of its fields. Also a TypeError, what the dataclass raised for it
    before, so code that caught that keeps working."""


def unknown_fields(config: str, names: list[str], fields: tuple[str, ...],
                   options: dict[str, str] | None = None) -> UnknownFieldError:
    """Error for keywords ``names`` that config class ``config`` has no field of: the closest field for each
    (a typo, or an option's name such as ``negatives`` for ``num_negatives``) and the full list. ``options`` maps
    a name that is a command-line option's, or another config's field, to the hint for it (``did you mean
    'learning_rate' (the field --lr sets)?``, ``a field of MineConfig.select / SelectConfig (negmine mine
    --num-negatives) ..., not of EvalConfig``): that is what the user meant, whatever difflib finds close."""
    import difflib

    guesses = []
    for name in names:
        if options and name in options:
            guesses.append(f"{name!r}: {options[name]}")
            continue
        close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
        close = close or [f for f in fields if name.replace("-", "_") in f.split("_") or f.endswith("_" + name)][:1]
        if close:
            guesses.append(f"{name!r}: did you mean {close[0]!r}?")
    which = ", ".join(repr(n) for n in names)
    hint = f" ({'; '.join(guesses)})" if guesses else ""
    return UnknownFieldError(f"{config} has no field{'s' if len(names) > 1 else ''} {which}{hint}; its fields: "
                             f"{', '.join(fields)}")


class FrozenConfigError(NegmineError, dataclasses.FrozenInstanceError):
    """An assignment to (or deletion of) an attribute of a frozen config. Also the FrozenInstanceError the
    dataclass raised for it before, so code that caught that keeps working; its message ("cannot assign to field
    'num_negatives'") did not say how a config is changed: a copy made with ``dataclasses.replace``."""


def frozen_config(config: str, name: str, fields: tuple[str, ...], value: object = None,
                  deleting: bool = False) -> FrozenConfigError:
    """Error for ``cfg.name = value`` (or ``del cfg.name``) on a config of class ``config``: for a field, the
    ``dataclasses.replace`` call that makes the changed copy; for another name, the fields there are."""
    act = "delete" if deleting else "assign to"
    if name not in fields:
        return FrozenConfigError(f"cannot {act} {name!r}: {config} is frozen and has no field {name!r}; its fields: "
                                 f"{', '.join(fields)}")
    shown = "..." if deleting else f"{value!r:.60}"
    return FrozenConfigError(f"cannot {act} field {name!r}: {config} is frozen; make a changed copy instead: "
                             f"config = dataclasses.replace(config, {name}={shown})")
