from __future__ import annotations

import functools

import numpy as np
import pytest

from negmine.encode.cache import EmbeddingCache
from negmine.encode.embed import embed_texts
from negmine.engine.encode import encode_to_store, rows_of
from negmine.engine.local import LocalEngine
from negmine.testing.hash_embedder import HashEmbedder

TEXTS = [f"text {i % 13} word{i % 5}" for i in range(40)]  # 40 rows, 13*5 -> repeats


def _same(embedder):
    return embedder


def run(embedder, path, shard=4, cache=None, texts=TEXTS):
    shelf = cache.shelf(embedder.fingerprint, "p: ") if cache is not None else None
    return encode_to_store(
        LocalEngine(), functools.partial(_same, embedder), texts, "p: ", path, (embedder.fingerprint, embedder.dim),
        shard, shelf,
    )


def test_store_matches_embed_texts_and_each_distinct_text_is_encoded_once(tmp_path):
    embedder = HashEmbedder(32)
    result = run(embedder, tmp_path / "s.npy")
    expected = embed_texts(HashEmbedder(32), TEXTS, prompt="p: ").vectors
    assert np.array_equal(result.store.memmap(), expected)
    distinct = len(set(TEXTS))
    assert (result.n_encoded, result.n_cached) == (distinct, 0)
    assert embedder.texts_encoded == distinct


def test_rerun_skips_finished_shards(tmp_path):
    run(HashEmbedder(32), tmp_path / "s.npy")
    store_dir = tmp_path / "s.npy.done"
    (store_dir / "1").unlink()  # as if killed while shard 1 was being written
    embedder = HashEmbedder(32)
    again = run(embedder, tmp_path / "s.npy")
    assert embedder.texts_encoded == 4 and again.n_encoded == 4
    assert again.n_cached == len(set(TEXTS)) - 4
    assert np.array_equal(again.store.memmap(), embed_texts(HashEmbedder(32), TEXTS, prompt="p: ").vectors)


def test_cache_serves_a_new_store(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    run(HashEmbedder(32), tmp_path / "a.npy", cache=cache)
    embedder = HashEmbedder(32)
    second = run(embedder, tmp_path / "b.npy", shard=7, cache=cache)
    assert embedder.texts_encoded == 0 and second.n_cached == len(set(TEXTS))
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_worker_with_another_embedder_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="differs from the driver's"):
        encode_to_store(
            LocalEngine(), functools.partial(_same, HashEmbedder(32)), TEXTS, "", tmp_path / "s.npy",
            ("other-model", 32), 8,
        )


def test_rows_of_lists_every_row_of_each_text():
    from negmine.encode.embed import _plan

    plan = _plan(["a", "b", "a", "c", "b", "a"])
    rows, which = rows_of(plan, np.array([0, 2]))
    assert rows.tolist() == [0, 2, 3, 5] and which.tolist() == [0, 0, 1, 0]
