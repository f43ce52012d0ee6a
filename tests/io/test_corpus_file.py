from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from negmine.errors import InputError
from negmine.io.corpus_file import read_corpus_file


def _error(path, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        read_corpus_file(path, **kwargs)
    return str(info.value)


def test_jsonl_with_underscore_id_is_read_as_beir(write_text):
    path = write_text("corpus.jsonl", '{"_id": "a", "title": "T", "text": "x"}\n{"_id": 2, "text": "y"}\n')
    corpus = read_corpus_file(path)
    assert (corpus.ids, corpus.texts, corpus.source) == (["a", "2"], ["T x", "y"], str(path))


def test_csv_without_ids_gets_row_ids_and_joins_titles(write_text):
    path = write_text("c.csv", "title,passage\nHead,body\n,only body\nonly title,\n")
    corpus = read_corpus_file(path)
    assert corpus.ids == ["d1", "d2", "d3"]
    assert corpus.texts == ["Head body", "only body", "only title"]


def test_explicit_text_column(write_text):
    path = write_text("c.tsv", "id\ttext\tother\n1\tignored\tchosen\n")
    corpus = read_corpus_file(path, text_column="other")
    assert (corpus.ids, corpus.texts) == (["1"], ["chosen"])


def test_parquet_corpus_with_integer_ids(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"doc_id": [7, 8], "passage": ["a", "b"]}), path)
    corpus = read_corpus_file(path)
    assert (corpus.ids, corpus.texts) == (["7", "8"], ["a", "b"])


def test_parquet_float_ids_are_rejected(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": [1.5], "text": ["a"]}), path)
    assert _error(path) == f"{path}: field 'id': column has type double, expected string or integer"


def test_no_text_column_lists_columns(write_text):
    path = write_text("c.csv", "id,words\n1,a\n")
    assert _error(path) == (
        f"{path}: no corpus text column found (looked for text, document, passage, content, contents, body); "
        "available columns: 'id', 'words'; rename the document text column to 'text'"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,text\na,x\nb,\n", "field 'text': data row 2: empty text (nothing left after stripping whitespace)"),
        ("id,text\na,x\na,y\n", "field 'id': data row 2: duplicate id 'a' (first at data row 1)"),
        ("id,text\na,x\n ,y\n", "field 'id': data row 2: is empty"),
    ],
)
def test_bad_csv_rows_name_data_row_and_column(write_text, content, message):
    path = write_text("c.csv", content)
    assert _error(path) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"id": 1.5, "text": "y"}', "field 'id': must be a string (or an integer), got number"),
        ('{"id": null, "text": "y"}', "field 'id': missing id"),
        ('{"id": "b", "body": "y"}', "field 'text': missing"),
        ('{"id": "b", "text": 3}', "field 'text': must be a string, got number"),
        ('{"id": "b", "title": 3, "text": "y"}', "field 'title': must be a string, got number"),
        ('{"id": "a", "text": "y"}', "field 'id': duplicate id 'a' (first at line 1)"),
    ],
)
def test_bad_jsonl_rows_name_lines(write_text, row, message):
    path = write_text("c.jsonl", '{"id": "a", "text": "x"}\n\n' + row + "\n")
    assert _error(path) == f"{path}:3: {message}"


SPACE = ("id {!r} has whitespace at its start or end; ids are matched exactly across the corpus, queries, qrels and "
         "mined files, so remove it")
BREAK = ("id {!r} holds a {} at character 2, which a qrels TSV line cannot hold, so no judgment could name this id; "
         "remove it or replace it (e.g. with '-'), here and wherever the id is used")


