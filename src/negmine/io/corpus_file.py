"""Read a corpus from a BEIR ``corpus.jsonl`` or any JSONL/CSV/TSV/Parquet table with a text column.

A JSONL file whose first row has ``_id`` is read as BEIR (:func:`negmine.io.beir.read_corpus`). Other
tables need a text column (:data:`CORPUS_TEXT_COLUMNS`); an id column (:data:`CORPUS_ID_COLUMNS`) and a
``title`` column are optional. Without ids, documents get ``d<row>`` (1-based data row). With a title the
text is ``title + " " + text`` as in BEIR. Empty texts, bad or duplicate ids raise InputError; ids are checked as
the BEIR reader checks them (:func:`negmine.io.beir.id_problem`: no whitespace at an end, no tab, newline or
byte-order mark, something visible).
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any

from negmine.errors import InputError
from negmine.io.beir import id_problem, read_corpus
from negmine.io.columns import CORPUS_ID_COLUMNS, CORPUS_TEXT_COLUMNS, find_column, pick_column
from negmine.io.files import invisible_note, is_blank, require_file
from negmine.io.jsonl import json_type
from negmine.io.records import Corpus, TextTable
from negmine.io.text_column import TextColumnBuilder
from negmine.io.table import MISSING, Where, cell_error, check_parquet_types, iter_table, table_columns, table_format


def read_corpus_file(path: str | Path, text_column: str | None = None, digest: Any = None) -> Corpus:
    """Read and validate a corpus file of any supported format (see module docstring). ``digest`` (a ``hashlib``
    object) holds the file's hash once it is read (:func:`negmine.io.table.iter_table`), for the record of a
    ``--pairs`` run's corpus."""
    path = require_file(path, "corpus file")
    columns = table_columns(path)
    if table_format(path) == "jsonl" and "_id" in columns and text_column is None:
        return read_corpus(path, digest)
    text_col = pick_column(
        path, columns, text_column, CORPUS_TEXT_COLUMNS, "corpus text", "rename the document text column to 'text'"
    )
    id_col = find_column(columns, CORPUS_ID_COLUMNS)
    jsonl_rows = table_format(path) == "jsonl"  # JSONL columns come from row 1; a later title still counts
    title_col = "title" if ("title" in columns or jsonl_rows) and text_col != "title" else None
    wanted = [c for c in (text_col, title_col, id_col) if c is not None]
    check_parquet_types(path, {c: "id" if c == id_col else "text" for c in wanted})
    return _read(path, wanted, id_col is not None, title_col is not None, digest)


def _read(path: Path, wanted: list[str], has_id: bool, has_title: bool, digest: Any = None) -> TextTable:
    """Ids and texts of every row; duplicate ids are rejected once the table is read (with both rows)."""
    rows, lines = array("q"), array("q")  # where each document came from (line -1: not JSONL)
    with TextColumnBuilder() as ids, TextColumnBuilder() as texts:
        for where, values in iter_table(path, wanted, digest):
            text = values[0]
            title = values[1] if has_title else ""
            ids.append(_cell_id(path, where, wanted[-1], values[-1]) if has_id else f"d{where.row}")
            texts.append(_joined(path, where, wanted, title, text))
            rows.append(where.row)
            lines.append(-1 if where.line is None else where.line)
        if not rows:
            raise InputError(path, None, None, "no documents in the file")
        table = TextTable(ids.finish(), texts.finish(), source=str(path))
    duplicate = table.index.first_duplicate()
    if duplicate is not None:
        first, again = (Where(rows[r], None if lines[r] < 0 else lines[r]) for r in duplicate[1:])
        at = f"line {first.line}" if first.line is not None else f"data row {first.row}"
        raise cell_error(path, again, wanted[-1], f"duplicate id {duplicate.item_id!r} (first at {at})")
    return table


def _optional_text(path: Path, where: Where, column: str, value: Any) -> str:
    if value is MISSING or value is None:
        return ""
    if not isinstance(value, str):
        raise cell_error(path, where, column, f"must be a string, got {json_type(value)}")
    return value.strip()


def _joined(path: Path, where: Where, wanted: list[str], title: Any, text: Any) -> str:
    """``title + " " + text`` when both are non-empty, else whichever is; both empty is an error."""
    if text is MISSING:
        raise cell_error(path, where, wanted[0], "missing")
    body = _optional_text(path, where, wanted[0], text)
    head = _optional_text(path, where, "title", title)
    joined = f"{head} {body}" if head and body else head or body
    if is_blank(joined):
        raise cell_error(path, where, wanted[0],
                         f"empty text (nothing left after stripping whitespace{invisible_note(joined)})")
    return joined


def _cell_id(path: Path, where: Where, column: str, value: Any) -> str:
    if value is MISSING or value is None:
        raise cell_error(path, where, column, "missing id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise cell_error(path, where, column, f"must be a string (or an integer), got {json_type(value)}")
    doc_id = str(value)
    if not doc_id.strip():
        raise cell_error(path, where, column, "is empty")
    problem = id_problem(doc_id)  # whitespace at an end, a tab, newline or U+FEFF...: refused as in a BEIR corpus
    if problem is not None:
        raise cell_error(path, where, column, problem)
    return doc_id
