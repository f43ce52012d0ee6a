"""Build the candidate pool for a mining job and the scorer that puts positives on the same scale.

- dense: FAISS exact inner product; selection scores are cosine similarities.
- bm25: bm25s; selection scores are BM25 scores (the positive's own BM25 score is computed alike).
- hybrid: candidate order by fusion (RRF or weighted) of dense and BM25; selection scores are the dense
  cosine similarities of the fused candidates, so margins keep their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from negmine.config import EncoderConfig, EngineConfig, RetrieveConfig
from negmine.encode.base import Embedder
from negmine.engine.dense import work_root
from negmine.engine.run_lease import RunLease
from negmine.errors import caller_stacklevel
from negmine.retrieve.candidates import PAD_INDEX, Candidates

PairScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``scorer(query_rows, doc_rows) -> scores`` on the scale of the candidate scores."""


@dataclass(frozen=True)
class CandidateSet:
    """Candidates for the mined queries (row i = ``query_ids[i]``) plus a scorer for any (query, doc)."""

    query_ids: list[str]
    candidates: Candidates
    score: PairScorer
    encoded: int = 0
    cached: int = 0
    embeddings: "Embeddings | None" = None
    run_dir: Path | None = None  # engine work folder (stores, finished search shards); removable once output is written
    engine_info: dict | None = None
    lease: "RunLease | None" = None  # held on run_dir (see negmine.engine.run_lease): remove_if_last() when done
    no_bm25_words: frozenset[str] = frozenset()  # queries BM25 searched (bm25, hybrid, fallback) with no BM25 word
    bm25_alone: bool = False  # the pools are BM25's alone: a query without a BM25 word has no candidate
    resumed: int = 0  # texts read from the embedding stores' shards a stopped run finished (not in ``cached``)


@dataclass(frozen=True)
class Embeddings:
    queries: np.ndarray
    documents: np.ndarray
    encoded: int
    cached: int


def dense_scorer(emb: Embeddings) -> PairScorer:
    def score(query_rows: np.ndarray, doc_rows: np.ndarray) -> np.ndarray:
        from negmine.retrieve.dense import gather_scores

        return gather_scores(emb.queries, emb.documents, query_rows, doc_rows)

    return score


def bm25_scorer(bm25, query_texts: Sequence[str]) -> PairScorer:
    def score(query_rows: np.ndarray, doc_rows: np.ndarray) -> np.ndarray:
        out = np.empty(len(query_rows), dtype=np.float32)
        for i, (q, d) in enumerate(zip(query_rows, doc_rows)):
            out[i] = bm25.score(query_texts[int(q)], np.asarray([d], dtype=np.int64))[0]
        return out

    return score


def rescore(candidates: Candidates, score: PairScorer) -> Candidates:
    """Replace candidate scores by ``score`` (keeps the fused order; padding stays -inf)."""
    rows, cols = np.nonzero(candidates.indices != PAD_INDEX)
    scores = np.full(candidates.scores.shape, -np.inf, dtype=np.float32)
    scores[rows, cols] = score(rows, candidates.indices[rows, cols])
    return Candidates(candidates.indices, scores)


