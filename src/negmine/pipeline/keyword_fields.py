"""``mine_dataset``'s keywords that set a MineConfig field, and its messages naming the keyword the caller sets.

One mapping, :data:`KEYWORD_FIELDS`, both sets the fields (:func:`with_fields`) and names them back
(:func:`keyword_message`): ``mine``'s checks name the config's field and the command line's option
(``unknown strategy 'simams'; ...; did you mean select.strategy='simans' (--strategy simans)?``), neither of which
a ``mine_dataset(..., sampling_strategy='simams')`` caller typed; the message now says ``did you mean
sampling_strategy='simans'?``. Without ``config=``, every keyword's field is named as the keyword, given or at its
default (:func:`renamed_keywords`). ``output_format``, which sets ``output.formats`` (a list of names), has its own
check (:func:`negmine.pipeline.in_memory.check_output_format`).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from typing import Any, Iterator

from negmine.errors import ConfigError

KEYWORD_FIELDS = {
    "num_negatives": "select.num_negatives",
    "sampling_strategy": "select.strategy",
    "relative_margin": "filters.relative_margin",
    "absolute_margin": "filters.absolute_margin",
    "output_scores": "output.export_scores",
    "query_column": "data.query_column",
    "positive_column": "data.positive_column",
}
"""``mine_dataset`` keyword -> the MineConfig field (``part.name``) it replaces."""

COLUMN_KEYWORDS = ("query_column", "positive_column")
"""The keywords of :data:`KEYWORD_FIELDS` that name the data's columns: ``mine_dataset`` reads its data with them
(:class:`KeywordColumns`), and gives ``mine`` the data read without them."""


def with_fields(config: Any, keywords: dict[str, Any]) -> Any:
    """``config`` with the field of each keyword (:data:`KEYWORD_FIELDS`) whose value is not None replaced."""
    parts: dict[str, dict[str, Any]] = {}
    for keyword, value in keywords.items():
        if value is not None:
            part, name = KEYWORD_FIELDS[keyword].split(".")
            parts.setdefault(part, {})[name] = value
    return replace(config, **{part: replace(getattr(config, part), **values) for part, values in parts.items()})


@contextlib.contextmanager
def named_by_keyword(keywords: dict[str, Any], config_given: bool = True) -> Iterator[None]:
    """Within the block, a ConfigError naming the field of a keyword (:func:`renamed_keywords`) names the keyword
    instead (:func:`keyword_message`); the same exception, re-raised."""
    try:
        yield
    except ConfigError as err:
        message = str(err)
        named = keyword_message(message, renamed_keywords(keywords, config_given))
        if named != message:
            err.args = (named,)
        raise


def renamed_keywords(keywords: dict[str, Any], config_given: bool) -> list[str]:
    """The keywords of :data:`KEYWORD_FIELDS` whose field a message names as the keyword: those given (not None);
    without ``config_given``, every one, since then ``mine_dataset`` built the config itself and its caller sets
    each field, at its default or not, by the keyword alone (``cannot mine 5 negatives: ...; lower num_negatives``
    for the default ``num_negatives``, where it said ``select.num_negatives (--num-negatives)``). A field the
    caller's ``config=`` holds and no keyword replaced stays named as the field: that is how that caller set it."""
    if not config_given:
        return list(KEYWORD_FIELDS)
    return [keyword for keyword, value in keywords.items() if value is not None]


def keyword_message(message: str, keywords: list[str]) -> str:
    """``message`` with each form of the field of each of ``keywords`` in it as the keyword: ``MineConfig.`` and
    ``select.num_negatives``, ``select.num_negatives (--num-negatives)``, ``select.num_negatives=5 (--num-negatives
    5)`` -> ``num_negatives``, ``num_negatives=5``; the option, which ``mine_dataset`` does not take, left out."""
    for keyword in keywords:
        message = _field_forms(KEYWORD_FIELDS[keyword]).sub(lambda found: keyword + (found["value"] or ""), message)
    return message


def _field_forms(path: str) -> re.Pattern[str]:
    """The forms a message names the field ``path`` in (:func:`negmine.config_path.path_option`,
    :func:`~negmine.config_path.path_setting`, :func:`~negmine.config_path.class_path`)."""
    value = r"=(?:'[^']*'|\"[^\"]*\"|[^\s;,)]+)"
    option = r" \(--[\w-]+(?: [^()]*)?\)"
    return re.compile(rf"(?<![\w.])(?:MineConfig\.)?{re.escape(path)}(?!\w)(?P<value>{value})?(?:{option})?")


class KeywordColumns:
    """The :class:`negmine.io.pairs.ColumnOptions` of ``mine_dataset``: its messages about the columns name its
    keywords, where the pairs readers' said ``pass query_column (--query-column)``, an option ``mine_dataset`` does
    not take: ``call mine_dataset(data, ..., query_column='zz')``. A column set in the caller's ``config=`` and by no
    keyword is named as the config's field (``data.query_column='query'``): ``keywords`` are those named as
    keywords (:func:`renamed_keywords`)."""

    def __init__(self, keywords: list[str]) -> None:
        self.keywords = keywords

    def setting(self, name: str, column: str) -> str:
        return f"{name if name in self.keywords else KEYWORD_FIELDS[name]}={column!r}"

    def fix(self, examples: dict[str, str | None]) -> str:
        shown = (f"{name}={'...' if example is None else repr(example)}" for name, example in examples.items())
        return f"call mine_dataset(data, ..., {', '.join(shown)})"
