"""``triplet``: ``{"anchor", "positive", "negative"}``, one record per (positive, negative).

The column order sentence-transformers' losses read as (anchor, positive, negative), e.g.
MultipleNegativesRankingLoss or TripletLoss; a row with N negatives gives N records, and N more after them for
each document the audit promoted to a positive of the row (``extra_positives``), with the same negatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from negmine.export.base import SKIP_NO_NEGATIVES, ExportShape, positives, text_columns
from negmine.export.native import NativeRow


@dataclass(frozen=True)
class TripletExporter:
    name: ClassVar[str] = "triplet"
    needs_scan: ClassVar[bool] = False
    per_query: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl", "parquet")

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        return SKIP_NO_NEGATIVES if not row["negatives"] else None

    def arrow_schema(self, shape: ExportShape):
        return text_columns("anchor", "positive", "negative")

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        return [
            {"anchor": row["query"], "positive": positive, "negative": neg}
            for positive in positives(row) for neg in row["negatives"]
        ]
