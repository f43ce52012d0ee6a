"""What every export format implements, and the one shared pre-pass (the file's negatives count)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable, Protocol

from negmine.export.native import NativeRow

SKIP_NO_NEGATIVES = "row has no negatives"


@dataclass(frozen=True)
class ExportShape:
    """Facts about the whole native file that some formats need before writing (from :func:`scan_shape`)."""

    rows: int = 0
    max_negatives: int = 0


def scan_shape(rows: Iterable[NativeRow]) -> ExportShape:
    """One streaming pass: row count and the largest number of negatives in a row."""
    count = widest = 0
    for row in rows:
        count += 1
        widest = max(widest, len(row["negative_ids"]))
    return ExportShape(count, widest)


def text_columns(*names: str):
    """An Arrow schema of string columns ``names``, in that order."""
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in names])


class Exporter(Protocol):
    """Turns native rows into the records of one training format, row by row.

    ``needs_scan``: the format needs :class:`ExportShape` (an extra streaming pass over the file).
    ``skip_reason``: why a row cannot be written in this format (counted by reason), or None.
    ``arrow_schema``: the records' columns and types, in ``convert``'s key order (a ``pyarrow.Schema``;
    Parquet exports are written with it).
    ``convert``: the output records for a row that is not skipped, in a stable key order.
    """

    name: ClassVar[str]
    needs_scan: ClassVar[bool]

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None: ...

    def arrow_schema(self, shape: ExportShape): ...

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]: ...
