"""Embed a list of texts through the cache: each distinct text is encoded at most once.

Identical texts within a call are encoded once (deduplicated by their blake2b-128 key). Cached rows are
read from :class:`~negmine.encode.cache.EmbeddingCache` under (fingerprint, prompt, text key); the rest
are encoded in shards of at most ``shard_size`` texts, fewer for a call of under 8 x ``shard_size`` distinct texts
(mining's cut: :mod:`negmine.encode.embed_shards`), in order of first appearance, and each finished shard is
written to the cache at once, so a killed run resumes from the shards it finished; Ctrl-C carries where it stopped
(:class:`~negmine.engine.encode_shards.EncodingStopped`). The prompt is part of the cache key: a query prompt never
returns document-prompt vectors.
"""

from __future__ import annotations

import contextlib
from collections import abc
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from negmine.encode.base import Embedder
from negmine.io.atomic import atomic_path
from negmine.encode.cache import KEY_BYTES, CacheShelf, EmbeddingCache, model_name, text_keys
from negmine.encode.embed_shards import EmbedShards
from negmine.encode.inflight import InFlight
from negmine.encode.truncate import truncate_rows
from negmine.progress import advancing, encoding

LOOKUP_CHUNK = 65536
"""Distinct texts looked up / held in memory at a time (bounds memory of the memmap variant)."""


class EmbedResult(NamedTuple):
    """``vectors[i]`` embeds ``texts[i]``. Counts are over distinct texts: encoded now vs served by the cache."""

    vectors: np.ndarray
    n_encoded: int
    n_cached: int


def unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)``: first input row of each distinct key (in order of first appearance) and,
    for every input row, the number of its distinct key."""
    flat = np.ascontiguousarray(keys).view(f"V{KEY_BYTES}").ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[np.ravel(inverse)]


def encode_checked(embedder: Embedder, texts: list[str], prompt: str) -> np.ndarray:
    """``embedder.encode`` as float32, its shape checked against ``(len(texts), embedder.dim)``."""
    vectors = np.asarray(embedder.encode(texts, prompt=prompt), dtype=np.float32)
    if vectors.shape != (len(texts), embedder.dim):
        raise RuntimeError(
            f"embedder {embedder.fingerprint!r} returned shape {vectors.shape} for {len(texts)} texts; "
            f"expected ({len(texts)}, {embedder.dim})"
        )
    check_finite(vectors, texts)
    return vectors


def check_finite(vectors: np.ndarray, texts: Sequence[str]) -> None:
    """Refuse vectors holding NaN or infinite values, naming the texts: their cosine to anything is NaN, which
    no margin, ranking or JSON score can use (with the sd margin one such candidate emptied its query's whole
    pool, and a NaN score stopped the write of a finished run). Runs before the vectors reach the cache."""
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if not len(bad):
        return
    from negmine.errors import EncodingError, counted

    shown = "; ".join(f"{texts[int(i)][:80]!r}" for i in bad[:3])
    they, those = ("it", "that text") if len(bad) == 1 else ("they", "those texts")
    raise EncodingError(
        f"the model returned NaN or infinite values for {len(bad)} of {counted(len(texts), 'text')}, "
        f"{shown if len(bad) == 1 else 'e.g. ' + shown}; {they} cannot be scored. Use --precision fp32 if the model "
        f"overflows in bf16, check the model's weights, or remove {those} from the data"
    )


def _progress(show: bool, total: int, desc: str | None):
    from negmine.progress import bar_shown, progress_bar

    if not bar_shown(show):  # asked for, and not nested in another bar on a log file (negmine.progress)
        return contextlib.nullcontext(None)
    return progress_bar(total=total, desc=desc or "embed", unit="text", show=True)


class _Plan(NamedTuple):
    keys: np.ndarray  # (n, 16) key of every input row
    first: np.ndarray  # (u,) first input row of each distinct text, in order of first appearance
    inverse: np.ndarray  # (n,) distinct-text number of every input row
    rows_by_unique: np.ndarray  # (n,) input rows grouped by distinct text
    bounds: np.ndarray  # (u + 1,) group boundaries in rows_by_unique


def _plan(texts: Sequence[str]) -> _Plan:
    keys = text_keys(texts)
    first, inverse = unique_rows(keys)
    rows_by_unique = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[rows_by_unique], np.arange(len(first) + 1))
    return _Plan(keys, first, inverse, rows_by_unique, bounds)


def _chunk_vectors(
    embedder: Embedder,
    texts: Sequence[str],
    prompt: str,
    shelf: CacheShelf | None,
    shards: EmbedShards,
    plan: _Plan,
    span: tuple[int, int],
    bar,
    inflight: InFlight | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors of distinct texts ``span = (c0, c1)``: cached rows read, the rest encoded shard by shard (``shards``
    cuts them; each shard stored in the cache as soon as it is done). Texts another live run is encoding into the
    cache (``inflight``) are left aside and read from the cache once stored there. Returns (vectors, number found in
    cache)."""
    c0, c1 = span
    ukeys = plan.keys[plan.first[c0:c1]]
    vecs = np.empty((c1 - c0, embedder.dim), dtype=np.float32)
    todo, n_found, written, seen = np.arange(c1 - c0), 0, -1, c1 - c0
    while len(todo):
        elsewhere = inflight.claimed_elsewhere(ukeys[todo]) if inflight is not None else np.zeros(len(todo), bool)
        found = np.zeros(len(todo), dtype=bool)  # claims are looked at before the cache: one goes after its put
        if shelf is not None:
            found, cached = shelf.get(ukeys[todo])
            if found.any():
                vecs[todo[found]] = cached
                n_found += int(found.sum())
        if bar is not None:
            bar.update(int(found.sum()))
        free, todo = todo[~found & ~elsewhere], todo[elsewhere & ~found]
        spans, seen = shards.spans(len(free), seen), 0
        for f0, f1 in spans:
            part, token = free[f0:f1], None
            if inflight is not None:  # texts a run claiming them at the same moment keeps are left to it
                token, clash = inflight.claim(ukeys[part])
                todo, part = np.sort(np.concatenate([todo, part[clash]])), part[~clash]
                if not len(part):
                    shards.skipped()
                    continue
            vecs[part] = encoded = _encode_part(embedder, [texts[int(plan.first[c0 + i])] for i in part], prompt, bar,
                                                shards.passed)
            if shelf is not None:
                shelf.put(ukeys[part], encoded)
            if inflight is not None:
                inflight.release(token)
            shards.finished()
        if len(todo):  # all that is left is being encoded elsewhere: wait for it to reach the cache
            inflight.pause(arrived=written != len(todo))
            written = len(todo)
    return vecs, n_found


def _encode_part(embedder: Embedder, texts: list[str], prompt: str, bar,
                 passed: Callable[[int], None] | None = None) -> np.ndarray:
    """:func:`encode_checked`, ``bar`` moved by each of the embedder's passes (:func:`negmine.progress.advance`) and,
    for an embedder that reports none, by the texts left at the end: never past the part's texts. ``passed`` is
    told each pass's texts too (:meth:`negmine.encode.embed_shards.EmbedShards.passed`: what a stop loses).

    Without a bar of its own the passes go on to the enclosing :func:`~negmine.progress.advancing` block, if any:
    mining's worker task (:func:`negmine.engine.encode.encode_task`) encodes through here with no bar, inside the
    driver's ``encode corpus`` bar when the engine runs the task in this process."""
    if bar is None:
        return encode_checked(embedder, texts, prompt)
    moved = 0

    def step(n: int) -> None:
        nonlocal moved
        n = min(n, len(texts) - moved)
        moved += n
        bar.update(n)
        if passed is not None:
            passed(n)

    with advancing(step):
        vectors = encode_checked(embedder, texts, prompt)
    bar.update(len(texts) - moved)
    return vectors


