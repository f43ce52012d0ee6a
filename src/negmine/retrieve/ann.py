"""Approximate top-k search of one corpus shard with a FAISS ANN index (IVF, HNSW or IVF-PQ), re-scored exactly.

Index per shard, built with ``faiss.index_factory`` under the inner-product metric:

- ``ivf``: ``IVF<nlist>,Flat`` with ``nlist = sqrt(n)`` inverted lists (Jegou et al. 2011), ``nprobe`` searched;
- ``hnsw``: ``HNSW32`` graph (Malkov & Yashunin 2018), ``efSearch = max(2 depth, 64)``;
- ``ivfpq``: ``IVF<nlist>,PQ<dim/8>`` product quantisation, 8 dimensions per 8-bit sub-quantiser.

The index only proposes candidates: their scores are recomputed as exact inner products and rows are
sorted (score descending, ties by lower index), so positive-aware margins compare true cosines as with
the exact index; only recall can differ. IVF-PQ ranks by compressed distances, so it proposes ``refine x
depth`` candidates and the exact scores pick the top ``depth`` (FAISS's ``IndexRefineFlat`` with
``k_factor = refine``; Jegou et al. 2011, section IV.C re-ranking): on SciFact's MiniLM vectors, recall@100
of the exact top 100 went from 0.74 at refine 1 to 0.90 at 4, the ceiling IVF's nprobe sets. ``ivf`` and
``hnsw`` compute exact distances already, so they propose ``depth``. Shards smaller than :data:`MIN_ANN_ROWS` are searched exactly
(too few points to train quantisers, and exact search is as fast there).

Mining searches each shard once, so index building must cost far less than the exact search it replaces:
``nlist = sqrt(n)`` keeps assignment at ``sqrt(n)`` distance computations per vector, and the quantisers
train on at most :data:`TRAIN_PER_LIST` evenly spaced rows per list (deterministic, no random sample).
"""

from __future__ import annotations

import math

import numpy as np

from negmine.retrieve.candidates import PAD_INDEX, Candidates
from negmine.retrieve.topk import pad_to, sort_rows

MIN_ANN_ROWS = 10_000
TRAIN_PER_LIST = 64
PQ_MIN_TRAIN = 256 * 39
RESCORE_BYTES = 64 << 20
"""Gathered candidate vectors held at once while re-scoring (queries per batch = this / (k * dim * 4))."""
PROPOSAL_BYTES = 64 << 20
"""Proposed ids and scores held at once (16 bytes each): caps the query batch when IVF-PQ proposes many."""


def factory_string(index: str, n: int, dim: int) -> str:
    """FAISS index-factory description of ``index`` for a shard of ``n`` vectors of dimension ``dim``."""
    nlist = max(1, min(int(math.sqrt(n)), n // 39))
    if index == "ivf":
        return f"IVF{nlist},Flat"
    if index == "hnsw":
        return "HNSW32"
    if index == "ivfpq":
        m = next(m for m in range(max(1, dim // 8), 0, -1) if dim % m == 0)
        return f"IVF{nlist},PQ{m}"
    raise ValueError(f"unknown ANN index {index!r}; allowed: ivf, hnsw, ivfpq")


def training_rows(block: np.ndarray, index: str) -> np.ndarray:
    """Evenly spaced rows of ``block`` to train on: :data:`TRAIN_PER_LIST` per inverted list (more for PQ)."""
    nlist = max(1, min(int(math.sqrt(len(block))), len(block) // 39))
    want = TRAIN_PER_LIST * nlist if index != "ivfpq" else max(TRAIN_PER_LIST * nlist, PQ_MIN_TRAIN)
    if want >= len(block):
        return block
    return np.ascontiguousarray(block[np.linspace(0, len(block) - 1, want).astype(np.int64)])


def build_index(block: np.ndarray, index: str, depth: int, nprobe: int):
    """Train (when needed) and fill a FAISS index over ``block``; search parameters set."""
    import faiss

    faiss_index = faiss.index_factory(block.shape[1], factory_string(index, len(block), block.shape[1]),
                                      faiss.METRIC_INNER_PRODUCT)
    if not faiss_index.is_trained:
        faiss_index.train(training_rows(block, index))
    faiss_index.add(block)
    if index == "hnsw":
        faiss_index.hnsw.efSearch = max(2 * depth, 64)
    else:
        faiss.extract_index_ivf(faiss_index).nprobe = nprobe
    return faiss_index


def exact_rescore(queries: np.ndarray, block: np.ndarray, local: np.ndarray) -> np.ndarray:
    """``queries[i] . block[local[i, j]]`` (-inf where ``local`` is -1), in batches of queries that gather
    at most :data:`RESCORE_BYTES` of candidate vectors."""
    scores = np.full(local.shape, -np.inf, dtype=np.float32)
    batch = max(1, RESCORE_BYTES // max(1, local.shape[1] * block.shape[1] * 4))
    for q0 in range(0, len(queries), batch):
        rows = local[q0 : q0 + batch]
        vecs = block[np.maximum(rows, 0)]
        part = np.einsum("qkd,qd->qk", vecs, queries[q0 : q0 + batch])
        scores[q0 : q0 + batch] = np.where(rows >= 0, part, -np.inf)
    return scores


def proposals(index: str, depth: int, refine: int, n: int) -> int:
    """Candidates the index proposes per query: ``refine * depth`` for IVF-PQ, ``depth`` otherwise (at most n)."""
    return min(n, depth * refine if index == "ivfpq" else depth)


def ann_search(
    query_emb: np.ndarray, block: np.ndarray, depth: int, index: str, nprobe: int = 16, offset: int = 0,
    query_batch_size: int = 4096, refine: int = 8,
) -> Candidates:
    """Top-``depth`` candidates of every query in ``block`` (corpus rows ``offset + j``) through ``index``;
    IVF-PQ proposes ``refine * depth`` for exact re-scoring (see the module docstring)."""
    from negmine.retrieve.dense import dense_search

    block = np.ascontiguousarray(block, dtype=np.float32)
    queries = np.ascontiguousarray(query_emb, dtype=np.float32)
    if len(block) < MIN_ANN_ROWS:
        return dense_search(queries, block, depth, max(1, len(block)), query_batch_size, offset=offset)
    faiss_index = build_index(block, index, depth, nprobe)
    k = min(depth, len(block))
    proposed = proposals(index, depth, refine, len(block))
    batch = max(1, min(query_batch_size, PROPOSAL_BYTES // (16 * proposed)))
    parts = []
    for q0 in range(0, len(queries), batch):
        _, local = faiss_index.search(queries[q0 : q0 + batch], proposed)
        local = local.astype(np.int64)
        scores = exact_rescore(queries[q0 : q0 + batch], block, local)
        indices, scores = sort_rows(np.where(local >= 0, local + offset, PAD_INDEX), scores)
        parts.append((indices[:, :k], scores[:, :k]))
    indices = np.concatenate([p[0] for p in parts]) if parts else np.empty((0, k), np.int64)
    scores = np.concatenate([p[1] for p in parts]) if parts else np.empty((0, k), np.float32)
    return Candidates(*pad_to(indices, scores, depth))
