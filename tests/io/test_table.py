from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from negmine.errors import InputError
from negmine.io.table import MISSING, Where, cell_error, cell_text, check_parquet_types, iter_table, table_columns, table_format


@pytest.mark.parametrize(
    ("name", "fmt"), [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.csv", "csv"), ("a.tsv", "tsv"), ("a.pq", "parquet")]
)
def test_table_format_by_extension(name, fmt):
    assert table_format(name) == fmt


def test_unknown_extension_lists_allowed():
    with pytest.raises(InputError, match=r"^x: unsupported file extension '\(none\)'; allowed: \.jsonl, "):
        table_format("x")


def test_jsonl_rows_carry_row_and_line(write_text):
    path = write_text("t.jsonl", '{"a": 1, "b": "x"}\n\n{"b": "y"}\n')
    assert table_columns(path) == ["a", "b"]
    assert list(iter_table(path, ["b", "a"])) == [(Where(1, 1), ["x", 1]), (Where(2, 3), ["y", MISSING])]


def test_csv_rows_are_strings_with_data_row_numbers(write_text):
    path = write_text("t.csv", 'a,b,c\n1,NA,"x,y"\n007,,z\n')
    assert table_columns(path) == ["a", "b", "c"]
    assert list(iter_table(path, ["c", "a", "b"])) == [(Where(1, None), ["x,y", "1", "NA"]), (Where(2, None), ["z", "007", ""])]


def test_csv_row_numbers_continue_across_batches(write_text):
    path = write_text("t.csv", "a\n" + "x\n" * 200_000 + "last\n")
    *_, (where, values) = iter_table(path, ["a"])
    assert (where, values) == (Where(200_001, None), ["last"])


def test_parquet_rows(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": ["x", None], "n": [1, 2]}), path)
    assert table_columns(path) == ["a", "n"]
    assert list(iter_table(path, ["n", "a"])) == [(Where(1, None), [1, "x"]), (Where(2, None), [2, None])]


@pytest.mark.parametrize("view", [True, False], ids=["pyarrow>=16", "pyarrow<16"])
def test_parquet_types_check_works_with_and_without_string_view(tmp_path, monkeypatch, view):
    """pyarrow 14-15 (the floor is 14) have no ``pa.types.is_string_view``; the check must not need it."""
    if not view:
        monkeypatch.delattr(pa.types, "is_string_view", raising=False)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [7], "text": ["a"], "big": pa.array(["b"], pa.large_string()), "x": [1.5]}), path)
    check_parquet_types(path, {"id": "id", "text": "text", "big": "text"})
    with pytest.raises(InputError, match=r"field 'x': column has type double, expected string$"):
        check_parquet_types(path, {"x": "text"})


def test_cell_error_uses_line_for_jsonl_and_data_row_otherwise():
    assert str(cell_error("f.jsonl", Where(2, 5), "col", "bad")) == "f.jsonl:5: field 'col': bad"
    assert str(cell_error("f.csv", Where(2, None), "col", "bad")) == "f.csv: field 'col': data row 2: bad"


@pytest.mark.parametrize(
    ("value", "problem"),
    [(MISSING, "missing"), (None, "missing value (null)"), (3, "must be a string, got number"),
     (" \t", "empty text (nothing left after stripping whitespace)")],
)
def test_cell_text_rejects(value, problem):
    with pytest.raises(InputError) as info:
        cell_text("f.jsonl", Where(1, 1), "q", value)
    assert str(info.value) == f"f.jsonl:1: field 'q': {problem}"


def test_cell_text_strips():
    assert cell_text("f.csv", Where(1, None), "q", "  hi \n") == "hi"


def test_cell_text_rejects_invisible_only_text_but_keeps_visible_text_unchanged():
    with pytest.raises(InputError) as info:
        cell_text("f.jsonl", Where(1, 4), "q", " \u200b\ufeff ")
    assert str(info.value) == (
        "f.jsonl:4: field 'q': empty text (nothing left after stripping whitespace and the invisible characters "
        "U+200B, U+FEFF)"
    )
    assert cell_text("f.jsonl", Where(1, 4), "q", " \u200bhi\u2060 ") == "\u200bhi\u2060"


def test_jsonl_lone_surrogate_names_line_and_column(write_text):
    path = write_text("t.jsonl", '{"a": "ok", "b": "x"}\n{"a": "ok", "b": "bad \\ud800 y"}\n')
    with pytest.raises(InputError) as info:
        list(iter_table(path, ["a", "b"]))
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), 2, "b")
    assert "lone UTF-16 surrogate '\\ud800' at character 5" in str(err)


