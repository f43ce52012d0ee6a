"""The texts of a training row as the batch samplers compare them, and which rows of a batch share one: shared by
the no-duplicates sampler (:mod:`negmine.train.samplers.no_duplicates`) and topic batching
(:mod:`negmine.train.samplers.topic`)."""

from __future__ import annotations

from typing import Mapping, Sequence


class RowValues(dict):
    """Row index -> the row's texts (query, positive, negatives, each as a string), read on first use. The dataset
    must have no label column (the samplers remove it first)."""

    def __init__(self, dataset) -> None:
        super().__init__()
        self.dataset = dataset

    def __missing__(self, row: int) -> set[str]:
        self[row] = {str(value) for value in self.dataset[row].values()}
        return self[row]

    def read_all(self) -> RowValues:
        """Read every row at once, column by column (faster than row by row on a large dataset); returns self."""
        columns = [self.dataset[name] for name in self.dataset.column_names]
        for row, values in enumerate(zip(*columns)):
            self[row] = {str(value) for value in values}
        return self


def without_labels(dataset, valid_label_columns: list[str] | None):
    """``dataset`` without the label columns the trainer names (a label is no text: two rows may share one)."""
    label_columns = set(dataset.column_names) & set(valid_label_columns or [])
    return dataset.remove_columns(sorted(label_columns)) if label_columns else dataset


def clashes(row: int, batch: list[int], values: dict[int, set[str]]) -> list[int]:
    """The rows of ``batch`` sharing a text with ``row``."""
    return [other for other in batch if not values[row].isdisjoint(values[other])]


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
