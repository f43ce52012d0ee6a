"""Refuse a pairs file whose rows carry pair labels: a ``label`` or ``score`` column with more than one value.

sentence-transformers' pair-class and pair-score sets (NLI ``premise/hypothesis/label``, Quora duplicates and
SICK ``sentence1/sentence2/label``, STSb ``sentence1/sentence2/score``) hold matching and non-matching pairs
in one file. ``negmine mine --pairs`` takes every row as a (query, positive) pair and ignored the label, so a
pair labelled as not matching was mined as a positive (a ``sentence1,sentence2,label`` file of 72 rows, half of
them labelled 0: 72 pairs in, 71 mined, no word). A column with one value throughout says nothing against any
row and is accepted.
"""

from __future__ import annotations

from typing import Any

from negmine.io.columns import find_column
from negmine.io.row_source import RowSource
from negmine.io.table import MISSING

LABEL_COLUMNS = ("label", "labels", "score", "scores", "relevance", "is_duplicate")
"""Columns that hold a pair's label or graded score in common pair datasets (checked in this order)."""


def check_pair_labels(source: RowSource, available: list[str], text_columns: tuple[str, ...]) -> None:
    """InputError at the first row whose label differs from the first row's, naming both values and the fix (for
    a file, in pandas terms; for a Hugging Face dataset, in ``datasets`` terms)."""
    column = find_column([c for c in available if c not in text_columns], LABEL_COLUMNS)
    if column is None:
        return
    first: Any = None
    for where, (value,) in source.rows([column]):
        if first is None:
            first = (value,)
            continue
        if not _same(value, first[0]):
            raise source.input_error(where, column, (
                f"{_show(value)} differs from the first row's {_show(first[0])}: the rows carry pair labels, but "
                f"{source.reader} takes every row as a (query, positive) pair, so a pair labelled as not "
                f"matching would be mined as a positive; keep the rows of matching pairs only and "
                f"{source.keep_matching(column)}"
            ))


def _same(a: Any, b: Any) -> bool:
    return (a is MISSING) == (b is MISSING) and (a is MISSING or (type(a) is type(b) and a == b))


def _show(value: Any) -> str:
    return "a missing value" if value is MISSING else f"value {value!r}"
