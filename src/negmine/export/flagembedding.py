"""``flagembedding``: FlagEmbedding's embedder fine-tuning JSONL, ``{"query", "pos": [...], "neg": [...]}``.

``pos`` is the row's positive, then the documents the audit promoted to positives of it (``extra_positives``).

``flagembedding-scores`` adds ``pos_scores``/``neg_scores`` (parallel to ``pos``/``neg``), the fields
FlagEmbedding reads for knowledge distillation. They are the scores negatives were selected with (the
retriever's, or the judge's when denoising replaced them), so use them for distillation only when those
come from a teacher you trust. A promoted document's score is the one it had as a mined negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from negmine.export.base import SKIP_NO_NEGATIVES, ExportShape, positive_scores, positives
from negmine.export.native import NativeRow


@dataclass(frozen=True)
class FlagEmbeddingExporter:
    name: ClassVar[str] = "flagembedding"
    needs_scan: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl",)
    """FlagEmbedding's trainer reads ``.json``/``.jsonl`` files only (it silently skips others)."""

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        return SKIP_NO_NEGATIVES if not row["negatives"] else None

    def arrow_schema(self, shape: ExportShape):
        import pyarrow as pa

        return pa.schema([("query", pa.string()), ("pos", pa.list_(pa.string())), ("neg", pa.list_(pa.string()))])

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        return [{"query": row["query"], "pos": positives(row), "neg": list(row["negatives"])}]


@dataclass(frozen=True)
class FlagEmbeddingScoresExporter(FlagEmbeddingExporter):
    name: ClassVar[str] = "flagembedding-scores"

    def arrow_schema(self, shape: ExportShape):
        import pyarrow as pa

        scores = pa.list_(pa.float64())
        return super().arrow_schema(shape).append(pa.field("pos_scores", scores)).append(pa.field("neg_scores", scores))

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        record = super().convert(row, shape)[0]
        record["pos_scores"] = positive_scores(row)
        record["neg_scores"] = list(row["negative_scores"])
        return [record]
