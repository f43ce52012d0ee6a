"""Exact maximum-inner-product search with FAISS, blockwise over the corpus.

For L2-normalised embeddings the inner product is the cosine similarity. The corpus is read one block of
``block_size`` rows at a time (so ``doc_emb`` may be an ``np.memmap`` larger than memory) and searched for
``query_batch_size`` queries at a time with ``faiss.knn`` (exact, BLAS, its own internal tiling), so no
score matrix larger than (query batch x block) ever exists. FAISS only proposes the candidates: each
score is recomputed for its pair alone, so it is the same whatever the block, query batch, shard or thread
count. Per-block top-k lists are merged into the running best with a stable sort: score descending, ties
(exactly equal scores) by lower document index, also at the depth boundary. Rows shorter than ``depth`` (tiny corpora) are padded with -1 / -inf.
"""

from __future__ import annotations

import numpy as np

from negmine.retrieve.candidates import PAD_INDEX, Candidates
from negmine.retrieve.topk import merge_topk, pad_to, sort_rows

GATHER_BYTES = 64 << 20
"""Query and document vectors :func:`gather_scores` gathers at once (pairs per chunk = this / (8 dim)): 65,536
pairs at a time held 2 x 96 MiB at 384 dimensions, the largest transient of a hybrid run's re-scoring."""


