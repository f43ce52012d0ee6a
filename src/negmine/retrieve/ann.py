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

**Breadth calibration** (``target_recall``): how many lists (``nprobe``) or graph nodes (``efSearch``) a query
must visit for a given recall depends on the data, not only on its size: ``nprobe`` 16 of ``sqrt(n)`` lists
kept 0.91 of the exact top 100 on SciFact but 0.61 of the exact top 10 on a synthetic 1M set with little
cluster structure. With a target, each shard measures it: the exact top-``depth`` of
:data:`CALIBRATION_QUERIES` evenly spaced queries is computed, and the breadth doubles from its start
(``nprobe``, or ``max(2 depth, 64)`` for HNSW; IVF-PQ doubles its ``refine`` with it, as its compressed
distances decide which ``refine x depth`` candidates are re-scored) until the index's re-scored top ``depth``
holds ``target_recall`` of the exact one on that sample. The breadth and refine used and the recall measured
are returned for the run summary.

**List coverage before the build** (IVF, IVF-PQ): the coarse quantiser is trained first, and each sample
query's exact top ``depth`` is located in its lists (:func:`list_coverage`): probing ``b`` lists can find at most
the share of those neighbours whose list is among the query's ``b`` nearest centroids (tie-aware, like the
recall). That share is IVF's recall at ``nprobe = b`` (list scans compute exact inner products) and an upper
bound for IVF-PQ's; a query whose tie at the ``depth``-th score outruns the exact search counts as covered,
so there the measured recall decides. Calibration skips the steps below the share the target needs, and when
no step within :data:`EXACT_SHARE` is left, the shard is searched exactly without adding a vector to the
index or training PQ codes (1M x 384 vectors: k-means 4.3 s, against a full build of 11 s for IVF and 25 s
for IVF-PQ, plus its calibration searches; ``benchmarks/ann_recall.py --parts``). IVF-PQ doubles only ``refine`` while its probed lists hold enough
(:func:`calibration_steps`): on 1M clustered vectors it reached 0.978 at nprobe 16, refine 32, where doubling
both had passed the exact share at 0.909 and fallen back to exact search.