def build_candidates(
    query_ids: list[str],
    query_texts: Sequence[str],
    doc_texts: Sequence[str],
    retrieve: RetrieveConfig,
    encoder: EncoderConfig,
    embedder: Embedder | None,
    cache,
    engine=None,
    setup: Callable[[], Embedder] | None = None,
    engine_config: EngineConfig | None = None,
) -> CandidateSet:
    """Retrieve ``retrieve.depth`` candidates per query with the configured method.

    Dense retrieval runs sharded through ``engine`` (:mod:`negmine.engine`; default: local, in this process)
    with embeddings in on-disk stores; ``setup`` builds the embedder on a worker (default: ``embedder``).
    """
    depth = min(retrieve.depth, len(doc_texts))
    if retrieve.method == "bm25":  # BM25 alone: its searched shards are the run's work folder
        results = bm25_results_dir(work_root(engine_config or EngineConfig(), encoder), query_texts, doc_texts, depth)
        lease = RunLease(results)
        with lease.released_on_error():
            retriever, bm25 = _bm25_search(query_texts, doc_texts, depth, retrieve, encoder, engine, engine_config, None)
        return CandidateSet(query_ids, bm25, bm25_scorer(retriever, query_texts), run_dir=results, lease=lease,
                            no_bm25_words=_ids_at(query_ids, retriever.tokenless_rows), bm25_alone=True)
    run = _dense_run(query_texts, doc_texts, depth, retrieve, encoder, embedder, cache, engine, setup, engine_config)
    emb = Embeddings(run.queries, run.documents, run.encoded, run.cached)
    encoded, cached, dense = emb.encoded, emb.cached, run.candidates
    bm25, no_words = None, frozenset()
    if retrieve.method == "hybrid":
        with run.lease.released_on_error():
            retriever, bm25 = _bm25_search(query_texts, doc_texts, depth, retrieve, encoder, engine, engine_config,
                                           run.run_dir)
        no_words = _ids_at(query_ids, retriever.tokenless_rows)
    scorer = dense_scorer(emb)
    pool = dense if retrieve.method == "dense" else rescore(_fuse(dense, bm25, retrieve, depth), scorer)
    return CandidateSet(query_ids, pool, scorer, encoded, cached, emb, run.run_dir, run.info, run.lease, no_words,
                        resumed=run.resumed)


def _ids_at(query_ids: Sequence[str], rows: np.ndarray) -> frozenset[str]:
    return frozenset(query_ids[int(row)] for row in rows)


def _bm25_search(
    query_texts: Sequence[str],
    doc_texts: Sequence[str],
    depth: int,
    retrieve: RetrieveConfig,
    encoder: EncoderConfig,
    engine,
    engine_config: EngineConfig | None,
    run_dir: Path | None,
):
    """``(index, candidates)``: BM25 over ``doc_texts`` (sharded above ``retrieve.bm25_shard_size``,
    searched shards and token files kept under ``run_dir`` or the work root), tokenised and searched with the engine
    config's workers (shards searched at once capped by its memory budget)."""
    import shutil

    from negmine.engine.budget import BM25Layout, bm25_layout, bm25_searchers
    from negmine.retrieve.bm25_sharded import bm25_index, saved_shard_size

    config = engine_config or EngineConfig()
    root = work_root(config, encoder)
    layout = bm25_layout(config, retrieve.bm25_shard_size, len(doc_texts), len(query_texts), depth)
    results = bm25_results_dir(run_dir or root, query_texts, doc_texts, depth)
    resumed = saved_shard_size(results)  # a killed search's layout (it may have had other --workers)
    if resumed is not None and resumed <= retrieve.bm25_shard_size:
        layout = BM25Layout(resumed, bm25_searchers(config, resumed, len(doc_texts), len(query_texts), depth))
    elif resumed is not None:  # --bm25-shard-size lowered since (e.g. after running out of memory): start afresh
        shutil.rmtree(results)
    # the token files go in ``results`` too: in the leased folder, they are removed with it (under ``root``, BM25
    # alone's index, alive until the output was written, kept them past the lease and left an empty work root)
    retriever = bm25_index(doc_texts, layout.shard_size, encoder.show_progress, engine, results, results,
                           config.resolved_workers(), layout.search_workers)
    return retriever, retriever.search(list(query_texts), depth, show_progress=encoder.show_progress)


class Fallback(NamedTuple):
    pools: Candidates  # row i: the hybrid pool of query row ``rows[i]``
    no_bm25_words: frozenset[str]  # the ids of those queries that have no BM25 word (their pool is dense only)