def _check_inputs(query_emb: np.ndarray, doc_emb: np.ndarray, depth: int, block_size: int, query_batch_size: int) -> None:
    if query_emb.ndim != 2 or doc_emb.ndim != 2:
        raise ValueError(f"embeddings must be 2-D, got query {query_emb.shape} and corpus {doc_emb.shape}")
    if query_emb.shape[1] != doc_emb.shape[1]:
        raise ValueError(f"query dim {query_emb.shape[1]} != corpus dim {doc_emb.shape[1]}; same encoder needed")
    for name, value in (("depth", depth), ("block_size", block_size), ("query_batch_size", query_batch_size)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def blas_batch(queries: np.ndarray) -> np.ndarray:
    """``queries``, padded with zero rows up to FAISS's BLAS threshold when it falls short by at most 4x.

    ``faiss.knn`` computes inner products with BLAS only when queries x dim reaches
    ``faiss.cvar.distance_compute_blas_threshold`` (128,000: 334 queries of 384 dims); below it, a SIMD loop
    took ~4.5x longer per query here (300k x 384 documents: 256 queries 2.6 s, 384 queries 0.9 s). The zero
    rows are searched and dropped; the real rows' results do not depend on them."""
    import faiss

    need = -(-int(faiss.cvar.distance_compute_blas_threshold) // max(1, queries.shape[1]))
    if len(queries) >= need or 4 * len(queries) < need:
        return queries
    return np.concatenate([queries, np.zeros((need - len(queries), queries.shape[1]), dtype=queries.dtype)])


def rounding_slack(queries: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Per query, the most two float32 computations of ``q . d`` (any document ``d`` of ``block``) can differ:
    each is within ``gamma_n |q| |d|`` of the exact value (``gamma_n = n u / (1 - n u)``, ``n`` the dimension,
    ``u = 2**-24``; Higham, Accuracy and Stability of Numerical Algorithms, 3.1), whatever its summation order."""
    n, u = block.shape[1], 2.0**-24
    gamma = n * u / (1 - n * u)
    longest = float(np.sqrt(np.max(np.einsum("ij,ij->i", block, block, dtype=np.float64)))) if len(block) else 0.0
    return 2 * gamma * np.linalg.norm(queries.astype(np.float64), axis=1) * longest


def _block_search(queries: np.ndarray, block: np.ndarray, depth: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``min(depth, len(block))`` of one block for one query batch: global indices, sorted.

    FAISS proposes the candidates; their scores are recomputed pair by pair
    (:func:`negmine.retrieve.ann.exact_rescore`, as the ANN indexes' candidates are; bit for bit the
    :func:`gather_scores` of a positive). FAISS's BLAS scores depend on the shape of
    the matrix product: the same query and document got other last bits with another block or query batch
    size (100 queries x 1,000 documents of 384 dimensions: 44-384 of 1,500 top-15 scores changed with the
    block size), so ``--shard-size`` and ``--memory-budget`` changed candidate scores and, at near ties, their
    order. FAISS is asked for more than k (k + k/8, doubling) until in every row the k-th re-scored score
    exceeds FAISS's last returned score by more than the two computations can differ
    (:func:`rounding_slack`): no document outside the list can then reach the k-th score, so every document
    tied there is seen and the lowest indices win. The k/8 spare entries make a re-search (of the whole
    batch) need a genuine run of (near-)equal scores: with only k + 1, two scores coinciding at the boundary
    in any of 4,096 queries re-ran the batch (measured: 1 in 3 batches at 100k documents).
    """
    import faiss

    from negmine.retrieve.ann import exact_rescore

    k = min(depth, len(block))
    want = min(len(block), k + max(1, k // 8))
    padded, n = blas_batch(queries), len(queries)
    slack = rounding_slack(queries, block)
    while True:
        proposed, local = faiss.knn(padded, block, want, metric=faiss.METRIC_INNER_PRODUCT)
        proposed, local = proposed[:n].astype(np.float64), local[:n].astype(np.int64)
        indices, scores = sort_rows(np.where(local >= 0, local + offset, PAD_INDEX), exact_rescore(queries, block, local))
        if want == len(block) or np.all(scores[:, k - 1] > proposed[:, want - 1] + slack):
            return indices[:, :k], scores[:, :k]
        want = min(len(block), 2 * want)


def dense_search(
    query_emb: np.ndarray,
    doc_emb: np.ndarray,
    depth: int,
    block_size: int = 65536,
    query_batch_size: int = 4096,
    show_progress: bool = False,
    offset: int = 0,
) -> Candidates:
    """Exact top-``depth`` documents by inner product for every query (row ``i`` = query ``i``).

    ``offset`` is added to the returned document indices (``doc_emb`` is one shard of a larger corpus
    starting at row ``offset``); ties still go to the lower index, so shard results merge exactly.
    """
    _check_inputs(query_emb, doc_emb, depth, block_size, query_batch_size)
    n_queries, n_docs = len(query_emb), len(doc_emb)
    best_idx, best_sc = pad_to(np.empty((n_queries, 0), np.int64), np.empty((n_queries, 0), np.float32), depth)
    from negmine.progress import progress_bar

    steps = range(0, n_docs, block_size)
    for start in progress_bar(steps, desc="dense search", unit="block", show=show_progress and len(steps) >= 2):
        block = np.ascontiguousarray(doc_emb[start : start + block_size], dtype=np.float32)
        for q0 in range(0, n_queries, query_batch_size):
            q1 = min(n_queries, q0 + query_batch_size)
            queries = np.ascontiguousarray(query_emb[q0:q1], dtype=np.float32)
            idx, sc = _block_search(queries, block, depth, offset + start)
            best_idx[q0:q1], best_sc[q0:q1] = merge_topk(best_idx[q0:q1], best_sc[q0:q1], idx, sc, depth)
    return Candidates(best_idx, best_sc)


def gather_scores(
    query_emb: np.ndarray, doc_emb: np.ndarray, query_rows: np.ndarray, doc_rows: np.ndarray
) -> np.ndarray:
    """``query_emb[query_rows[j]] . doc_emb[doc_rows[j]]`` for every pair ``j``, as float32.

    Works in chunks of at most :data:`GATHER_BYTES` of gathered vectors, so memory stays bounded for memmapped
    corpora of any dimension.
    """
    query_rows = np.asarray(query_rows, dtype=np.int64).ravel()
    doc_rows = np.asarray(doc_rows, dtype=np.int64).ravel()
    if query_rows.shape != doc_rows.shape:
        raise ValueError(f"{len(query_rows)} query rows for {len(doc_rows)} document rows")
    for name, rows, size in (("query", query_rows, len(query_emb)), ("document", doc_rows, len(doc_emb))):
        if len(rows) and (rows.min() < 0 or rows.max() >= size):
            raise IndexError(f"{name} row out of range [0, {size}): min {rows.min()}, max {rows.max()}")
    out = np.empty(len(query_rows), dtype=np.float32)
    chunk = max(1, GATHER_BYTES // (8 * max(1, doc_emb.shape[1])))
    for start in range(0, len(out), chunk):
        q = np.asarray(query_emb[query_rows[start : start + chunk]], dtype=np.float32)
        d = np.asarray(doc_emb[doc_rows[start : start + chunk]], dtype=np.float32)
        out[start : start + chunk] = np.einsum("ij,ij->i", q, d)
    return out
