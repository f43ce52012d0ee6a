"""Encode texts into an :class:`~negmine.engine.store.EmbeddingStore`, shard by shard, on any engine.

Distinct texts (by blake2b key, in order of first appearance) are cut into shards of ``shard_size``.
For each unfinished shard the driver first serves what the embedding cache holds, sends the rest to the
engine as one task (``embed_texts`` on the worker's embedder), writes the returned vectors to every row
holding those texts, adds them to the cache and marks the shard done. Finished shards of an earlier,
killed run are skipped, so the run resumes at the first unfinished shard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from negmine.encode.embed import _plan, _Plan
from negmine.engine.base import Engine, Setup
from negmine.engine.store import EmbeddingStore


class EncodeResult(NamedTuple):
    store: EmbeddingStore
    n_encoded: int  # distinct texts encoded in this run
    n_cached: int  # distinct texts served by the cache or by shards finished before a restart


def encode_task(embedder, payload: tuple[str, list[str], str]) -> np.ndarray:
    """Worker side: float32 vectors of ``payload = (prompt, texts, fingerprint)``.

    The fingerprint is the driver's embedder's: a worker whose embedder differs (another precision on a
    node without bf16, other weights) refuses instead of mixing vectors of two models in one store.
    """
    from negmine.encode.embed import embed_texts

    prompt, texts, fingerprint = payload
    if embedder.fingerprint != fingerprint:
        raise RuntimeError(
            f"worker embedder {embedder.fingerprint!r} differs from the driver's {fingerprint!r}; "
            "use the same model files and an explicit --precision on every node"
        )
    return embed_texts(embedder, texts, prompt=prompt, cache=None, show_progress=False).vectors


def rows_of(plan: _Plan, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, which)``: all input rows whose text is one of ``uids`` (sorted), and the position in ``uids`` of each."""
    uids = np.asarray(uids, dtype=np.int64)
    starts, counts = plan.bounds[uids], plan.bounds[uids + 1] - plan.bounds[uids]
    total = int(counts.sum())
    step = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = plan.rows_by_unique[np.repeat(starts, counts) + step]
    which = np.repeat(np.arange(len(uids)), counts)
    order = np.argsort(rows, kind="stable")
    return rows[order], which[order]


def _write(store: EmbeddingStore, plan: _Plan, uids: np.ndarray, vectors: np.ndarray) -> None:
    rows, which = rows_of(plan, uids)
    store.write_rows(rows, vectors[which])


def encode_to_store(
    engine: Engine, setup: Setup, texts: Sequence[str], prompt: str, path: str | Path, embedder_id: tuple[str, int],
    shard_size: int, shelf=None, plan: _Plan | None = None, show_progress: bool = False, desc: str = "encode",
) -> EncodeResult:
    """Embeddings of ``prompt + texts[i]`` in row ``i`` of the store at ``path``.

    ``embedder_id`` is the driver's embedder's ``(fingerprint, dim)``; ``shelf`` the cache shelf of
    (fingerprint, prompt) or None.
    """
    fingerprint, dim = embedder_id
    plan = plan if plan is not None else _plan(texts)
    store = EmbeddingStore.open(path, (len(texts), dim))
    n_unique = len(plan.first)
    spans = {s: (u0, min(n_unique, u0 + shard_size)) for s, u0 in enumerate(range(0, n_unique, shard_size))}
    done = [s for s in spans if store.is_done(s)]
    counts = {"cached": sum(spans[s][1] - spans[s][0] for s in done), "encoded": 0}
    missing: dict[int, np.ndarray] = {}

    def pending() -> Iterator[tuple[int, tuple[str, list[str]]]]:
        for s, (u0, u1) in spans.items():
            if store.is_done(s):
                continue
            uids = np.arange(u0, u1)
            if shelf is not None:
                found, cached = shelf.get(plan.keys[plan.first[uids]])
                if found.any():
                    _write(store, plan, uids[found], cached)
                    counts["cached"] += int(found.sum())
                uids = uids[~found]
            if not len(uids):
                store.mark_done(s)
                continue
            missing[s] = uids
            yield s, (prompt, [texts[int(plan.first[u])] for u in uids], fingerprint)

    with _bar(show_progress, len(spans) - len(done), desc) as bar:
        for s, vectors in engine.map(setup, encode_task, pending(), desc):
            uids = missing.pop(s)
            _write(store, plan, uids, vectors)
            if shelf is not None:
                shelf.put(plan.keys[plan.first[uids]], vectors)
            store.mark_done(s)
            counts["encoded"] += len(uids)
            bar.update(1)
    return EncodeResult(store, counts["encoded"], counts["cached"])


def _bar(show: bool, total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="shard", disable=not show)
