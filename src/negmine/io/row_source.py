"""Where the rows of a pairs table come from: a file, or a table held in memory (Arrow, a Hugging Face dataset).

The pairs reader (:mod:`negmine.io.pairs`) reads its columns through a row source, so a pairs file, a
``datasets.Dataset`` and the folder its ``save_to_disk`` wrote are checked by the same code, give the same ids
(``q<row>``, ``d<row>``, rows counted from 1) and word their problems the same; only where a message points
differs: a file's line or data row (``p.jsonl:17: field 'positive': ...``), a dataset's row and index
(``dataset 'nq', row 17 (index 16), column 'positive': ...``, :class:`negmine.errors.DatasetInputError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol

from negmine.errors import DatasetInputError, InputError
from negmine.io.files import file_identity
from negmine.io.table import (
    Where, arrow_type_problem, batch_rows, cell_error, cell_text, check_parquet_types, iter_table, table_columns,
    text_or_problem,
)


class RowSource(Protocol):
    """A table the pairs reader reads: its columns, their types, its rows, and errors pointing into it."""

    label: str
    """Names the source in messages and as the loaded records' ``source``: the path, or ``dataset 'nq'``."""
    name: str
    """The loaded Dataset's name: the file's stem, the dataset's name."""
    unit: str
    """What the source is, for "no pairs in the file" / "... in the dataset"."""
    reader: str
    """What reads it, in messages: "negmine mine --pairs" for a file, "negmine" for a dataset held in memory."""

    def columns(self) -> list[str]: ...

    def check_types(self, kinds: dict[str, str]) -> None: ...

    def rows(self, columns: list[str]) -> Iterator[tuple[Where, list[Any]]]: ...

    def input_error(self, where: Where | None, column: str | None, problem: str) -> InputError: ...

    def text(self, where: Where, column: str, value: Any) -> str: ...

    def keep_matching(self, column: str) -> str: ...

    def identity(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FileRows:
    """A JSONL, CSV/TSV or Parquet file (:mod:`negmine.io.table`)."""

    path: Path
    unit = "file"
    reader = "negmine mine --pairs"

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.stem

    def columns(self) -> list[str]:
        return table_columns(self.path)

    def check_types(self, kinds: dict[str, str]) -> None:
        check_parquet_types(self.path, kinds)

    def rows(self, columns: list[str]) -> Iterator[tuple[Where, list[Any]]]:
        return iter_table(self.path, columns)

    def input_error(self, where: Where | None, column: str | None, problem: str) -> InputError:
        return InputError(self.path, None, column, problem) if where is None else cell_error(self.path, where, column, problem)

    def text(self, where: Where, column: str, value: Any) -> str:
        return cell_text(self.path, where, column, value)

    def keep_matching(self, column: str) -> str:
        """How to keep the matching pairs of a file whose rows carry pair labels (:mod:`negmine.io.pair_labels`)."""
        return (f"mine that file (e.g. pandas: df[df[{column!r}] == MATCH].drop(columns={column!r}), MATCH being the "
                "dataset's value for a match)")

    def identity(self) -> dict[str, Any]:
        """The file read, for the mining summary's ``pairs_input``: its resolved path and size."""
        return {"kind": "file", **file_identity(self.path)}


@dataclass(frozen=True)
class ArrowRows:
    """A table held in memory as Arrow data: a ``pyarrow.Table``, or a Hugging Face dataset (whose rows are Arrow
    tables underneath; :mod:`negmine.io.hf_datasets`). ``batches(columns)`` yields Arrow tables or record batches of
    those columns, in row order; ``schema`` is the Arrow schema of every column. ``about`` identifies the data
    (:meth:`identity`); ``list_fix(column, others)`` is the fix for a column of lists and ``keep_fix(column)`` how
    to keep the matching pairs of a table with pair labels, in the terms of the library that holds the data
    (defaults: pandas' ``explode``; pyarrow's ``filter``, :func:`pyarrow_keep_matching`)."""

    label: str
    name: str
    schema: Any
    batches: Callable[[list[str]], Iterable[Any]]
    about: dict[str, Any] = field(default_factory=dict)
    list_fix: Callable[[str, list[str]], str] | None = None
    keep_fix: Callable[[str], str] | None = None
    unit = "dataset"
    reader = "negmine"

    def columns(self) -> list[str]:
        return list(self.schema.names)

    def check_types(self, kinds: dict[str, str]) -> None:
        fix = None
        if self.list_fix is not None:
            fix = lambda column: self.list_fix(column, [c for c in kinds if c != column])  # noqa: E731
        problem = arrow_type_problem(self.schema, kinds, fix)
        if problem is not None:
            raise self.input_error(None, *problem)

    def rows(self, columns: list[str]) -> Iterator[tuple[Where, list[Any]]]:
        return batch_rows(self.batches(columns), columns)

    def input_error(self, where: Where | None, column: str | None, problem: str) -> InputError:
        return DatasetInputError(self.label, None if where is None else where.row, column, problem)

    def text(self, where: Where, column: str, value: Any) -> str:
        text, problem = text_or_problem(column, value)
        if problem is not None:
            raise self.input_error(where, column, problem)
        return text

    def keep_matching(self, column: str) -> str:
        """How to keep the matching pairs of a table whose rows carry pair labels (:mod:`negmine.io.pair_labels`),
        in the terms of the library that holds it (``keep_fix``)."""
        return (self.keep_fix or pyarrow_keep_matching)(column)

    def identity(self) -> dict[str, Any]:
        """What identifies the data, for the mining summary's ``pairs_input`` (:mod:`negmine.io.hf_datasets`)."""
        return dict(self.about)


def pyarrow_keep_matching(column: str) -> str:
    """How to keep the matching pairs of a ``pyarrow.Table`` with pair labels, in pyarrow terms (a
    ``pyarrow.Table`` has no ``filter(lambda ...)``, which the ``datasets`` hint gave it; the test runs the snippet
    as printed)."""
    return (f"mine those (e.g. import pyarrow.compute as pc; table = table.filter(pc.equal(table[{column!r}], "
            f"MATCH)).drop_columns([{column!r}]), MATCH being the table's value for a match; for negmine mine "
            "--pairs, write it with pyarrow.parquet.write_table(table, 'pairs.parquet') and give that file)")


def arrow_table_rows(table: Any, name: str | None = None) -> ArrowRows:
    """A ``pyarrow.Table`` as a row source, named ``name`` in messages (else :func:`in_memory_label`:
    ``the pyarrow.Table of 2 rows``)."""
    from negmine.io.table import BATCH_ROWS

    label = dataset_label(name) if name else in_memory_label(PYARROW_TABLE, table.num_rows)
    return ArrowRows(label, name or "dataset", table.schema,
                     lambda columns: table.select(columns).to_batches(max_chunksize=BATCH_ROWS),
                     {"kind": PYARROW_TABLE})


PYARROW_TABLE = "pyarrow.Table"


def dataset_label(name: str | None, split: str | None = None, from_split: str | None = None) -> str:
    """``dataset 'nq'``: how messages name a dataset held in memory by its name, with `` (from split 'train')``, the
    split ``datasets`` keeps its rows were loaded as (:func:`in_memory_label`), or ``, split 'train'``, the
    ``DatasetDict``'s split negmine was told to read. Without a name, ``the data given``: a ``DatasetDict`` or a
    streaming dataset, refused before any row is read; data read has :func:`in_memory_label` instead."""
    label = f"dataset {name!r}" if name else "the data given"
    label += f" (from split {from_split!r})" if from_split else ""
    return label + (f", split {split!r}" if split is not None else "")


def in_memory_label(kind: str, rows: int | None, builder: str | None = None, from_split: str | None = None,
                    split: str | None = None, article: str = "the") -> str:
    """How messages name data held in memory that has no name of its own, by what it is (``kind``:
    ``datasets.Dataset``, ``pyarrow.Table``) and its ``rows``: ``the datasets.Dataset of 2 rows``, whatever made
    it (``Dataset.from_dict``, ``from_list``, ``from_pandas``, a ``DatasetDict``'s split, ...), with what
    ``datasets`` keeps of where its rows came from: ``(from split 'train', loaded by the 'json' builder)``, the split
    they were loaded as (a subset of it, such as ``train_test_split``'s test rows, keeps that split's name) and the
    builder that read files into it (:func:`negmine.io.hf_datasets.builder_of`), and ``, split 'dev'`` for the
    ``DatasetDict``'s split negmine was told to read. Until 2026-12-07 the first was ``the in-memory dataset``, while
    data the ``json`` builder loaded was ``the datasets.Dataset of 2 rows (loaded by the 'json' builder)`` and data
    ``Dataset.from_generator`` made was ``dataset 'generator'``. The mining summary's ``pairs_input`` records the
    same facts, which the report and a refusal to re-mine name so (``article`` ``a``)."""
    count = "?" if rows is None else f"{rows:,}"
    label = f"{article} {kind} of {count} row{'' if rows == 1 else 's'}"
    origin = ([f"from split {from_split!r}"] if from_split else []) + (
        [f"loaded by the {builder!r} builder"] if builder else [])
    label += f" ({', '.join(origin)})" if origin else ""
    return label + (f", split {split!r}" if split is not None else "")


def recorded_label(given: Mapping) -> str:
    """The data given in memory that a mining summary's ``pairs_input`` records, named as the run's messages named it
    (:func:`in_memory_label`, with ``a``): ``a datasets.Dataset of 12 rows (from split 'train', loaded by the 'json'
    builder)``."""
    text = {key: value if isinstance(value, str) else None for key, value in given.items()}
    rows = given.get("rows")
    return in_memory_label(text.get("kind") or "dataset", rows if isinstance(rows, int) else None,
                           text.get("builder"), text.get("from_split"), text.get("split"), article="a")
