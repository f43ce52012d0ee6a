"""Choosing a table's text columns: an explicit name, or the first known alias present.

The aliases follow the column names of sentence-transformers training datasets (``anchor``/``positive``,
``query``/``answer``, ``sentence1``/``sentence2``, ...) and of common corpus files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from negmine.errors import InputError

QUERY_COLUMNS = ("query", "anchor", "question", "sentence1", "sentence_A", "text1")
POSITIVE_COLUMNS = ("positive", "pos", "answer", "document", "passage", "sentence2", "sentence_B", "text2")
CORPUS_TEXT_COLUMNS = ("text", "document", "passage", "content", "contents", "body")
CORPUS_ID_COLUMNS = ("_id", "id", "doc_id", "docid", "corpus-id", "corpus_id")


def pick_column(
    path: str | Path | None, available: list[str], given: str | None, aliases: tuple[str, ...], role: str, fix: str,
    error: Callable[[str | None, str], InputError] | None = None, setting: Callable[[str], str] = repr,
) -> str:
    """``given`` if it is a column, else the first of ``aliases`` present; InputError listing the columns.

    ``role`` (e.g. "query") names the column in the message; ``fix`` says how to choose it. ``error(column,
    problem)`` makes the error when the table is no file at ``path`` (a Hugging Face dataset). ``setting(column)``
    is how the caller sets the column a typo's hint suggests: ``'answer'`` by default, ``positive_column='answer'``
    for a keyword, ``data.positive_column='answer' (--positive-column answer)`` for a config's field.
    """
    fail = error or (lambda column, problem: InputError(path, None, column, problem))
    listed = ", ".join(repr(c) for c in available) or "none"
    if given is not None:
        if given not in available:
            raise fail(given, f"{role} column not found; available columns: {listed}{_closest(given, available, setting)}")
        return given
    for alias in aliases:
        if alias in available:
            return alias
    raise fail(None, f"no {role} column found (looked for {', '.join(aliases)}); available columns: {listed}; {fix}")


def _closest(given: str, available: list[str], setting: Callable[[str], str] = repr) -> str:
    """``; did you mean 'answer_text'?`` for a column name that reads as a typo or a part of an available one
    (``--positive-column answer`` for ``answer_text``, ``Query`` for ``query``), else ""; the column as
    ``setting`` gives it (:func:`pick_column`)."""
    import difflib

    from negmine.errors import CLOSE_NAME

    by_lower = {name.lower(): name for name in reversed(available)}  # the first of names equal but for case
    close = difflib.get_close_matches(given.lower(), list(by_lower), n=1, cutoff=CLOSE_NAME)
    return f"; did you mean {setting(by_lower[close[0]])}?" if close else ""


def find_column(available: list[str], aliases: tuple[str, ...]) -> str | None:
    """The first of ``aliases`` present in ``available``, or None (for optional columns)."""
    return next((alias for alias in aliases if alias in available), None)
