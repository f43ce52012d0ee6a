"""Stream selected columns of a JSONL, CSV/TSV or Parquet table, row by row, with error locations.

The format is chosen by file extension (:data:`TABLE_FORMATS`). CSV and Parquet go through pyarrow
(streaming readers, only the requested columns are decoded; CSV columns are read as strings so texts
like ``NA`` or ``007`` stay text). Each row comes with its 1-based data row number and, for JSONL, its
1-based line number; :func:`cell_error` turns that into an InputError naming file, line/row and column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from negmine.errors import InputError, counted, first_line
from negmine.io.files import (
    hash_file, hashed_reader, invisible_note, is_blank, refuse_unreadable_head, require_file, utf8_problem,
)
from negmine.io.jsonl import iter_jsonl, json_type
from negmine.io.utf16 import HEAD_BYTES

TABLE_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
BATCH_ROWS = 65536
LIST_FIX = ("; give one text per row: a row with a list of texts (as FlagEmbedding's 'pos') becomes one row per "
            "text, e.g. pandas: df.explode('{column}')")
"""The fix for a list cell: FlagEmbedding's {query, pos: [...], neg: [...]} files, common own-data input, failed with
only 'must be a string, got array'."""
MISSING = object()
"""Placeholder value for a column absent from a JSONL row."""


class Where(NamedTuple):
    """Location of a table row: 1-based data row (header not counted) and, for JSONL, the file line."""

    row: int
    line: int | None


def table_format(path: str | Path) -> str:
    """``jsonl``, ``csv``, ``tsv`` or ``parquet`` from the extension; InputError listing the allowed ones."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        allowed = ", ".join(TABLE_FORMATS)
        raise InputError(path, None, None, f"unsupported file extension {suffix or '(none)'!r}; allowed: {allowed}")
    return TABLE_FORMATS[suffix]


def cell_error(path: str | Path, where: Where, column: str | None, problem: str) -> InputError:
    """InputError at ``where``: JSONL rows by line number, CSV/Parquet rows as ``data row N``."""
    if where.line is not None:
        return InputError(path, where.line, column, problem)
    return InputError(path, None, column, f"data row {where.row}: {problem}")


def cell_text(path: str | Path, where: Where, column: str, value: Any) -> str:
    """A cell as stripped, non-empty text; InputError when missing, null, not a string or empty (whitespace and
    invisible format characters only, see :func:`negmine.io.files.is_blank`)."""
    text, problem = text_or_problem(column, value)
    if problem is not None:
        raise cell_error(path, where, column, problem)
    return text


def text_or_problem(column: str, value: Any) -> tuple[str, str | None]:
    """``(stripped text, None)``, or ``("", problem)`` for a cell :func:`cell_text` refuses: the check without the
    location, so a reader of any source (a file, a Hugging Face dataset) words it the same and says where itself."""
    if value is MISSING:
        return "", "missing"
    if value is None:
        return "", "missing value (null)"
    if not isinstance(value, str):
        fix = LIST_FIX.format(column=column) if isinstance(value, list) else ""
        return "", f"must be a string, got {json_type(value)}{fix}"
    text = value.strip()
    if is_blank(text):
        return "", f"empty text (nothing left after stripping whitespace{invisible_note(text)})"
    return text, None


def table_columns(path: str | Path) -> list[str]:
    """Column names: the CSV header, the Parquet schema, or the keys of a JSONL file's first row."""
    path = require_file(path)
    fmt = table_format(path)
    if fmt == "jsonl":
        first = next(iter_jsonl(path), None)
        if first is None:
            raise InputError(path, None, None, "no rows in the file; expected one JSON object per line")
        return list(first[1])
    if fmt == "parquet":
        return list(_parquet_file(path).schema_arrow.names)
    try:
        return list(_open_csv(path, fmt, None)[0].schema.names)
    except UnicodeDecodeError as err:  # pyarrow decodes the header's names in Python: a traceback
        raise InputError(path, 1, None, f"header: not valid UTF-8 (byte {err.start + 1} of the line); save the file "
                         f"as UTF-8 (e.g. iconv -f latin1 -t utf-8 {path.name} > utf8-{path.name})") from None


