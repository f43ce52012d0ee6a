"""``labeled-list``: ``{"query", "docs": [positive, negatives...], "labels": [1, 0, ...]}``.

The (query, docs, labels) layout of sentence-transformers' listwise cross-encoder losses (ListNetLoss,
LambdaLoss, ...) and of classic learning-to-rank groups: the positive first, then the documents the audit
promoted to positives of the row (``extra_positives``, also label 1), then the negatives in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from negmine.export.base import SKIP_NO_NEGATIVES, ExportShape, positives
from negmine.export.native import NativeRow


@dataclass(frozen=True)
class LabeledListExporter:
    name: ClassVar[str] = "labeled-list"
    needs_scan: ClassVar[bool] = False
    per_query: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl", "parquet")

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        return SKIP_NO_NEGATIVES if not row["negatives"] else None

    def arrow_schema(self, shape: ExportShape):
        import pyarrow as pa

        return pa.schema([("query", pa.string()), ("docs", pa.list_(pa.string())), ("labels", pa.list_(pa.int64()))])

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        relevant = positives(row)
        docs = [*relevant, *row["negatives"]]
        return [{"query": row["query"], "docs": docs, "labels": [1] * len(relevant) + [0] * len(row["negatives"])}]
