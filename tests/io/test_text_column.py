import os

import numpy as np
import pytest

from negmine.io import text_column
from negmine.io.text_column import TextColumn, TextColumnBuilder

TEXTS = [f"text {i} " + "é" * (i % 7) for i in range(200)]


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(text_column, "BATCH_ROWS", 16)  # several Arrow chunks from 200 texts


def _built(texts, spill_bytes, spill_dir=None):
    with TextColumnBuilder(spill_bytes=spill_bytes, spill_dir=spill_dir) as builder:
        builder.extend(texts)
        return builder.finish()


@pytest.mark.parametrize("spill_bytes", [None, 0, 500])
def test_column_is_the_sequence_it_was_built_from(small_batches, spill_bytes, tmp_path):
    column = _built(TEXTS, spill_bytes, tmp_path)
    assert len(column) == len(TEXTS)
    assert list(column) == TEXTS
    assert column == TEXTS and TEXTS == column
    assert [column[i] for i in (0, 17, 199, -1, -200)] == [TEXTS[i] for i in (0, 17, 199, -1, -200)]
    assert column[5:40:3] == TEXTS[5:40:3]
    assert column[::-1] == TEXTS[::-1]
    rows = np.array([199, 0, 16, 15, 16, 100])
    assert column.take(rows) == [TEXTS[r] for r in rows]
    assert column.take([]) == []


def test_spills_to_a_mapped_file_that_is_already_unlinked(small_batches, tmp_path):
    column = _built(TEXTS, 500, tmp_path)
    assert column.spilled
    assert os.listdir(tmp_path) == []  # the mapping keeps the pages, no file is left behind
    assert list(column) == TEXTS
    assert not _built(TEXTS, None, tmp_path).spilled
    assert not _built(TEXTS[:3], 10**9, tmp_path).spilled


def test_a_failed_read_removes_its_spill_file(small_batches, tmp_path):
    with pytest.raises(ValueError, match="bad row"):
        with TextColumnBuilder(spill_bytes=0, spill_dir=tmp_path) as builder:
            builder.extend(TEXTS)
            assert os.listdir(tmp_path)  # spilled while reading
            raise ValueError("bad row")
    assert os.listdir(tmp_path) == []


def test_out_of_range_rows_and_bad_keys_raise():
    column = TextColumn.from_texts(["a", "b"])
    with pytest.raises(IndexError, match="text row 2 out of range for 2 texts"):
        column[2]
    with pytest.raises(IndexError, match="text row -3 out of range for 2 texts"):
        column.take([0, -3])
    with pytest.raises(TypeError, match="integers or slices, got str"):
        column["a"]


def test_equality_and_extension():
    column = TextColumn.from_texts(["a", "b"])
    assert column != ["a"] and column != ["a", "c"] and column != "ab"
    grown = column.extended(["c"])
    assert list(grown) == ["a", "b", "c"] and list(column) == ["a", "b"]
    assert TextColumn.from_texts([]) == [] and len(TextColumn.from_texts([])) == 0


def test_arrow_storage_is_smaller_than_python_strings():
    texts = [f"document number {i} about a topic" for i in range(10000)]
    column = TextColumn.from_texts(texts)
    utf8 = sum(len(t.encode()) for t in texts)
    assert utf8 + 8 * len(texts) <= column.nbytes <= utf8 + 8 * (len(texts) + 1)  # UTF-8 plus 64-bit offsets
    assert "10000 texts" in repr(column) and "in memory" in repr(column)


def test_a_spill_file_a_killed_run_left_is_removed_by_the_next_spill(small_batches, tmp_path):
    import subprocess
    import sys

    from negmine.io.atomic import _host

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    left = tmp_path / f"{text_column.SPILL_PREFIX}{_host()}.{dead}.abc.arrow"
    left.write_bytes(b"texts of a run killed with kill -9")
    column = _built(TEXTS, 0, tmp_path)
    assert column.spilled and not left.exists()
    assert list(column) == TEXTS


@pytest.mark.parametrize("spill_bytes", [None, 0])
def test_a_text_utf8_cannot_store_is_an_input_error_naming_its_index(small_batches, spill_bytes, tmp_path):
    """pyarrow raised a bare UnicodeEncodeError for a lone surrogate (a text built in Python: the readers refuse one
    at its line); the error now matches the Dataset check's, with the index among all texts (here in batch 3)."""
    from negmine.errors import InputError

    texts = TEXTS[:40] + ["a\ud800b"]
    with pytest.raises(InputError) as info:
        _built(texts, spill_bytes, tmp_path)
    assert str(info.value) == (
        "<input>: field 'text': the text at index 40 holds the lone UTF-16 surrogate '\\ud800' at character 2, which "
        "UTF-8 cannot store, so no model, hash or file can take it; the file readers refuse it, so it was built in "
        "Python (e.g. from bytes decoded with errors='surrogateescape'): fix the text there, e.g. decode the bytes "
        "with errors='replace'")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert os.listdir(tmp_path) == []  # a spilled builder removed its file
    with pytest.raises(InputError, match=r"^<input>: field 'text': the text at index 1 holds the lone UTF-16 "
                       r"surrogate '\\udcff' at character 1"):
        TextColumn.from_texts(["a", "\udcff"])
    with pytest.raises(InputError, match="the text at index 2 holds"):
        TextColumn.from_texts(["a"]).extended(["b", "c", "d\ud83d"])  # its index among the texts given
