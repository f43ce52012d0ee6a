"""Whether an HNSW graph over a shard can reach a recall target, judged on a graph over part of it first.

An HNSW graph has no inverted lists to look up before the build (IVF's :func:`~negmine.retrieve.ann.list_coverage`):
its recall at an ``efSearch`` is the graph's own, so the full graph used to be built, calibrated and, when no
affordable ``efSearch`` reached the target, dropped for exact search. The probe builds a small graph instead:
the calibration sample's exact top ``depth`` in the shard plus a fixed 1/32 of its other rows, grown to 1/16
and 1/8 (:data:`PROBE_STAGES`), searched at the widest ``efSearch`` the full shard affords. Its search has the
same neighbours to find as the full graph's, among fewer points; at a fixed ``efSearch`` a graph finds less
of the exact top k as it grows (uniform 384-d, the same rows without the planted neighbours, 80,000 vectors,
efSearch 64, graphs over 1/32 ... all of them: 0.919, 0.774, 0.613, 0.430, 0.289, 0.150), so the probe's
recall bounds the full graph's from above. A stage below the target means the full graph would miss it
too, at that and every narrower ``efSearch``: the shard is searched exactly and the full graph never built.
A stage at or above the target proves nothing about the full graph, so when the stages reach it the full
graph is built and calibrated as without the probe (the same graph, the same results). The probe stops at
the first stage that misses the target or settles it (:data:`SETTLE`), so it costs at most a graph over an
eighth of the shard, and a 1/32 one when the data is easy or hopeless.

The planted neighbours matter: a sample of the shard alone holds only part of each query's top k (in mining,
a query's positives and their near copies), so it measures another search. On ``scale_synthetic.py``'s
clustered vectors, every 8th row held every query's positive: graphs over every 32nd, 16th, 8th row recalled
1.0, 0.984, 1.0, rising where the positives came in.
"""

from __future__ import annotations

import numpy as np

from negmine.retrieve.ann import _Searcher, add_vectors, sample_recall
from negmine.retrieve.candidates import Candidates

PROBE_STAGES = (32, 16, 8)
"""The probe's nested stages: stage ``s`` holds ``1/s`` of the shard's rows (plus the sample's exact top k)."""
SETTLE = 0.5
"""A stage whose recall is this far from the target to 1 (at least) ends the probe: the full graph is built.
Only the probe's cost depends on it (scale_synthetic.py's clustered vectors, noise 0.5, 80,000 x 384-d: every
stage recalled 1.0 and the full graph 0.98; the three stages added 12.6 s to a 49.4 s search, the first 1.8 s)."""
PROBE_SEED = 0
"""Seed of the fixed permutation whose prefixes are the stages' rows (the same rows on every run)."""


def stage_rows(n: int, exact_rows: np.ndarray) -> list[np.ndarray]:
    """Rows each stage of :data:`PROBE_STAGES` adds to the graph: first ``exact_rows`` and the first ``n / 32``
    of a fixed permutation of the shard, then the permutation's next rows up to ``n / 16``, then ``n / 8``
    (rows already added skipped). A permutation, not every ``s``-th row: a stride can line up with an order
    the rows were written in (on ``scale_synthetic.py``'s vectors, every 8th row held every query's positive)."""
    order = np.random.default_rng(PROBE_SEED).permutation(n)
    seen = np.zeros(n, dtype=bool)
    stages, start = [], 0
    for stride in PROBE_STAGES:
        stop = -(-n // stride)
        rows = order[start:stop] if stages else np.concatenate([exact_rows, order[:stop]])
        rows = np.unique(rows[~seen[rows]])  # sorted; a row of several queries' top k once
        seen[rows] = True
        stages.append(rows)
        start = stop
    return stages


def probe_recalls(
    block: np.ndarray, sample: np.ndarray, exact: Candidates, depth: int, ef_search: int, target: float,
    settle: float, query_batch_size: int = 4096,
) -> list[float]:
    """Recall of the exact top ``depth`` of ``sample`` in ``block`` (``exact``, sorted, at least ``depth``
    columns) found by an HNSW32 graph over each stage's rows (:func:`stage_rows`, which hold that top ``depth``)
    at ``ef_search``, stage by stage; stops after the first below ``target`` or at least ``settle``."""
    import faiss

    top = exact.indices[:, :depth]
    stages = stage_rows(len(block), top[top >= 0])
    graph = faiss.index_factory(block.shape[1], "HNSW32", faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efSearch = ef_search
    members = np.empty(0, dtype=np.int64)
    recalls: list[float] = []
    for added in stages:
        add_vectors(faiss, graph, np.ascontiguousarray(block[added]), "hnsw")  # as deterministic as the full build
        members = np.concatenate([members, added])
        rows = np.ascontiguousarray(block[members])  # graph ids are positions in ``members``
        found = _Searcher(graph, rows, depth, query_batch_size)(sample, 0, depth)[1]
        recalls.append(sample_recall(found, exact.scores[:, :depth]))
        if not target <= recalls[-1] < settle:
            break
    return recalls


def graph_misses_target(
    block: np.ndarray, sample: np.ndarray, exact: Candidates, depth: int, ef_search: int, target: float,
    query_batch_size: int = 4096,
) -> bool:
    """True when a probe stage's recall at ``ef_search`` is below ``target``: the full graph's would be too.
    A stage at least halfway from ``target`` to 1 ends the probe too (:data:`SETTLE`) and the full graph is
    built: that rule sets only the probe's cost, since a graph that is built is the one built without it."""
    settle = target + SETTLE * (1 - target)
    return probe_recalls(block, sample, exact, depth, ef_search, target, settle, query_batch_size)[-1] < target
