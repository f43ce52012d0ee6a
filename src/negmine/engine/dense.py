"""Dense candidates for a mining job through an engine: encode both sides into stores, search, merge.

The work folder ``<work_dir or cache_dir/runs>/<run key>`` holds ``documents.npy`` / ``queries.npy``
(:class:`~negmine.engine.store.EmbeddingStore`) and ``search/<shard>.npz``. The run key is a hash of
everything that changes the result (embedder fingerprint, prompts, every text's key, depth, index and
shard sizes), so rerunning the same command after ``kill -9`` finds the finished shards and resumes,
while any change starts a fresh folder. The caller removes the folder once its outputs are written.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from negmine.config import EncoderConfig, EngineConfig, RetrieveConfig
from negmine.encode.cache import model_name
from negmine.encode.embed import _plan
from negmine.engine.base import Engine, Setup
from negmine.engine.budget import search_shard_rows
from negmine.engine.encode import encode_to_store
from negmine.engine.run_lease import RunLease
from negmine.engine.search import SearchSpec, search_stores
from negmine.retrieve.candidates import Candidates


class DenseRun(NamedTuple):
    queries: np.ndarray  # read-only memmap (n_queries, dim)
    documents: np.ndarray  # read-only memmap (n_docs, dim)
    candidates: Candidates
    encoded: int
    cached: int
    run_dir: Path
    info: dict
    lease: RunLease | None = None  # held on run_dir until the caller removes or releases it
    resumed: int = 0  # texts read from the shards a stopped run finished (not counted in ``cached``)


def run_key(parts: dict, doc_keys: np.ndarray, query_keys: np.ndarray) -> str:
    """sha256 over the JSON of ``parts`` and the key bytes of every document and query text, in order."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(doc_keys).tobytes())
    digest.update(b"|")
    digest.update(np.ascontiguousarray(query_keys).tobytes())
    return digest.hexdigest()[:32]


def work_root(engine: EngineConfig, encoder: EncoderConfig) -> Path:
    """``engine.work_dir``, else ``<cache dir>/runs``, as an absolute path: shard tasks name their files by it,
    and a Ray worker does not run in the driver's working directory (it runs where ``ray start`` ran)."""
    if engine.work_dir is not None:
        return Path(engine.work_dir).absolute()
    from negmine.encode.cache import default_cache_dir

    return (Path(encoder.cache_dir or default_cache_dir()) / "runs").absolute()


def dense_retrieval(
    engine: Engine, embedder, setup: Setup, query_texts: Sequence[str], doc_texts: Sequence[str], depth: int,
    encoder: EncoderConfig, retrieve: RetrieveConfig, config: EngineConfig, cache=None,
) -> DenseRun:
    """Top-``depth`` documents of every query by inner product, computed shard by shard on ``engine``."""
    doc_plan, query_plan = _plan(doc_texts), _plan(query_texts)
    shard_rows = search_shard_rows(
        config, retrieve.block_size, len(doc_texts), embedder.dim, len(query_texts), depth,
        lambda: getattr(engine, "workers", 1),  # asked only under a memory budget: a Ray engine starts to answer
    )
    parts = {
        "fingerprint": embedder.fingerprint, "query_prompt": encoder.query_prompt,
        "document_prompt": encoder.document_prompt, "depth": depth, "index": config.index,
        "nprobe": config.nprobe, "refine": config.refine, "target_recall": config.target_recall,
        "shard_rows": shard_rows,
        "encode_shard": config.encode_shard_size,
    }
    run_dir = work_root(config, encoder) / run_key(parts, doc_plan.keys, query_plan.keys)
    lease = RunLease(run_dir)  # no other run removes run_dir while this one uses it
    with lease.released_on_error():
        ident = (embedder.fingerprint, embedder.dim)
        show = encoder.show_progress
        t0 = time.perf_counter()
        docs = encode_to_store(
            engine, setup, doc_texts, encoder.document_prompt, run_dir / "documents.npy", ident,
            config.encode_shard_size, _shelf(cache, embedder, encoder.document_prompt), doc_plan, show, "encode corpus",
        )
        queries = encode_to_store(
            engine, setup, query_texts, encoder.query_prompt, run_dir / "queries.npy", ident,
            config.encode_shard_size, _shelf(cache, embedder, encoder.query_prompt), query_plan, show, "encode queries",
        )
        t1 = time.perf_counter()
        spec = SearchSpec(
            str(queries.store.path), queries.store.shape, str(docs.store.path), docs.store.shape, depth,
            config.index, config.nprobe, retrieve.query_batch_size, config.refine, config.target_recall,
        )
        outcome = search_stores(engine, spec, shard_rows, run_dir / "search", show)
        info = {
            "engine": engine.name, "index": config.index, "search_shard_rows": shard_rows,
            "search_shards": -(-len(doc_texts) // shard_rows), "search_shards_run": outcome.shards_run,
            **ann_info(config, outcome),
            "encode_seconds": round(t1 - t0, 3), "search_seconds": round(time.perf_counter() - t1, 3),
        }
        return DenseRun(
            queries.store.memmap(), docs.store.memmap(), outcome.candidates, docs.n_encoded + queries.n_encoded,
            docs.n_cached + queries.n_cached, run_dir, info, lease, docs.n_resumed + queries.n_resumed,
        )


def ann_info(config: EngineConfig, outcome) -> dict:
    """Summary fields of an ANN search: the breadth (and IVF-PQ's refine) each shard used (0: searched exactly)
    and, with ``target_recall``, the recall each shard measured on its calibration sample."""
    if config.index == "flat":
        return {}
    name = "ef_search" if config.index == "hnsw" else "nprobe"
    info = {f"ann_{name}_per_shard": outcome.breadths}
    if config.index == "ivfpq":
        info["ann_refine_per_shard"] = outcome.refines
    if config.target_recall is not None:
        info["ann_target_recall"] = config.target_recall
        info["ann_sample_recall_per_shard"] = outcome.recalls
    return info


def _shelf(cache, embedder, prompt: str):
    return cache.shelf(embedder.fingerprint, prompt, model_name(embedder), embedder.dim) if cache is not None else None