**A graph over part of the shard first** (HNSW): it has no lists to look up, so a graph over the sample's exact
top ``depth`` and a fixed 1/32, then 1/16, then 1/8 of the shard's other rows is searched at the widest
affordable ``efSearch`` (:mod:`negmine.retrieve.hnsw_probe`). With the same neighbours to find among fewer
points its recall is above the full graph's (measured, not proved), so a stage below the target sends the
shard to exact search before the full graph is built (80,000 uniform 384-d vectors: the full graph recalled 0.153 at efSearch 64 and
the shard took 147 s; the probe's first stage recalled 0.851, and the shard 20 s).

The shard is searched exactly instead when there are no more queries than the sample, and as soon as a
breadth to try would make each query visit more than :data:`EXACT_SHARE` of the shard (:func:`visited_share`):
FAISS scans inverted lists one query at a time, while exact search is one matrix product per block of
queries (BLAS), so on the development CPU a list scan computed inner products ~18x slower (1M synthetic
384-d vectors, 2,000 queries: exact 11.4 s; nprobe 16 of 1,000 lists, 1.6% of the vectors, 3.3 s after an
11 s build; ``benchmarks/ann_recall.py``). An ANN search thus either reaches the target or is exact.

Mining searches each shard once, so index building must cost far less than the exact search it replaces:
``nlist = sqrt(n)`` keeps assignment at ``sqrt(n)`` distance computations per vector, and the quantisers
train on at most :data:`TRAIN_PER_LIST` evenly spaced rows per list (deterministic, no random sample).
"""

from __future__ import annotations

import math
from typing import NamedTuple

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
CALIBRATION_QUERIES = 256
"""Evenly spaced queries whose exact top-k calibrates the search breadth (``target_recall``)."""
EXACT_SHARE = 1 / 16
"""A calibrated search visiting more than this share of a shard's vectors per query is replaced by exact search."""
HNSW_NEIGHBOURS = 64
"""Neighbours per node on HNSW32's base layer: inner products per visited node, for :func:`visited_share`."""


class AnnResult(NamedTuple):
    """One shard's candidates and how they were searched."""

    candidates: Candidates
    breadth: int
    """``nprobe`` (ivf, ivfpq) or ``efSearch`` (hnsw) used; 0 when the shard was searched exactly."""
    refine: int
    """Candidates proposed per kept one (IVF-PQ's ``refine``; 1 for ivf and hnsw, 0 for an exact search)."""
    sample_recall: float | None
    """Recall of the exact top ``depth`` on the calibration sample at ``breadth`` (1.0 for an exact search;
    None when no ``target_recall`` was given, so nothing was measured)."""


def n_lists(n: int) -> int:
    """Inverted lists of an IVF index over ``n`` vectors: ``sqrt(n)``, keeping at least 39 training points each."""
    return max(1, min(int(math.sqrt(n)), n // 39))


def factory_string(index: str, n: int, dim: int) -> str:
    """FAISS index-factory description of ``index`` for a shard of ``n`` vectors of dimension ``dim``."""
    nlist = n_lists(n)
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
    nlist = n_lists(len(block))
    want = TRAIN_PER_LIST * nlist if index != "ivfpq" else max(TRAIN_PER_LIST * nlist, PQ_MIN_TRAIN)
    if want >= len(block):
        return block
    return np.ascontiguousarray(block[np.linspace(0, len(block) - 1, want).astype(np.int64)])


def coarse_centroids(block: np.ndarray, index: str) -> np.ndarray:
    """The centroids of the IVF / IVF-PQ index :func:`build_index` would train over ``block`` (k-means on
    :func:`training_rows`), without adding vectors or training PQ codes."""
    import faiss

    nlist = n_lists(len(block))
    flat = faiss.index_factory(block.shape[1], f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
    flat.train(training_rows(block, index))
    return faiss.extract_index_ivf(flat).quantizer.reconstruct_n(0, nlist)


def build_index(block: np.ndarray, index: str, breadth: int, centroids: np.ndarray | None = None):
    """Train (when needed) and fill a FAISS index over ``block``, searching ``breadth`` (:func:`set_breadth`);
    ``centroids`` (from :func:`coarse_centroids`) stand in for the coarse quantiser's training."""
    import faiss

    faiss_index = faiss.index_factory(block.shape[1], factory_string(index, len(block), block.shape[1]),
                                      faiss.METRIC_INNER_PRODUCT)
    if centroids is not None:  # FAISS skips k-means when the quantiser already holds nlist centroids
        faiss.extract_index_ivf(faiss_index).quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    if index == "ivfpq":  # polysemous codes serve Hamming pre-filtering, unused here; their training was 80%
        faiss.downcast_index(faiss_index).do_polysemous_training = False  # of the build (46 s -> 8 s, 50k x 384)
    if not faiss_index.is_trained:
        faiss_index.train(training_rows(block, index))
    add_vectors(faiss, faiss_index, block, index)
    set_breadth(faiss_index, index, breadth)
    return faiss_index


DETERMINISTIC_HNSW_FAISS = (1, 15, 1)
"""The first FAISS whose multi-threaded HNSW graph build is deterministic (before it, threads insert nodes
in an unspecified order: 1.8.0 to 1.15.0 gave another graph, so other candidates, on every run; measured)."""


def hnsw_build_is_deterministic(version: str) -> bool:
    """Whether FAISS ``version`` builds the same HNSW graph on every run whatever its thread count."""
    parts = [int(p) for p in version.split("+")[0].split(".")[:3] if p.isdigit()]
    return tuple(parts) >= DETERMINISTIC_HNSW_FAISS


def add_vectors(faiss, faiss_index, block: np.ndarray, index: str) -> None:
    """``faiss_index.add(block)``; an HNSW graph on a FAISS older than :data:`DETERMINISTIC_HNSW_FAISS` is built
    on one thread (slower, but the same graph on every run), the thread count restored after."""
    if index != "hnsw" or hnsw_build_is_deterministic(faiss.__version__):
        faiss_index.add(block)
        return
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        faiss_index.add(block)
    finally:
        faiss.omp_set_num_threads(threads)


def start_breadth(index: str, depth: int, nprobe: int) -> int:
    """The breadth searched without calibration: ``nprobe`` lists, or ``efSearch = max(2 depth, 64)`` for HNSW."""
    return max(2 * depth, 64) if index == "hnsw" else nprobe


def breadth_steps(index: str, start: int, n: int) -> list[int]:
    """Breadths calibration tries: ``start`` doubling up to the full one (every list, or every point for HNSW)."""
    full = n if index == "hnsw" else n_lists(n)
    steps = [min(start, full)]
    while steps[-1] < full:
        steps.append(min(2 * steps[-1], full))
    return steps


def calibration_steps(
    index: str, start: int, refine: int, depth: int, n: int, dim: int, covered=None, target: float = 1.0,
) -> list[tuple[int, int]]:
    """``(breadth, refine)`` pairs calibration tries in order: the breadths of :func:`breadth_steps`; IVF-PQ's
    ``refine`` doubles with them, until ``refine x depth`` covers the shard or one query's proposals would fill
    :data:`RESCORE_BYTES` when gathered for re-scoring (memory stays bounded).

    With ``covered`` (:func:`list_coverage`), breadths whose lists cannot hold ``target`` of the exact top
    ``depth`` are skipped, and IVF-PQ doubles only ``refine`` while the lists hold at least half of what the
    target leaves out beyond it (``covered >= (1 + target) / 2``): its recall is then lost to compressed
    distances, which more re-scored proposals recover, not to unprobed lists."""
    breadths = breadth_steps(index, start, n)
    if covered is not None:
        breadths = [b for b in breadths if covered(b) >= target] or breadths[-1:]
    if index != "ivfpq":
        return [(b, 1) for b in breadths]
    top = max(refine, min(-(-n // depth), RESCORE_BYTES // (depth * dim * 4)))
    if covered is None:
        return [(b, min(refine << i, top)) for i, b in enumerate(breadths)]
    steps = [(breadths[0], refine)]
    while steps[-1] != (breadths[-1], top):
        b, r = steps[-1]
        lists_enough = covered(b) >= (1 + target) / 2 or b == breadths[-1]
        if lists_enough and r < top:
            steps.append((b, min(2 * r, top)))
        else:
            steps.append((breadths[breadths.index(b) + 1], min(2 * r, top)))
    return steps


def visited_share(index: str, breadth: int, refine: int, depth: int, n: int) -> float:
    """About how much of an ``n``-vector shard one query's search computes inner products with: the lists it
    scans (IVF; plus IVF-PQ's ``refine x depth`` exact re-scores), or ``efSearch`` nodes' neighbours (HNSW)."""
    if index == "hnsw":
        return breadth * HNSW_NEIGHBOURS / n
    share = breadth / n_lists(n)
    return share + refine * depth / n if index == "ivfpq" else share


def set_breadth(faiss_index, index: str, breadth: int) -> None:
    import faiss

    if index == "hnsw":
        faiss_index.hnsw.efSearch = breadth
    else:
        faiss.extract_index_ivf(faiss_index).nprobe = breadth


def sample_recall(found_scores: np.ndarray, exact_scores: np.ndarray, rtol: float = 1e-5) -> float:
    """Tie-aware recall of exact top-k lists: per row, the share of its k real entries (padding aside) that
    ``found`` matches with a score at least the exact k-th one (within ``rtol``), averaged over rows.

    Scores, not ids: when more documents tie at the k-th score than fit, any of them belongs to a correct top
    k, and an index may propose other ones of the tie than the lowest rows an exact search keeps."""
    shares = []
    for got, want in zip(found_scores, exact_scores):
        want = want[np.isfinite(want)]
        if want.size:
            shares.append(min(int(np.count_nonzero(got >= tie_floor(want[-1], rtol))), want.size) / want.size)
    return float(np.mean(shares)) if shares else 1.0


def tie_floor(kth, rtol: float):
    """The lowest score that still ties an exact top-k's ``kth`` score: ``kth - rtol * max(1, |kth|)`` (two
    exact scorers may round a tie apart)."""
    return kth - rtol * np.maximum(1.0, np.abs(kth))


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
    query_batch_size: int = 4096, refine: int = 8, target_recall: float | None = None,
) -> AnnResult:
    """Top-``depth`` candidates of every query in ``block`` (corpus rows ``offset + j``) through ``index``;
    IVF-PQ proposes ``refine * depth`` for exact re-scoring; ``target_recall`` calibrates the breadth (see the
    module docstring)."""
    from negmine.retrieve.dense import dense_search

    block = np.ascontiguousarray(block, dtype=np.float32)
    queries = np.ascontiguousarray(query_emb, dtype=np.float32)

    def exact(recall: float | None) -> AnnResult:
        return AnnResult(dense_search(queries, block, depth, max(1, len(block)), query_batch_size, offset=offset),
                         0, 0, recall)

    small = target_recall is not None and len(queries) <= CALIBRATION_QUERIES
    if len(block) < MIN_ANN_ROWS or small:
        return exact(None if target_recall is None else 1.0)
    breadth, refine = start_breadth(index, depth, nprobe), refine if index == "ivfpq" else 1
    if target_recall is None:
        search = _Searcher(build_index(block, index, breadth), block, depth, query_batch_size)
        indices, scores = search(queries, offset, proposals(index, depth, refine, len(block)))
        return AnnResult(Candidates(*pad_to(indices, scores, depth)), breadth, refine, None)
    calibrated = calibrated_search(queries, block, depth, index, breadth, refine, target_recall, query_batch_size)
    if calibrated is None:  # the target needs a breadth that costs more than exact search
        return exact(1.0)
    search, breadth, refine, recall = calibrated
    indices, scores = search(queries, offset, proposals(index, depth, refine, len(block)))
    return AnnResult(Candidates(*pad_to(indices, scores, depth)), breadth, refine, recall)


def calibrated_search(
    queries: np.ndarray, block: np.ndarray, depth: int, index: str, start: int, refine: int, target: float,
    query_batch_size: int,
) -> tuple["_Searcher", int, int, float] | None:
    """The index over ``block`` at the first ``(breadth, refine)`` of :func:`calibration_steps` whose top
    ``depth`` holds ``target`` of the exact one on :data:`CALIBRATION_QUERIES` evenly spaced queries (the last
    step if none does), and that recall; None, before building anything that is not needed yet, as soon as a
    step would visit more than :data:`EXACT_SHARE` of the shard (exact search is cheaper); when the narrowest
    breadth already would, before the sample's exact search and any k-means. IVF steps whose
    :func:`list_coverage` is below ``target`` are skipped without a search; HNSW goes exact without building
    its graph when a graph over part of the shard misses ``target`` (:mod:`negmine.retrieve.hnsw_probe`)."""
    from negmine.retrieve.dense import dense_search

    n = len(block)
    if visited_share(index, breadth_steps(index, start, n)[0], refine, depth, n) > EXACT_SHARE:
        return None  # even the narrowest step costs more than exact search: no sample search, k-means or build
    sample = queries[np.linspace(0, len(queries) - 1, CALIBRATION_QUERIES).astype(np.int64)]
    deeper = dense_search(sample, block, min(n, 2 * depth), max(1, n))  # room for ties at the depth-th score
    exact_scores = deeper.scores[:, :depth]
    if index == "hnsw" and _graph_out_of_reach(block, sample, deeper, depth, start, target, query_batch_size):
        return None  # a graph over part of the shard misses the target: the full one would, so it is not built
    centroids = covered = None
    if index != "hnsw":
        centroids = coarse_centroids(block, index)
        covered = list_coverage(centroids, sample, block, deeper, depth)
    steps = calibration_steps(index, start, refine, depth, n, block.shape[1], covered, target)
    if visited_share(index, *steps[0], depth, n) > EXACT_SHARE:
        return None
    search = _Searcher(build_index(block, index, steps[0][0], centroids), block, depth, query_batch_size)
    for breadth, refine in steps:
        if visited_share(index, breadth, refine, depth, n) > EXACT_SHARE:
            return None
        set_breadth(search.index, index, breadth)
        recall = sample_recall(search(sample, 0, proposals(index, depth, refine, n))[1], exact_scores)
        if recall >= target:
            break
    return search, breadth, refine, recall


def affordable_breadths(index: str, start: int, refine: int, depth: int, n: int) -> list[int]:
    """The breadths of :func:`breadth_steps` whose search visits at most :data:`EXACT_SHARE` of the shard."""
    return [b for b in breadth_steps(index, start, n) if visited_share(index, b, refine, depth, n) <= EXACT_SHARE]


def _graph_out_of_reach(
    block: np.ndarray, sample: np.ndarray, exact: Candidates, depth: int, start: int, target: float,
    query_batch_size: int,
) -> bool:
    """Whether no affordable ``efSearch`` can let an HNSW graph over ``block`` reach ``target`` on ``sample``
    (whose exact search is ``exact``), as judged by a graph over part of it at the widest one
    (:func:`negmine.retrieve.hnsw_probe.graph_misses_target`)."""
    from negmine.retrieve.hnsw_probe import graph_misses_target

    widest = affordable_breadths("hnsw", start, 1, depth, len(block))[-1]
    return graph_misses_target(block, sample, exact, depth, widest, target, query_batch_size)


def list_coverage(
    centroids: np.ndarray, sample: np.ndarray, block: np.ndarray, exact: Candidates, depth: int, rtol: float = 1e-5,
):
    """``covered(b)``: the share of each sample query's exact top ``depth`` that sits in one of the query's
    ``b`` nearest lists, averaged over queries; tie-aware like :func:`sample_recall`. ``exact`` is the sample's
    exact search to a greater depth (rows of ``block``, sorted; -1 padding ignored): every document scoring at
    least the ``depth``-th score (within ``rtol``) counts, up to ``depth``, since a search may return any of a tie.
    An inverted list holds the vectors whose nearest centroid (inner product) is its own, as FAISS assigns them."""
    import faiss

    nlist = len(centroids)
    quantizer = faiss.IndexFlatIP(centroids.shape[1])
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    _, order = quantizer.search(sample, nlist)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(nlist), order.shape), axis=1)
    top = np.where((exact.indices >= 0) & np.isfinite(exact.scores), exact.scores, np.inf)[:, :depth]
    want = np.isfinite(top).sum(axis=1)  # each row's real exact top depth
    floor = tie_floor(np.where(want > 0, top.min(axis=1), 0.0)[:, None], rtol)
    real = (exact.indices >= 0) & np.isfinite(exact.scores) & (exact.scores >= floor)
    lists = np.zeros(exact.indices.shape, dtype=np.int64)
    lists[real] = nearest_lists(quantizer, block, exact.indices[real])
    list_rank = np.where(real, np.take_along_axis(rank, lists, axis=1), nlist)
    # A tie that runs past the exact search's last column may hold documents in any list: such a row counts as
    # covered, so the measured recall decides for it (the calibration never goes exact for want of columns).
    unknown = real[:, -1] & (exact.indices.shape[1] < len(block))
    keep = want > 0
    list_rank, want, unknown = list_rank[keep], want[keep], unknown[keep]

    def covered(breadth: int) -> float:
        shares = np.where(unknown, 1.0, np.minimum((list_rank < breadth).sum(axis=1), want) / np.maximum(want, 1))
        return float(np.mean(shares)) if want.size else 1.0

    return covered


def nearest_lists(quantizer, block: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The inverted list (nearest centroid of ``quantizer``) of each of ``block[rows]``, gathering at most
    :data:`RESCORE_BYTES` of vectors at a time (a deep calibration sample stays bounded)."""
    chunk = max(1, RESCORE_BYTES // (4 * block.shape[1]))
    parts = [quantizer.search(block[rows[i : i + chunk]], 1)[1][:, 0] for i in range(0, len(rows), chunk)]
    return np.concatenate(parts) if parts else np.empty(0, np.int64)


class _Searcher:
    """``searcher(queries, offset, proposed)`` -> re-scored, sorted top-``depth`` (indices + offset, scores) of
    ``proposed`` candidates per query from ``index`` at its current breadth, in query batches that bound the
    proposals held at once (:data:`PROPOSAL_BYTES`)."""

    def __init__(self, index, block: np.ndarray, depth: int, query_batch_size: int) -> None:
        self.index, self.block, self.depth, self.query_batch_size = index, block, depth, query_batch_size

    def __call__(self, queries: np.ndarray, offset: int, proposed: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(self.depth, len(self.block))
        batch = max(1, min(self.query_batch_size, PROPOSAL_BYTES // (16 * proposed)))
        parts = []
        for q0 in range(0, len(queries), batch):
            _, local = self.index.search(queries[q0 : q0 + batch], proposed)
            local = local.astype(np.int64)
            scores = exact_rescore(queries[q0 : q0 + batch], self.block, local)
            indices, scores = sort_rows(np.where(local >= 0, local + offset, PAD_INDEX), scores)
            parts.append((indices[:, :k], scores[:, :k]))
        indices = np.concatenate([p[0] for p in parts]) if parts else np.empty((0, k), np.int64)
        scores = np.concatenate([p[1] for p in parts]) if parts else np.empty((0, k), np.float32)
        return indices, scores
