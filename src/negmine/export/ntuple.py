"""``n-tuple``: ``{"anchor", "positive", "negative_1", ..., "negative_N"}``, one record per row, then one per
document the audit promoted to a positive of the row (``extra_positives``), with the row's negatives.

sentence-transformers' MultipleNegativesRankingLoss takes (anchor, positive, negative_1, ..., negative_n)
columns by position, so every record of the file must have the same N: the largest number of negatives
in any row, or ``--ntuple-negatives N`` (rows with more negatives give their first N, the hardest). Rows with fewer negatives (mined with ``--keep-partial``, or left with fewer by an audit that
dropped or promoted some) are skipped, with their promoted documents, and counted.
With ``--export-scores`` a ``scores`` column follows, ``[positive's score, negative_1's, ..., negative_N's]``: the
layout of ``mine_hard_negatives(output_format="n-tuple", output_scores=True)``, which MarginMSELoss reads as N
margins and DistillKLDivLoss as the teacher's scores of the N + 1 documents.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from negmine.export.base import (
    SCORES_COLUMN, SKIP_NO_NEGATIVES, ExportShape, positive_scores, positives, score_column, text_columns,
)
from negmine.export.native import NativeRow
from negmine.config_path import path_setting
from negmine.errors import NegmineWarning, caller_stacklevel, counted
from negmine.export.shown_name import export_name

SKIP_SHORT = "row has fewer negatives than the file's N (n-tuple needs the same width on every row)"


@dataclass(frozen=True)
class NTupleExporter:
    name: ClassVar[str] = "n-tuple"
    needs_scan: ClassVar[bool] = True
    per_query: ClassVar[bool] = False
    takes_scores: ClassVar[bool] = True
    always_scores: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl", "parquet")

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        if not row["negatives"]:
            return SKIP_NO_NEGATIVES
        return SKIP_SHORT if len(row["negatives"]) < shape.ntuple_width else None

    def arrow_schema(self, shape: ExportShape):
        schema = text_columns("anchor", "positive", *(f"negative_{i}" for i in range(1, shape.ntuple_width + 1)))
        return schema.append(score_column()) if shape.scores else schema

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        width = shape.ntuple_width
        negatives = {f"negative_{i}": neg for i, neg in enumerate(row["negatives"][:width], start=1)}
        records = []
        for positive, score in zip(positives(row), positive_scores(row)):
            record = {"anchor": row["query"], "positive": positive, **negatives}
            if shape.scores:
                record[SCORES_COLUMN] = [score, *row["negative_scores"][:width]]
            records.append(record)
        return records


def warn_width_beyond_every_row(shape: ExportShape, out_path: Path) -> bool:
    """A NegmineWarning when ``--ntuple-negatives N`` is above the widest row's negatives: every row is then
    skipped as too short and the export holds no record, which ``negmine audit`` wrote with exit 0 and only the
    "left out" line to say so (``negmine mine`` refuses N above --num-negatives before any work; the audit cannot
    know the widths before it has judged the rows). Read from the shape scan, before the export is written.
    Returns whether it warned."""
    width, widest = shape.ntuple_negatives, shape.max_negatives
    if width is None or widest == 0 or width <= widest:
        return False
    warnings.warn(
        f"{path_setting('ntuple_negatives', width)} is above the widest row's {counted(widest, 'negative')}: every row has fewer "
        f"than {width}, so the n-tuple export {export_name(NTupleExporter.name, out_path)} holds no rows; use {path_setting('ntuple_negatives', widest)} "
        f"(or fewer) to keep the rows with {widest}", NegmineWarning, stacklevel=caller_stacklevel(),
    )
    return True