def fallback_pools(
    cands: CandidateSet,
    rows: Sequence[int],
    query_texts: Sequence[str],
    doc_texts: Sequence[str],
    retrieve: RetrieveConfig,
    encoder: EncoderConfig,
    engine=None,
    engine_config: EngineConfig | None = None,
) -> Fallback:
    """Hybrid pools (``retrieve.fallback``) for the dense pools' query ``rows``: BM25 over the whole corpus,
    searched for those queries only, fused with their dense candidates and rescored with the dense scorer.
    Row ``i`` of the pools belongs to query row ``rows[i]``. A query without a BM25 word gets no BM25 candidate:
    it is named in a warning of its own (BM25's advises --retriever dense, the retriever already in use)."""
    import warnings

    from negmine.errors import NegmineWarning, counted

    rows = np.asarray(rows, dtype=np.int64)
    texts = [query_texts[int(r)] for r in rows]
    depth = cands.candidates.depth
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\d+ of \d+ quer(y|ies) (has|have) no BM25 token")
        retriever, bm25 = _bm25_search(texts, doc_texts, depth, retrieve, encoder, engine, engine_config, cands.run_dir)
    no_words = _ids_at([cands.query_ids[int(r)] for r in rows], retriever.tokenless_rows)
    if no_words:
        example = texts[int(retriever.tokenless_rows[0])]
        example = repr(example) if len(example) <= 60 else f"{example[:60]!r}..."
        one = len(no_words) == 1
        warnings.warn(
            f"{len(no_words)} of the {counted(len(rows), 'query', 'queries')} with a short pair "
            f"{'has' if one else 'have'} no BM25 token (no word of two or more letters or digits that the corpus has), "
            f"e.g. {example}: the hybrid fallback adds no BM25 candidate to "
            f"{'its pool, which stays its' if one else 'their pools, which stay their'} dense candidates", NegmineWarning,
            stacklevel=caller_stacklevel())
    dense = Candidates(cands.candidates.indices[rows], cands.candidates.scores[rows])

    def score(query_rows: np.ndarray, doc_rows: np.ndarray) -> np.ndarray:
        return cands.score(rows[query_rows], doc_rows)

    return Fallback(rescore(_fuse(dense, bm25, retrieve, depth), score), no_words)


def bm25_results_dir(parent: Path, query_texts: Sequence[str], doc_texts: Sequence[str], depth: int) -> Path:
    """Where a sharded BM25 search keeps its finished shards: ``parent/bm25-<key>``, the key a hash of every
    text and setting the result depends on, so a rerun of the same job resumes (with the shard size recorded
    there, whatever its ``--workers``; :func:`negmine.retrieve.bm25_sharded.saved_shard_size`) and any change
    starts afresh. (Under a dense run's folder for hybrid pools, so both go when the job's outputs are
    written.)"""
    import inspect

    import bm25s

    from negmine.encode.cache import text_keys
    from negmine.engine.dense import run_key
    from negmine.retrieve.bm25_sharded import ShardedBM25

    defaults = {k: v.default for k, v in inspect.signature(ShardedBM25.from_texts).parameters.items()
                if k in ("stopwords", "k1", "b")}  # what bm25_index builds with
    parts = {"bm25s": bm25s.__version__, **defaults, "depth": depth}
    return Path(parent) / f"bm25-{run_key(parts, text_keys(doc_texts), text_keys(query_texts))}"


def _dense_run(query_texts, doc_texts, depth, retrieve, encoder, embedder, cache, engine, setup, engine_config):
    import functools

    from negmine.engine.dense import dense_retrieval
    from negmine.engine.local import LocalEngine

    return dense_retrieval(
        engine or LocalEngine(), embedder, setup or functools.partial(_same, embedder), query_texts, doc_texts,
        depth, encoder, retrieve, engine_config or EngineConfig(), cache,
    )


def _same(embedder: Embedder) -> Embedder:
    return embedder


def _fuse(dense: Candidates, bm25: Candidates, retrieve: RetrieveConfig, depth: int) -> Candidates:
    from negmine.retrieve import fusion

    if retrieve.fusion == "rrf":
        return fusion.rrf([dense, bm25], depth, k=retrieve.rrf_k)
    return fusion.weighted([dense, bm25], [retrieve.dense_weight, 1.0 - retrieve.dense_weight], depth)
