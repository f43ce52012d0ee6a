"""Where export records go: JSONL lines or Parquet row groups, both written atomically.

The file type follows the target's extension: ``.parquet`` is Apache Parquet (zstd-compressed columns with the
exporter's Arrow schema, so an export with no records still has its columns), anything else JSONL. Parquet
suits large exports: ``datasets.load_dataset("parquet", ...)`` and ``pyarrow`` read it column by column, and
texts repeated across records (a query in every triplet) compress well. Memory stays bounded by one row group.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from negmine.export.native import dumps_row
from negmine.io.atomic import atomic_path, atomic_write

SUFFIXES = {"jsonl": ".jsonl", "parquet": ".parquet"}
"""Extension of each file type (keys: ``negmine.config.EXPORT_FILE_TYPES``)."""

ROW_GROUP_RECORDS = 10_000
"""Records buffered per Parquet row group (a row group is the unit readers load at a time)."""

Write = Callable[[dict], None]


def file_type(path: str | Path) -> str:
    """``parquet`` for a ``.parquet`` path, ``jsonl`` for any other."""
    return "parquet" if Path(path).suffix.lower() == ".parquet" else "jsonl"


@contextmanager
def open_sink(path: str | Path, schema) -> Iterator[Write]:
    """A ``write(record)`` function into ``path``; the file appears only when the ``with`` block ends cleanly.

    ``schema`` (a ``pyarrow.Schema``) fixes the Parquet columns and types; JSONL writes each record's keys
    in their order and ignores it.
    """
    if file_type(path) == "jsonl":
        with atomic_write(path) as handle:
            yield lambda record: handle.write(dumps_row(record))
        return
    with atomic_path(path) as tmp, _parquet_writer(tmp, schema) as write:
        yield write


@contextmanager
def _parquet_writer(path: Path, schema) -> Iterator[Write]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(schema.names)
    columns: dict[str, list] = {name: [] for name in names}
    buffered = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:

        def flush() -> None:
            nonlocal buffered
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            for values in columns.values():
                values.clear()
            buffered = 0

        def write(record: dict) -> None:
            nonlocal buffered
            if len(record) != len(names) or any(name not in record for name in names):
                raise ValueError(f"record columns {list(record)} do not match the export schema {names}")
            for name in names:
                columns[name].append(record[name])
            buffered += 1
            if buffered >= ROW_GROUP_RECORDS:
                flush()

        yield write
        if buffered:
            flush()
