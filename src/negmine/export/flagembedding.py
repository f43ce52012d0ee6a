"""``flagembedding``: FlagEmbedding's embedder fine-tuning JSONL, ``{"query", "pos": [...], "neg": [...]}``, one
record per query.

FlagEmbedding's trainer (``FlagEmbedding/abc/finetune/embedder/AbsDataset.py``, ``AbsEmbedderTrainDataset.
__getitem__``) draws one positive of ``pos`` and ``train_group_size - 1`` negatives of ``neg`` per record and step,
and its loss (``AbsModeling.py``, ``_compute_in_batch_neg_loss``) scores every query of a batch against every
passage of the batch, unmasked. A query with several positives has one native row per positive; written as one
record per row, two records of the query in one batch would each push the other's positive away as an in-batch
negative (the default sampler is a plain shuffle). So a query is one record: ``pos`` holds the positives of all its
rows, each followed by the documents the audit promoted to positives (``extra_positives``), each once, and ``neg``
the negatives that are negatives for every one of them:

* never a document a row of the query knows as relevant (a positive, a promoted document, a negative marked or
  dropped as a false negative) nor one with a positive's exact text, whichever row lists it;
* never one scoring above the hardest negative of any row: each row's negatives were selected against its own
  positive, so a negative of the best positive's row may score above a weaker positive (the sd and relative
  margins, ``--max-score`` are all "below a score" limits), while one scoring no higher than a negative every row
  accepted would pass each row's limits too. The scores are the mining retriever's for (query, document), the same
  in every row of a query.

A row without negatives is skipped as in the other formats (its positive is still never a negative), and a query
left with no negative at all is skipped, its rows counted under :data:`SKIP_NO_SHARED_NEGATIVE` (FlagEmbedding
divides by ``len(neg)`` and fails on an empty list).

``flagembedding-scores`` adds ``pos_scores``/``neg_scores`` (parallel to ``pos``/``neg``), the fields
FlagEmbedding reads for knowledge distillation. They are the scores negatives were selected with, the mining
retriever's (cosine or dot-product similarities; BM25 scores with ``--retriever bm25``), and FlagEmbedding
softmaxes them as they are (``AbsModeling.forward``: ``teacher_targets = softmax(teacher_scores)``), so use them
for distillation only when the mining model is a teacher you trust and its scale suits a softmax. A promoted
document's score is the one it had as a mined negative. With ``--export-scores-from judge`` (no ``--export-scores``:
this format writes scores always) they are the relevance judge's (``judge_*``, :mod:`negmine.audit.judge_scores`)
for the same documents: the negatives are still chosen by the mining scores. A judge's scale is its own (a
cross-encoder's sigmoid 0..1 or raw logits, a teacher's cosines), and a 0..1 or -1..1 range makes a nearly flat
softmax (docs/mining.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from negmine.export.base import SKIP_NO_NEGATIVES, ExportShape, positive_scores, positives
from negmine.export.native import FALSE_NEGATIVE_FLAG, JUDGE_KEYS, NativeRow

SKIP_NO_SHARED_NEGATIVE = "query has no negative that is a negative for all its positives"


@dataclass(frozen=True)
class QueryLists:
    """One query's FlagEmbedding lists: ``pos`` and ``neg`` texts with their parallel scores."""

    pos: list[str]
    pos_scores: list[float]
    neg: list[str]
    neg_scores: list[float]


def relevant_ids(rows: Sequence[NativeRow]) -> set[str]:
    """Every document some row of the query knows as relevant: its positives, promoted documents, and negatives
    marked (``negative_flags``) or dropped (``false_negative_ids``) as false negatives."""
    ids: set[str] = set()
    for row in rows:
        ids.add(row["positive_id"])
        ids.update(row.get("extra_positive_ids", ()))
        ids.update(row.get("false_negative_ids", ()))
        flags = row.get("negative_flags") or ()
        ids.update(doc for doc, flag in zip(row["negative_ids"], flags) if flag == FALSE_NEGATIVE_FLAG)
    return ids


def mining_scores(every_row: Sequence[NativeRow]) -> dict[tuple[str, str], float]:
    """The mining score of each (positive id, negative id) of the query's rows as read: the scores its negatives
    were selected with, which choose the shared negatives (:func:`merge_query`) even when the written rows carry
    the relevance judge's in their place (``--export-scores-from judge`` gives a ``takes_scores`` format its rows
    so, :func:`negmine.export.base.judge_scored`)."""
    return {(row["positive_id"], doc_id): score for row in every_row
            for doc_id, score in zip(row["negative_ids"], row["negative_scores"])}


