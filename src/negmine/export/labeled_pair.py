"""``labeled-pair``: ``{"query", "document", "label"}``, one record per (query, document): label 1 for a positive,
0 for a negative.

The pointwise layout of sentence-transformers' ``mine_hard_negatives(output_format="labeled-pair")``, for a
cross-encoder's BinaryCrossEntropyLoss (the collator takes ``label`` as the label, the two text columns by
position). As there, the records are per query, not per (query, positive) row: each of the query's positives
once (with label 1), then its negatives, each once (label 0). A query with k positives has k native rows whose
negatives overlap; written per row, a shared negative would be k records and weigh k times in the loss, and a
query's positive would sit next to its sibling rows' negatives with nothing to say they belong together anyway.

* Positives: the positive of every written row of the query, each followed by the documents the audit promoted
  to positives of that row (``extra_positives``), each document once per query; so a sibling positive is never
  a label 0.
* Negatives: every negative of the query's written rows, each document once (the first row's score), except a
  document any row of the query knows as relevant (a positive, a promoted document, a negative marked or
  dropped as a false negative: :func:`negmine.export.flagembedding.relevant_ids`) or with a positive's exact
  text. Unlike the by-query lists (:func:`negmine.export.flagembedding.merge_query`) a negative that outscores a
  weaker positive of the query is kept: a pointwise label says "not relevant" of the pair alone, which the row
  that selected it asserts, and ranks it against no positive.

As in every format, a row without negatives is skipped (its positive is not written), and so is a query left
with no negative, its rows counted.

With ``--export-scores`` a ``score`` column (the pair's mining score) replaces ``label``, as
``mine_hard_negatives(output_format="labeled-pair", output_scores=True)`` does: a regression target for a
cross-encoder distilled from the mining model (e.g. MSELoss), so only from a model worth copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from negmine.export.base import SKIP_NO_NEGATIVES, ExportShape, positive_scores, positives
from negmine.export.flagembedding import relevant_ids
from negmine.export.native import NativeRow

SKIP_NO_QUERY_NEGATIVE = "query has no negative that none of its rows knows as relevant"
SCORE_COLUMN = "score"
"""The column that replaces ``label`` with ``--export-scores`` (the reference's name; a label column name
sentence-transformers' collators know)."""


@dataclass(frozen=True)
class LabeledPair:
    document: str
    label: int
    score: float


def query_pairs(rows: Sequence[NativeRow], every_row: Sequence[NativeRow]) -> list[LabeledPair]:
    """The query's pairs from ``rows`` (its rows that are written), excluding as negatives what any of
    ``every_row`` (all its rows, as read) knows as relevant; see the module docstring."""
    pairs: list[LabeledPair] = []
    taken: set[str] = set()
    for row in rows:
        ids = [row["positive_id"], *row.get("extra_positive_ids", ())]
        for doc_id, text, score in zip(ids, positives(row), positive_scores(row)):
            if doc_id not in taken:
                taken.add(doc_id)
                pairs.append(LabeledPair(text, 1, score))
    relevant, texts = relevant_ids(every_row), {text for row in every_row for text in positives(row)}
    for row in rows:
        for doc_id, text, score in zip(row["negative_ids"], row["negatives"], row["negative_scores"]):
            if doc_id in taken or doc_id in relevant or text in texts:
                continue
            taken.add(doc_id)
            pairs.append(LabeledPair(text, 0, score))
    return pairs


@dataclass(frozen=True)
class LabeledPairExporter:
    name: ClassVar[str] = "labeled-pair"
    needs_scan: ClassVar[bool] = False
    per_query: ClassVar[bool] = True
    takes_scores: ClassVar[bool] = True
    always_scores: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl", "parquet")

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        return SKIP_NO_NEGATIVES if not row["negatives"] else None

    def query_skip_reason(self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow]) -> str | None:
        has_negative = any(pair.label == 0 for pair in query_pairs(rows, every_row))
        return None if has_negative else SKIP_NO_QUERY_NEGATIVE

    def arrow_schema(self, shape: ExportShape):
        import pyarrow as pa

        last = (SCORE_COLUMN, pa.float64()) if shape.scores else ("label", pa.int64())
        return pa.schema([("query", pa.string()), ("document", pa.string()), last])

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        """The records of a query that has this one row."""
        return self.convert_query([row], [row], shape)

    def convert_query(
        self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow], shape: ExportShape
    ) -> list[dict]:
        query, pairs = rows[0]["query"], query_pairs(rows, every_row)
        if shape.scores:
            return [{"query": query, "document": pair.document, SCORE_COLUMN: pair.score} for pair in pairs]
        return [{"query": query, "document": pair.document, "label": pair.label} for pair in pairs]
