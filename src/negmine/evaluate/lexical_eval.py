"""BM25 run over a dataset split: the lexical baseline every BEIR table reports next to dense models.

``negmine eval --model bm25`` scores it like any model (same metrics, significance, TREC run file). The index
is :func:`negmine.retrieve.bm25_sharded.bm25_index` (bm25s, Lucene BM25, k1 = 1.5, b = 0.75, English
stopwords, no stemming), the one ``negmine mine --retriever bm25`` uses, sharded past ``shard_size``
documents. A query that shares no term with any document gets an empty ranking (it scores 0), as in
Pyserini's BM25 runs; nothing is padded with zero-score documents.
"""

from __future__ import annotations

from negmine.evaluate.metrics import evaluated_query_ids
from negmine.evaluate.run import Run
from negmine.io.records import Dataset

BM25_MODEL = "bm25"
"""The reserved ``--model`` name of the BM25 baseline (a local folder named bm25 is ``--model ./bm25``)."""


def bm25_run(
    dataset: Dataset, depth: int = 100, name: str = BM25_MODEL, shard_size: int = 1_000_000,
    show_progress: bool = False, workers: int | None = None,
) -> Run:
    """Top-``depth`` BM25 documents of every evaluated query of ``dataset``'s split.

    As in :func:`negmine.evaluate.dense_eval.search_run`, a query whose id is also a corpus id does not
    retrieve itself (BEIR ``ignore_identical_ids``); one extra document is retrieved so it still gets ``depth``.
    """
    from negmine.retrieve.bm25_sharded import bm25_index

    query_ids = evaluated_query_ids(dataset.judged_qrels())
    doc_ids = dataset.corpus.ids
    wanted = set(query_ids)  # the small side: the corpus ids are streamed, never copied
    overlap = any(d in wanted for d in doc_ids)
    k = min(depth + int(overlap), len(doc_ids))
    from negmine.config import EngineConfig
    from negmine.engine.budget import bm25_layout

    config = EngineConfig(workers=workers)  # None: every usable CPU; the run does not depend on it
    layout = bm25_layout(config, shard_size, len(doc_ids), len(query_ids), k)
    index = bm25_index(dataset.corpus.texts, layout.shard_size, show_progress, workers=config.resolved_workers(),
                       search_workers=layout.search_workers)
    candidates = index.search([dataset.queries.text(q) for q in query_ids], k, show_progress)
    run = Run.from_candidates(candidates, query_ids, doc_ids, name)
    return run.without_identical_ids().truncated(depth) if overlap else run