@pytest.mark.parametrize(("name", "content", "field", "row"), [
    ("p.csv", b"query,positive\nq1,p1\nq2,caf\xe9\n", "positive", 2),
    ("p.tsv", b"id\tquery\tpositive\n1\tq1\tp1\n2\t\xff\tp2\n3\tq3\tp3\n", "query", 2),
])
def test_a_csv_cell_that_is_not_utf8_names_its_column_and_data_row(write_text, name, content, field, row):
    """pyarrow's text ("In CSV column #1: Row #3: CSV conversion error to string: invalid UTF8 data") named a column
    number counting the header as row 1."""
    path = write_text(name, content)
    with pytest.raises(InputError) as info:
        list(iter_table(path, ["query", "positive"]))
    assert str(info.value) == (f"{path}: field '{field}': data row {row}: not valid UTF-8; save the file as UTF-8 "
                               f"(e.g. iconv -f latin1 -t utf-8 {name} > utf8-{name})")


def test_a_csv_header_that_is_not_utf8_is_an_input_error_at_line_1(write_text):
    """pyarrow decodes the names in Python: a UnicodeDecodeError traceback."""
    path = write_text("p.csv", b"qu\xe9ry,positive\nq1,p1\n")
    with pytest.raises(InputError) as info:
        table_columns(path)
    assert str(info.value) == (f"{path}:1: header: not valid UTF-8 (byte 3 of the line); save the file as UTF-8 "
                               "(e.g. iconv -f latin1 -t utf-8 p.csv > utf8-p.csv)")


@pytest.mark.parametrize("name", ["p.csv", "p.tsv"])
@pytest.mark.parametrize(("encoding", "problem"), [
    ("utf-16-le", "UTF-16LE text without a byte-order mark (byte 2 is 0x00, as is every second byte of its ASCII "
                  "characters), not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16le -t utf-8 {name} > "
                  "utf8-{name})"),
    ("utf-16-be", "UTF-16BE text without a byte-order mark (byte 1 is 0x00, as is every second byte of its ASCII "
                  "characters), not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16be -t utf-8 {name} > "
                  "utf8-{name})"),
    ("utf-16", "not valid UTF-8 (byte 1 of the line); save the file as UTF-8 (e.g. iconv -f utf-16 -t utf-8 {name} > "
               "utf8-{name})"),
])
def test_a_utf16_csv_gets_the_fix_for_utf16(write_text, name, encoding, problem):
    """pyarrow read the 0x00 bytes as data: "data row 2: expected 2 columns, got 1: '\\x00'", a column "not found"
    among '\\x00q\\x00u\\x00...', or, with a big-endian mark, the Latin-1 fix."""
    sep = "," if name.endswith("csv") else "\t"
    path = write_text(name, f"query{sep}positive\nq1{sep}caf\u00e9\n".encode(encoding))
    for read in (table_columns, lambda p: list(iter_table(p, ["query", "positive"]))):
        with pytest.raises(InputError) as info:
            read(path)
        assert str(info.value) == f"{path}:1: {problem.format(name=name)}"


@pytest.mark.parametrize(("text", "columns", "problem"), [
    ("query\nq1\nq2,extra\n", ["query"], "data row 2: expected 1 column, got 2: 'q2,extra'"),
    ("query,positive\nq1,p1\nq2,p2,x\n", ["query", "positive"], "data row 2: expected 2 columns, got 3: 'q2,p2,x'"),
])
def test_a_row_with_another_column_count_counts_the_expected_columns(write_text, text, columns, problem):
    """'expected 1 columns' until 2026-12-07."""
    path = write_text("p.csv", text)
    with pytest.raises(InputError) as info:
        list(iter_table(path, columns))
    assert str(info.value) == f"{path}: {problem}"


def test_a_gzip_csv_is_named_as_such(write_text):
    """pyarrow said "malformed CSV: CSV parse error: Empty CSV file or block: cannot infer number of columns"."""
    import gzip

    path = write_text("p.csv", gzip.compress(b"query,positive\nq1,p1\n"))
    with pytest.raises(InputError) as info:
        list(iter_table(path, ["query", "positive"]))
    assert str(info.value) == f"{path}: gzip-compressed; decompress it first, e.g. gunzip -k {path}"