def _fill(
    embedder: Embedder,
    texts: Sequence[str],
    prompt: str,
    cache: EmbeddingCache | None,
    shard_size: int,
    out: np.ndarray,
    show_progress: bool,
    desc: str | None,
    truncate_dim: int | None = None,
) -> tuple[int, int]:
    """Write the embedding of ``texts[i]`` into ``out[i]`` (cut to ``truncate_dim`` after the cache); return
    (n_encoded, n_cached). With a cache, Ctrl-C carries where it stopped as its ``negmine_encoding``."""
    if not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    plan = _plan(texts)
    shelf = cache.shelf(embedder.fingerprint, prompt, model_name(embedder), embedder.dim) if cache is not None else None
    inflight = InFlight(shelf) if shelf is not None else None
    shards = EmbedShards(len(plan.first), shard_size, kept=shelf is not None)
    chunk = max(shard_size, LOOKUP_CHUNK)
    n_cached = 0
    with _progress(show_progress, len(plan.first), desc) as bar, encoding(desc):
        try:
            for c0 in range(0, len(plan.first), chunk):
                c1 = min(len(plan.first), c0 + chunk)
                vecs, found = _chunk_vectors(embedder, texts, prompt, shelf, shards, plan, (c0, c1), bar, inflight)
                vecs = truncate_rows(vecs, truncate_dim)  # the cache holds the full vectors
                rows = np.sort(plan.rows_by_unique[plan.bounds[c0] : plan.bounds[c1]])
                out[rows] = vecs[plan.inverse[rows] - c0]
                n_cached += found
        except KeyboardInterrupt as err:
            if shelf is not None:  # without a cache nothing is kept: the rerun encodes it all
                err.negmine_encoding = shards.stopped(desc or "embed")  # type: ignore[attr-defined]
            raise
        finally:
            if inflight is not None:
                inflight.release_all()
    return len(plan.first) - n_cached, n_cached


def _show(embedder, show_progress: bool | None) -> bool:
    return bool(getattr(embedder, "show_progress", False)) if show_progress is None else show_progress


def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    prompt: str = "",
    cache: EmbeddingCache | None = None,
    shard_size: int = 8192,
    desc: str | None = None,
    show_progress: bool | None = None,
    truncate_dim: int | None = None,
) -> EmbedResult:
    """``(len(texts), dim)`` float32 embeddings of ``prompt + text`` in input order.

    ``show_progress`` defaults to the embedder's own ``show_progress`` attribute (False if it has none).
    ``truncate_dim``: the vectors cut to their first ``truncate_dim`` components and re-normalised
    (:mod:`negmine.encode.truncate`); the cache reads and stores the full ones.
    """
    texts = texts if isinstance(texts, abc.Sequence) else list(texts)  # a TextColumn is not copied
    out = np.empty((len(texts), truncate_dim or embedder.dim), dtype=np.float32)
    n_encoded, n_cached = _fill(embedder, texts, prompt, cache, shard_size, out, _show(embedder, show_progress), desc,
                                truncate_dim)
    return EmbedResult(out, n_encoded, n_cached)


def embed_texts_to_memmap(
    embedder: Embedder,
    texts: Sequence[str],
    path: str | Path,
    prompt: str = "",
    cache: EmbeddingCache | None = None,
    shard_size: int = 8192,
    desc: str | None = None,
    show_progress: bool | None = None,
    truncate_dim: int | None = None,
) -> EmbedResult:
    """Like :func:`embed_texts`, but the vectors go to the ``.npy`` file ``path`` (written through a
    memory map, then renamed into place atomically) and come back as a read-only memory map.

    Memory stays bounded by the lookup chunk (:data:`LOOKUP_CHUNK` distinct texts) plus 40 bytes per text
    of bookkeeping, whatever the corpus size. A killed run resumes through ``cache``: finished shards are
    read back instead of re-encoded, and the output file is rebuilt.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = texts if isinstance(texts, abc.Sequence) else list(texts)  # a TextColumn is not copied
    with atomic_path(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(texts), truncate_dim or embedder.dim))
        counts = _fill(embedder, texts, prompt, cache, shard_size, out, _show(embedder, show_progress), desc,
                       truncate_dim)
        out.flush()
        del out
    return EmbedResult(np.load(path, mmap_mode="r"), *counts)