def iter_table(path: str | Path, columns: list[str], digest: Any = None) -> Iterator[tuple[Where, list[Any]]]:
    """Yield ``(where, values)`` with one value per requested column, in file order.

    JSONL values are the decoded JSON values (:data:`MISSING` when the key is absent); CSV values are
    strings; Parquet values are whatever the column holds (check types with :func:`check_parquet_types`).
    A JSONL string UTF-8 cannot store (a lone surrogate escape) is an InputError at its line and column.

    ``digest`` (a ``hashlib`` object), when given, holds the file's hash once every row is read: JSONL and CSV/TSV
    feed it the bytes as they are read (:func:`negmine.io.files.hashed_reader`); a Parquet file is hashed in a pass
    of its own after the rows, since pyarrow reads only the column chunks asked for, not every byte.
    """
    path = require_file(path)
    fmt = table_format(path)
    if fmt == "jsonl":
        for row, (line, obj) in enumerate(iter_jsonl(path, digest), start=1):
            where = Where(row, line)
            yield where, _jsonl_values(path, where, obj, columns)
        return
    yield from batch_rows(_batches(path, fmt, columns, digest), columns)


def batch_rows(batches: Iterable[Any], columns: list[str]) -> Iterator[tuple[Where, list[Any]]]:
    """``(where, values)`` of each row of Arrow record batches or tables (rows numbered from 1 across them), one
    value per column of ``columns``: the rows of a CSV or Parquet file, or of a Hugging Face dataset."""
    row = 0
    for batch in batches:
        for values in zip(*(batch.column(column).to_pylist() for column in columns)):
            row += 1
            yield Where(row, None), list(values)


def _jsonl_values(path: Path, where: Where, obj: dict, columns: list[str]) -> list[Any]:
    """The row's value per column (:data:`MISSING` when absent); InputError for a string UTF-8 cannot store (a
    JSON escape of a lone surrogate; CSV and Parquet strings are valid UTF-8 by construction)."""
    values = [obj.get(column, MISSING) for column in columns]
    for column, value in zip(columns, values):
        problem = utf8_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise cell_error(path, where, column, problem)
    return values


def check_parquet_types(path: str | Path, kinds: dict[str, str]) -> None:
    """For a Parquet file, check each ``column -> 'text' | 'id'`` has a string (or, for ids, integer) type."""
    if table_format(path) != "parquet":
        return
    problem = arrow_type_problem(_parquet_file(Path(path)).schema_arrow, kinds)
    if problem is not None:
        raise InputError(path, None, *problem)


def arrow_type_problem(schema: Any, kinds: dict[str, str],
                       list_fix: Callable[[str], str] | None = None) -> tuple[str, str] | None:
    """``(column, problem)`` for the first ``column -> 'text' | 'id'`` of ``kinds`` whose type in the Arrow
    ``schema`` is not a string (or, for ids, an integer) type; None when every one is. A list column's problem ends
    with ``list_fix(column)`` (default :data:`LIST_FIX`, pandas' ``explode``)."""
    import pyarrow as pa

    for column, kind in kinds.items():
        dtype = schema.field(column).type
        value_type = dtype.value_type if pa.types.is_dictionary(dtype) else dtype
        ok = _is_arrow_string(pa, value_type)
        if kind == "id":
            ok = ok or pa.types.is_integer(value_type)
        if not ok:
            wanted = "string or integer" if kind == "id" else "string"
            listed = pa.types.is_list(value_type) or pa.types.is_large_list(value_type)
            fix = "" if not listed else list_fix(column) if list_fix is not None else LIST_FIX.format(column=column)
            return column, f"column has type {dtype}, expected {wanted}{fix}"
    return None


def _is_arrow_string(pa, dtype) -> bool:
    """Whether ``dtype`` is an Arrow string type (string_view only exists from pyarrow 16; the floor is 14)."""
    is_view = getattr(pa.types, "is_string_view", None)
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or (is_view is not None and is_view(dtype))


