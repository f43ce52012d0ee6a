"""Dense search of a query store against a corpus store, one corpus shard per task, with a top-k merge.

Each task reads its corpus shard into memory (plain reads, no resident mapping) and returns the shard's
top-``depth`` per query (exact FAISS blocks, or an ANN index re-scored exactly). The driver saves every
finished shard's lists atomically as ``<work>/search/<shard>.npz`` and skips those on a rerun. The final
merge orders by (score descending, corpus index ascending), a total order over disjoint shards, so the
result is the same for any shard size, completion order or engine, and equals one unsharded search.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from negmine.engine.base import Engine
from negmine.engine.store import EmbeddingStore
from negmine.io.atomic import atomic_write
from negmine.retrieve.candidates import Candidates
from negmine.retrieve.topk import merge_topk, pad_to


class SearchSpec(NamedTuple):
    query_path: str
    query_shape: tuple[int, int]
    doc_path: str
    doc_shape: tuple[int, int]
    depth: int
    index: str = "flat"
    nprobe: int = 16
    query_batch_size: int = 4096
    refine: int = 8
    target_recall: float | None = None


class SearchOutcome(NamedTuple):
    """The merged candidates, shards searched in this run, and per shard (in order) the ANN breadth and refine
    used and the calibration sample's recall (:class:`negmine.retrieve.ann.AnnResult`; 0, 0, None for an exact
    search)."""

    candidates: Candidates
    shards_run: int
    breadths: list[int]
    refines: list[int]
    recalls: list[float | None]


class SearchState(NamedTuple):
    spec: SearchSpec
    queries: np.ndarray
    docs: EmbeddingStore


def search_setup(spec: SearchSpec) -> SearchState:
    """Worker side: load the query vectors once and open the corpus store."""
    queries = EmbeddingStore(spec.query_path, spec.query_shape).read_rows(0, spec.query_shape[0])
    return SearchState(spec, queries, EmbeddingStore(spec.doc_path, spec.doc_shape))


def search_task(state: SearchState, span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, int, int, float]:
    """Worker side: top-``depth`` of corpus rows ``span = (start, stop)`` for every query, the ANN breadth and
    refine used (0: exact) and the calibration recall (NaN: not measured)."""
    from negmine.retrieve.ann import ann_search
    from negmine.retrieve.dense import dense_search

    start, stop = span
    block = state.docs.read_rows(start, stop)
    spec = state.spec
    if spec.index == "flat":
        found = dense_search(state.queries, block, spec.depth, len(block), spec.query_batch_size, offset=start)
        return found.indices, found.scores, 0, 0, float("nan")
    result = ann_search(state.queries, block, spec.depth, spec.index, spec.nprobe, start, spec.query_batch_size,
                        spec.refine, spec.target_recall)
    recall = float("nan") if result.sample_recall is None else result.sample_recall
    return result.candidates.indices, result.candidates.scores, result.breadth, result.refine, recall


def _part_path(folder: Path, shard: int) -> Path:
    return folder / f"{shard}.npz"


def _save_part(path: Path, indices: np.ndarray, scores: np.ndarray, breadth: int, refine: int, recall: float) -> None:
    with atomic_write(path, "wb") as handle:
        np.savez(handle, indices=indices, scores=scores, breadth=np.int64(breadth), refine=np.int64(refine),
                 recall=np.float64(recall))


def search_stores(
    engine: Engine, spec: SearchSpec, shard_rows: int, folder: str | Path, show_progress: bool = False
) -> SearchOutcome:
    """Merged top-``spec.depth`` candidates of every query, the number of shards searched in this run, and how
    each shard was searched (also for shards finished by an earlier run)."""
    from functools import partial

    from negmine.progress import progress_bar

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_docs = spec.doc_shape[0]
    spans = {s: (r0, min(n_docs, r0 + shard_rows)) for s, r0 in enumerate(range(0, n_docs, shard_rows))}
    todo = [(s, span) for s, span in spans.items() if not _part_path(folder, s).exists()]
    # over all shards, from those a stopped run saved (as the encoding bars; tqdm's ETA counts this run's only)
    with progress_bar(total=len(spans), initial=len(spans) - len(todo), desc="dense search", unit="shard",
                      show=show_progress) as bar:
        for s, found in engine.map(partial(search_setup, spec), search_task, todo, "dense search"):
            _save_part(_part_path(folder, s), *found)
            bar.update(1)
    merged = merge_parts(folder, len(spans), spec.query_shape[0], spec.depth)
    return SearchOutcome(merged, len(todo), *part_settings(folder, len(spans)))


def part_settings(folder: Path, n_shards: int) -> tuple[list[int], list[int], list[float | None]]:
    """The breadth, refine and calibration recall saved with each shard's lists."""
    breadths, refines, recalls = [], [], []
    for s in range(n_shards):
        with np.load(_part_path(folder, s), allow_pickle=False) as part:
            breadths.append(int(part["breadth"]))
            refines.append(int(part["refine"]))
            recall = float(part["recall"])
            recalls.append(None if np.isnan(recall) else round(recall, 4))
    return breadths, refines, recalls


def merge_parts(folder: Path, n_shards: int, n_queries: int, depth: int) -> Candidates:
    """Merge the saved per-shard lists (in shard order; the order does not change the result)."""
    best = pad_to(np.empty((n_queries, 0), np.int64), np.empty((n_queries, 0), np.float32), depth)
    for s in range(n_shards):
        with np.load(_part_path(folder, s), allow_pickle=False) as part:
            best = merge_topk(best[0], best[1], part["indices"], part["scores"], depth)
    return Candidates(*best)