@pytest.mark.parametrize(("value", "problem"), [
    ("d2 ", SPACE.format("d2 ")), ("\u00a0d2", SPACE.format("\u00a0d2")), ("d2\r", SPACE.format("d2\r")),
    ("d\t2", BREAK.format("d\t2", "tab")), ("d\n2", BREAK.format("d\n2", "newline")),
    ("d\ufeff2", "id 'd\\ufeff2' holds a byte-order mark (U+FEFF) at character 2, an invisible character that only the "
     "start of a file may hold (left by joining files saved with one, e.g. with cat, or by pasting from one); ids are "
     "matched exactly across the corpus, queries, qrels and mined files, so 'd2' would not match it: remove the mark "
     "(the bytes EF BB BF, or the JSON escape \\ufeff) from the id, here and wherever the id is used"),
])
def test_csv_parquet_and_jsonl_table_ids_are_checked_as_beir_ids(write_text, write_rows, tmp_path, value, problem):
    """A BEIR corpus refused these ids; a CSV/TSV/Parquet (or JSONL ``id`` column) corpus took them, and the mined
    file carried 'd2 ' (never matching 'd2' elsewhere) or a tab no qrels line can hold."""
    csv_value = '"' + value + '"'
    csv = write_text("c.csv", f"id,text\nd1,x\n{csv_value},y\n")
    assert _error(csv) == f"{csv}: field 'id': data row 2: {problem}"
    parquet = tmp_path / "c.parquet"
    pq.write_table(pa.table({"doc_id": ["d1", value], "passage": ["x", "y"]}), parquet)
    assert _error(parquet) == f"{parquet}: field 'doc_id': data row 2: {problem}"
    jsonl = write_rows("c.jsonl", [{"id": "d1", "text": "x"}, {"id": value, "text": "y"}])
    assert _error(jsonl) == f"{jsonl}:2: field 'id': {problem}"
    if "\t" not in value and "\n" not in value and "\r" not in value:  # a TSV cell cannot hold them
        tsv = write_text("c.tsv", f"id\ttext\nd1\tx\n{value}\ty\n")
        assert _error(tsv) == f"{tsv}: field 'id': data row 2: {problem}"


def test_empty_table_and_missing_file(write_text, tmp_path):
    path = write_text("c.csv", "text\n")
    assert _error(path) == f"{path}: no documents in the file"
    assert _error(tmp_path / "none.csv") == f"{tmp_path / 'none.csv'}: corpus file not found"


def test_table_corpus_texts_are_an_arrow_column_that_spills(write_text, monkeypatch, tmp_path):
    from negmine.io import text_column
    from negmine.io.text_column import TextColumn

    path = write_text("c.csv", "id,text\n1,one\n2,two\n3,three\n")
    assert isinstance(read_corpus_file(path).texts, TextColumn)
    assert not read_corpus_file(path).texts.spilled
    monkeypatch.setattr(text_column, "SPILL_BYTES", 0)
    monkeypatch.setattr(text_column, "BATCH_ROWS", 2)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    before = set(tmp_path.iterdir())
    corpus = read_corpus_file(path)
    assert corpus.texts.spilled and corpus.texts == ["one", "two", "three"] and corpus.text("3") == "three"
    assert set(tmp_path.iterdir()) == before


def test_lone_surrogate_in_a_jsonl_corpus_table_names_line_and_column(write_rows):
    path = write_rows("c.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "bad \udfff"}])
    assert _error(path).startswith(f"{path}:2: field 'text': holds the lone UTF-16 surrogate '\\udfff' at character 5")


def test_a_text_of_only_invisible_characters_is_empty(write_text):
    path = write_text("c.csv", "id,text\n1,visible\n2,\u200b\u2060\n")
    assert "field 'text': data row 2: empty text (nothing left after stripping whitespace and the invisible characters U+200B, U+2060)" in _error(path)


@pytest.mark.parametrize("name", ["big.csv", "big.jsonl", "big.parquet"])
def test_a_digest_given_holds_the_files_hash_and_changes_nothing_read(tmp_path, name):
    """``digest`` is the whole file's sha256 once it is read, for a file of several of the readers' buffers (CSV:
    pyarrow reads blocks through the hashing file object; Parquet: hashed after the rows), and the corpus read is
    the one read without it."""
    import hashlib
    import json

    texts = [f"document {i} " + "word " * (i % 50) for i in range(30000)]
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("id,text\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(texts)), encoding="utf-8")
    elif name.endswith(".jsonl"):
        path.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)),
                        encoding="utf-8")
    else:
        pq.write_table(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}), path)
    digest = hashlib.sha256()
    hashed = read_corpus_file(path, digest=digest)
    plain = read_corpus_file(path)
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert list(hashed.ids) == list(plain.ids) and list(hashed.texts) == list(plain.texts)