def merge_query(rows: Sequence[NativeRow], every_row: Sequence[NativeRow], judge: bool = False) -> QueryLists:
    """The lists of one query from ``rows`` (its rows that are written, each with negatives), excluding what any
    of ``every_row`` (all its native rows, as read) knows as relevant; see the module docstring. The negatives are
    chosen by the mining scores of ``every_row`` (:func:`mining_scores`), the written scores are those of
    ``rows``: a by-query list given judge-scored rows lists the same documents as without scores. ``judge``: write
    the relevance judge's scores the rows hold (``judge_*``: ``flagembedding-scores`` gets its rows with their
    mining scores, ``--export-scores-from judge``)."""
    pos: list[str] = []
    pos_scores: list[float] = []
    taken: set[str] = set()
    for row in rows:
        ids = [row["positive_id"], *row.get("extra_positive_ids", ())]
        for doc_id, text, score in zip(ids, positives(row), positive_scores(row, judge)):
            if doc_id not in taken:
                taken.add(doc_id)
                pos.append(text)
                pos_scores.append(score)
    relevant, texts = relevant_ids(every_row), {text for row in every_row for text in positives(row)}
    mining = mining_scores(every_row)
    chosen_by = [[mining.get((row["positive_id"], doc_id), own) for doc_id, own in
                  zip(row["negative_ids"], row["negative_scores"])] for row in rows]
    bound = min(max(scores) for scores in chosen_by)
    neg: list[str] = []
    neg_scores: list[float] = []
    for row, scores in zip(rows, chosen_by):
        written = row[JUDGE_KEYS[1]] if judge else row["negative_scores"]
        for doc_id, text, score, out in zip(row["negative_ids"], row["negatives"], scores, written):
            if doc_id in relevant or doc_id in taken or text in texts or score > bound:
                continue
            taken.add(doc_id)
            neg.append(text)
            neg_scores.append(out)
    return QueryLists(pos, pos_scores, neg, neg_scores)


@dataclass(frozen=True)
class FlagEmbeddingExporter:
    name: ClassVar[str] = "flagembedding"
    needs_scan: ClassVar[bool] = False
    per_query: ClassVar[bool] = True
    takes_scores: ClassVar[bool] = False
    """``flagembedding-scores`` is the variant with scores, in FlagEmbedding's own fields."""
    always_scores: ClassVar[bool] = False
    file_types: ClassVar[tuple[str, ...]] = ("jsonl",)
    """FlagEmbedding's trainer reads ``.json``/``.jsonl`` files only (it silently skips others)."""

    def skip_reason(self, row: NativeRow, shape: ExportShape) -> str | None:
        return SKIP_NO_NEGATIVES if not row["negatives"] else None

    def query_skip_reason(self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow]) -> str | None:
        return None if merge_query(rows, every_row).neg else SKIP_NO_SHARED_NEGATIVE

    def arrow_schema(self, shape: ExportShape):
        import pyarrow as pa

        return pa.schema([("query", pa.string()), ("pos", pa.list_(pa.string())), ("neg", pa.list_(pa.string()))])

    def convert(self, row: NativeRow, shape: ExportShape) -> list[dict]:
        """The record of a query that has this one row."""
        return self.convert_query([row], [row], shape)

    def convert_query(
        self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow], shape: ExportShape
    ) -> list[dict]:
        """The query's one record, from ``rows`` (its rows not skipped); ``every_row``: all its rows (see
        :func:`merge_query`)."""
        return [self.record(rows[0]["query"], merge_query(rows, every_row))]

    def record(self, query: str, lists: QueryLists) -> dict:
        return {"query": query, "pos": lists.pos, "neg": lists.neg}


@dataclass(frozen=True)
class FlagEmbeddingScoresExporter(FlagEmbeddingExporter):
    name: ClassVar[str] = "flagembedding-scores"
    always_scores: ClassVar[bool] = True
    """``pos_scores``/``neg_scores`` always: the mining scores, or the judge's with ``--export-scores-from judge``."""

    def arrow_schema(self, shape: ExportShape):
        import pyarrow as pa

        scores = pa.list_(pa.float64())
        return super().arrow_schema(shape).append(pa.field("pos_scores", scores)).append(pa.field("neg_scores", scores))

    def convert_query(
        self, rows: Sequence[NativeRow], every_row: Sequence[NativeRow], shape: ExportShape
    ) -> list[dict]:
        """As :meth:`FlagEmbeddingExporter.convert_query`, with the scores ``shape.scores_from`` names."""
        return [self.record(rows[0]["query"], merge_query(rows, every_row, shape.scores_from == "judge"))]

    def record(self, query: str, lists: QueryLists) -> dict:
        return {**super().record(query, lists), "pos_scores": lists.pos_scores, "neg_scores": lists.neg_scores}