def _parquet_file(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(path, None, None, f"not a readable Parquet file: {err}") from None


def _open_csv(path: Path, fmt: str, columns: list[str] | None, source: Any = None) -> tuple[Any, list[Any]]:
    """A streaming pyarrow CSV reader and the list its bad-row handler fills (for line numbers).

    ``columns`` (read as strings) restricts what is decoded; ``source``: a file object open on ``path`` to read
    from instead (:func:`negmine.io.files.hashed_reader`). A gzip or UTF-16 file is refused first
    (:func:`negmine.io.files.refuse_unreadable_head`), with the line readers' messages.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open("rb") as handle:  # gzip and UTF-16 read as a malformed CSV ("expected 2 columns, got 1: '\x00'")
        refuse_unreadable_head(path, handle.read(HEAD_BYTES).removeprefix(b"\xef\xbb\xbf"))
    bad_rows: list[Any] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(row)
        return "error"

    tsv = fmt == "tsv"  # TSV: no quoting, so values cannot span lines
    parse = pacsv.ParseOptions(
        delimiter="\t" if tsv else ",",
        quote_char=False if tsv else '"',
        newlines_in_values=not tsv,
        invalid_row_handler=on_invalid,
    )
    read = pacsv.ReadOptions(use_threads=False)  # serial reading numbers the bad rows
    convert = None
    if columns is not None:
        convert = pacsv.ConvertOptions(include_columns=columns, column_types={c: pa.string() for c in columns})
    try:
        opened = pacsv.open_csv(path if source is None else source, read_options=read, parse_options=parse,
                                convert_options=convert)
        return opened, bad_rows
    except pa.ArrowException as err:
        raise _csv_error(path, err, bad_rows) from None


def _batches(path: Path, fmt: str, columns: list[str], digest: Any = None) -> Iterator[Any]:
    """Record batches of ``columns``; pyarrow errors become InputErrors naming the file. ``digest``: see
    :func:`iter_table`."""
    import pyarrow as pa

    if fmt == "parquet":
        try:
            yield from _parquet_file(path).iter_batches(batch_size=BATCH_ROWS, columns=columns)
        except pa.ArrowException as err:
            raise InputError(path, None, None, f"cannot read Parquet data: {err}") from None
        if digest is not None:
            hash_file(path, digest)
        return
    if digest is None:
        yield from _csv_batches(path, fmt, columns, path)
        return
    with hashed_reader(path, digest) as handle:
        yield from _csv_batches(path, fmt, columns, handle)


def _csv_batches(path: Path, fmt: str, columns: list[str], source: Any) -> Iterator[Any]:
    """The record batches of a CSV/TSV file read from ``source`` (``path``, or a file object open on it)."""
    import pyarrow as pa

    reader, bad_rows = _open_csv(path, fmt, columns, source)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowException as err:
            raise _csv_error(path, err, bad_rows) from None
        yield batch


def _csv_error(path: Path, err: Exception, bad_rows: list[Any]) -> InputError:
    """InputError for a pyarrow CSV failure; a wrong column count names the data row (header = row 0)."""
    if bad_rows:
        bad = bad_rows[0]
        where = f"data row {bad.number - 1}: " if bad.number is not None else ""
        return InputError(
            path, None, None, f"{where}expected {counted(bad.expected_columns, 'column')}, got {bad.actual_columns}: {bad.text[:80]!r}"
        )
    return _utf8_error(path, str(err)) or InputError(path, None, None, f"malformed CSV: {first_line(err)}")


_ARROW_UTF8 = re.compile(r"In CSV column #(\d+): (?:Row #(\d+): )?CSV conversion error to string: invalid UTF8 data")


def _utf8_error(path: Path, message: str) -> InputError | None:
    """For pyarrow's "In CSV column #1: Row #5: CSV conversion error to string: invalid UTF8 data" (a file saved
    as Latin-1 or UTF-16), the InputError the other readers give: the column's name as the field, the data row
    (pyarrow numbers the header row 1), and the fix. None for any other message."""
    found = _ARROW_UTF8.search(message)
    if found is None:
        return None
    try:
        names = table_columns(path)
    except InputError:  # the header itself unreadable: name no column
        names = []
    index = int(found[1])
    field = names[index] if index < len(names) else None
    where = f"data row {int(found[2]) - 1}: " if found[2] else ""
    return InputError(path, None, field, f"{where}not valid UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t "
                      f"utf-8 {path.name} > utf8-{path.name})")
