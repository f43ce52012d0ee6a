"""``triplet``: ``{"anchor", "positive", "negative"}``, one record per (positive, negative).

The column order sentence-transformers' losses read as (anchor, positive, negative), e.g.
MultipleNegativesRankingLoss or TripletLoss; a row with N negatives gives N records, and N more after them for
each document the audit promoted to a positive of the row (``extra_positives``), with the same negatives.
With ``--export-scores`` a ``scores`` column follows, ``[positive's score, negative's score]``: the layout of
``mine_hard_negatives(output_format="triplet", output_scores=True)``, which MarginMSELoss reads as the margin
``scores[0] - scores[1]`` (a promoted document's score is the one it had as a mined negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from negmine.export.base import (
    SCORES_COLUMN, SKIP_NO_NEGATIVES, ExportShape, positive_scores, positives, score_column, text_columns,
)
from negmine.export.native import NativeRow


@dataclass(frozen=True)
class TripletExporter:
    name: ClassVar[str] = "triplet"
    needs_scan: ClassVar[bool] = False
    per_query: ClassVar[bool] = False
    takes_scores: ClassVar[bool] = True
    always_scores: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl", "parquet")

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        return SKIP_NO_NEGATIVES if not row["negatives"] else None

    def arrow_schema(self, shape: ExportShape):
        schema = text_columns("anchor", "positive", "negative")
        return schema.append(score_column()) if shape.scores else schema

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        records = []
        for positive, pos_score in zip(positives(row), positive_scores(row)):
            for negative, neg_score in zip(row["negatives"], row["negative_scores"]):
                record = {"anchor": row["query"], "positive": positive, "negative": negative}
                if shape.scores:
                    record[SCORES_COLUMN] = [pos_score, neg_score]
                records.append(record)
        return records
