"""A file and an Arrow table as row sources: the same rows, the same checks, errors that point into each."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from negmine.errors import DatasetInputError, InputError
from negmine.io.row_source import FileRows, arrow_table_rows, dataset_label, in_memory_label
from negmine.io.table import Where

COLUMNS = {"query": ["a", "b", None], "positive": ["x", " y ", "z"]}


def test_a_parquet_file_and_the_same_arrow_table_yield_the_same_rows(tmp_path):
    table = pa.table(COLUMNS)
    pq.write_table(table, tmp_path / "p.parquet")
    file_rows, arrow_rows = FileRows(tmp_path / "p.parquet"), arrow_table_rows(table, "t")
    assert file_rows.columns() == arrow_rows.columns() == ["query", "positive"]
    assert list(file_rows.rows(["positive", "query"])) == list(arrow_rows.rows(["positive", "query"])) == [
        (Where(1, None), ["x", "a"]), (Where(2, None), [" y ", "b"]), (Where(3, None), ["z", None])]
    assert arrow_rows.text(Where(2, None), "positive", " y ") == file_rows.text(Where(2, None), "positive", " y ") == "y"


def test_the_same_problem_points_at_a_file_row_or_a_dataset_row(tmp_path):
    file_rows, arrow_rows = FileRows(tmp_path / "p.parquet"), arrow_table_rows(pa.table(COLUMNS), "t")
    for source, message in ((file_rows, f"{tmp_path / 'p.parquet'}: field 'query': data row 3: missing value (null)"),
                            (arrow_rows, "dataset 't', row 3 (index 2), column 'query': missing value (null)")):
        with pytest.raises(InputError) as info:
            source.text(Where(3, None), "query", None)
        assert str(info.value) == message
    assert isinstance(arrow_rows.input_error(None, None, "x"), DatasetInputError)
    assert str(arrow_rows.input_error(None, None, "no pairs in the dataset")) == "dataset 't': no pairs in the dataset"


def test_a_dataset_typed_column_is_checked_as_a_parquet_one():
    rows = arrow_table_rows(pa.table({"query": ["a"], "positive": [3]}), "t")
    with pytest.raises(DatasetInputError) as info:
        rows.check_types({"query": "text", "positive": "text"})
    assert str(info.value) == "dataset 't', column 'positive': column has type int64, expected string"


def test_dataset_labels():
    assert dataset_label("nq") == "dataset 'nq'"
    assert dataset_label("nq", "train") == "dataset 'nq', split 'train'"
    assert dataset_label("nq", from_split="train") == "dataset 'nq' (from split 'train')"
    assert dataset_label(None) == "the data given"  # a DatasetDict or a streaming dataset, refused unread
    assert in_memory_label("datasets.Dataset", 2) == "the datasets.Dataset of 2 rows"
    assert in_memory_label("pyarrow.Table", 1) == "the pyarrow.Table of 1 row"
    assert in_memory_label("datasets.Dataset", 1200, "json", "train") == (
        "the datasets.Dataset of 1,200 rows (from split 'train', loaded by the 'json' builder)")
    assert in_memory_label("datasets.Dataset", 2, "json", split="dev") == (
        "the datasets.Dataset of 2 rows (loaded by the 'json' builder), split 'dev'")
    assert in_memory_label("datasets.Dataset", 12, article="a") == "a datasets.Dataset of 12 rows"
