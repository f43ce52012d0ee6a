"""``labeled-list``: ``{"query", "docs": [positive, negatives...], "labels": [1, 0, ...]}``, one record per row; and
``labeled-list-by-query``: the same columns, one record per query.

The (query, docs, labels) layout of sentence-transformers' listwise cross-encoder losses (ListNetLoss,
LambdaLoss, ...) and of classic learning-to-rank groups: the positive first, then the documents the audit
promoted to positives of the row (``extra_positives``, also label 1), then the negatives in order.

``labeled-list`` writes one list per (query, positive) row, as sentence-transformers' own
``mine_hard_negatives(output_format="labeled-list")`` does: each list is exactly what was mined for its positive,
but a query with k positives is k lists that repeat its negatives, and each list's ranking metric (LambdaLoss's
NDCG) sees one relevant document of the query. The losses document a list as a query's ranking instead
(``(query, [doc1, ..., docN])`` with labels ``[score1, ..., scoreN]``; ListNetLoss's example gives one query two
relevant documents, ``[1, 1, 0]``; the MS MARCO LambdaLoss example builds one list per query from all its labelled
passages). ``labeled-list-by-query`` is that list: every positive of the query (and promoted document) with label
1, then the negatives valid for all of them, each once, label 0: the merge of FlagEmbedding's per-query record
(:func:`negmine.export.flagembedding.merge_query`: no document any row of the query knows as relevant, none
scoring above the hardest negative of any of its rows, since such a document may outscore a weaker positive and
label 0 would rank it below that positive). A query left with no such negative is skipped and its rows counted.

With ``--export-scores`` both write ``scores`` in place of ``labels`` (the documents' mining scores, parallel to
``docs``), as ``mine_hard_negatives(output_format="labeled-list", output_scores=True)`` does: targets for a
listwise loss that distils (ListNetLoss softmaxes them), so only from a mining model worth copying. With
``--export-scores-from judge`` they are the relevance judge's, and ``labeled-list-by-query`` still chooses the
negatives by the mining scores (:func:`negmine.export.flagembedding.mining_scores`): the same documents either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from negmine.export.base import SCORES_COLUMN, SKIP_NO_NEGATIVES, ExportShape, positive_scores, positives
from negmine.export.flagembedding import SKIP_NO_SHARED_NEGATIVE, merge_query
from negmine.export.native import NativeRow


def _schema(scores: bool):
    import pyarrow as pa

    last = (SCORES_COLUMN, pa.list_(pa.float64())) if scores else ("labels", pa.list_(pa.int64()))
    return pa.schema([("query", pa.string()), ("docs", pa.list_(pa.string())), last])


def _record(query: str, relevant: list[str], negatives: list[str], scores: list[float] | None) -> dict:
    """The list; ``scores`` (parallel to the documents) in place of the labels when given."""
    docs = [*relevant, *negatives]
    if scores is not None:
        return {"query": query, "docs": docs, SCORES_COLUMN: scores}
    return {"query": query, "docs": docs, "labels": [1] * len(relevant) + [0] * len(negatives)}


@dataclass(frozen=True)
class LabeledListExporter:
    name: ClassVar[str] = "labeled-list"
    needs_scan: ClassVar[bool] = False
    per_query: ClassVar[bool] = False
    takes_scores: ClassVar[bool] = True
    always_scores: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl", "parquet")

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        return SKIP_NO_NEGATIVES if not row["negatives"] else None

    def arrow_schema(self, shape: ExportShape):
        return _schema(shape.scores)

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        scores = [*positive_scores(row), *row["negative_scores"]] if shape.scores else None
        return [_record(row["query"], positives(row), row["negatives"], scores)]


@dataclass(frozen=True)
class LabeledListByQueryExporter(LabeledListExporter):
    """One list per query (see the module docstring); the rows of a query are grouped as for FlagEmbedding."""

    name: ClassVar[str] = "labeled-list-by-query"
    per_query: ClassVar[bool] = True

    def query_skip_reason(self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow]) -> str | None:
        return None if merge_query(rows, every_row).neg else SKIP_NO_SHARED_NEGATIVE

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        """The record of a query that has this one row."""
        return self.convert_query([row], [row], shape)

    def convert_query(
        self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow], shape: ExportShape
    ) -> list[dict]:
        lists = merge_query(rows, every_row)
        scores = [*lists.pos_scores, *lists.neg_scores] if shape.scores else None
        return [_record(rows[0]["query"], lists.pos, lists.neg, scores)]
