"""The texts of a training row as the batch samplers compare them, and which rows of a batch share one: shared by
the no-duplicates sampler (:mod:`negmine.train.samplers.no_duplicates`) and topic batching
(:mod:`negmine.train.samplers.topic`).

A text is compared by a stable 64-bit hash of it (BLAKE2b, the same in every process, unlike Python's salted
``hash``), so the samplers hold 8 bytes per text, not a second copy of the training text: topic batching reads every
row at once (200,000 rows of 5 texts of ~1,000 characters: 1,168 MiB of RSS held as strings, 13 MiB as hashes,
read a chunk of rows at a time). A look-up (``values[row]``) builds the row's set: the swaps of
:mod:`negmine.train.samplers.clash_swaps` read the hash table (:attr:`RowValues.table`) with numpy instead. Two
different texts sharing a hash (odds about 2**-64 per pair) would only make the samplers treat them as one text, so
separate two rows that could have shared a batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping as MappingABC
from typing import AbstractSet, Iterator, Mapping, Sequence

import numpy as np

CHUNK_ROWS = 1_000  # rows read at once by RowValues.read_all: bounds the strings held while hashing


def text_hash(value) -> int:
    """Stable 64-bit hash of ``str(value)`` (the same in every process and run)."""
    data = str(value).encode("utf-8", "surrogatepass")  # a lone surrogate (valid JSON) is a text too
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class RowValues(MappingABC):
    """Row index -> the hashes (:func:`text_hash`) of the row's texts (query, positive, negatives), read on first use
    or all at once (:meth:`read_all`, kept as one ``uint64`` array). The dataset must have no label column (the
    samplers remove it first)."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset
        self.read: dict[int, frozenset[int]] = {}  # rows read one by one
        self.table: np.ndarray | None = None  # (rows, columns) hashes, after read_all

    def __getitem__(self, row: int) -> frozenset[int]:
        if self.table is not None:
            return frozenset(self.table[row].tolist())
        if row not in self.read:
            self.read[row] = frozenset(self.hashes(row))
        return self.read[row]

    def hashes(self, row: int) -> list[int]:
        """The hashes of the row's texts, in column order, read from the dataset (not kept)."""
        if not 0 <= row < len(self.dataset):
            raise KeyError(row)
        return [text_hash(value) for value in self.dataset[row].values()]

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.dataset)))

    def read_all(self) -> RowValues:
        """Hash every row's texts, a chunk of rows at a time, column by column (faster than row by row on a large
        dataset; a chunk's strings are freed before the next is read); returns self."""
        names, n = self.dataset.column_names, len(self.dataset)
        table = np.empty((n, len(names)), dtype=np.uint64)
        for start in range(0, n, CHUNK_ROWS):
            chunk = self.dataset[start:start + CHUNK_ROWS]
            for j, name in enumerate(names):
                table[start:start + len(chunk[name]), j] = [text_hash(value) for value in chunk[name]]
            del chunk  # before the next chunk is read
        self.table = table
        return self

    def with_rows(self, rows: Mapping[int, Sequence[int]]) -> RowValues:
        """A copy of these values, read with :meth:`read_all`, holding ``rows``' hashes (row -> its texts' hashes)
        for those rows: a row with fewer hashes than the widest repeats its first, which its set holds once."""
        assert self.table is not None, "read_all first"
        width = max([self.table.shape[1], *map(len, rows.values())])
        table = np.empty((len(self.table), width), dtype=np.uint64)
        table[:, :self.table.shape[1]] = self.table
        table[:, self.table.shape[1]:] = self.table[:, :1]
        for row, hashes in rows.items():
            table[row] = [*hashes, *[hashes[0]] * (width - len(hashes))]
        copy = RowValues(self.dataset)
        copy.table = table
        return copy

    def with_negatives(self, negatives: Mapping[int, Sequence[str]]) -> RowValues:
        """:meth:`with_rows` for the rows of :class:`RowsWithNegatives` over this dataset and ``negatives``, hashing
        the re-mined negatives alone: a row's other texts are this table's (read with :meth:`read_all`), so no row is
        read back from the dataset. The hashes are the overlaid rows' (:meth:`hashes`), in their order: ``negative_k``
        in its column, a negative the dataset has no column for after the columns."""
        assert self.table is not None, "read_all first"
        column = {name: j for j, name in enumerate(self.dataset.column_names)}
        rows: dict[int, list[int]] = {}
        for row, texts in negatives.items():
            if not 0 <= row < len(self.table):
                raise KeyError(row)
            hashes = self.table[row].tolist()
            for k, text in enumerate(texts):
                j = column.get(f"negative_{k + 1}")
                if j is None:
                    hashes.append(text_hash(text))
                else:
                    hashes[j] = text_hash(text)
            rows[row] = hashes
        return self.with_rows(rows)


def without_labels(dataset, valid_label_columns: list[str] | None):
    """``dataset`` without the label columns the trainer names (a label is no text: two rows may share one)."""
    label_columns = set(dataset.column_names) & set(valid_label_columns or [])
    return dataset.remove_columns(sorted(label_columns)) if label_columns else dataset


Values = Mapping[int, AbstractSet[int]]  # row -> its texts' hashes (:class:`RowValues`)


def clashes(row: int, batch: list[int], values: Values) -> list[int]:
    """The rows of ``batch`` sharing a text with ``row``."""
    texts = values[row]
    return [other for other in batch if not texts.isdisjoint(values[other])]


class RowsWithNegatives:
    """A sampler's view of the dataset with each row's ``negative_k`` texts replaced by ``negatives[row]``."""

    def __init__(self, rows, negatives: Mapping[int, Sequence[str]]) -> None:
        self.rows = rows
        self.negatives = negatives
        self.column_names = rows.column_names

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, row: int) -> dict:
        values = self.rows[row]
        for k, text in enumerate(self.negatives.get(row, ())):
            values[f"negative_{k + 1}"] = text
        return values
