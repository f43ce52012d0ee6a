from __future__ import annotations

import numpy as np
import pytest

from negmine.engine.local import LocalEngine
from negmine.engine.search import SearchSpec, search_stores
from negmine.engine.store import EmbeddingStore
from negmine.retrieve.dense import dense_search

from .conftest import normed


def stores(tmp_path, queries, docs):
    q = EmbeddingStore.open(tmp_path / "q.npy", queries.shape)
    q.write_rows(np.arange(len(queries)), queries)
    d = EmbeddingStore.open(tmp_path / "d.npy", docs.shape)
    d.write_rows(np.arange(len(docs)), docs)
    return q, d


def spec(q, d, depth, index="flat"):
    return SearchSpec(str(q.path), q.shape, str(d.path), d.shape, depth, index, 8, 7)


@pytest.mark.parametrize("shard_rows", [1, 13, 50, 200, 1000])
def test_sharded_search_equals_one_search_including_ties(tmp_path, shard_rows):
    docs = np.repeat(normed(100, 16, 1), 2, axis=0)  # every document twice: tie order must follow the index
    queries = normed(20, 16, 2)
    q, d = stores(tmp_path, queries, docs)
    found, searched, breadths, refines, recalls = search_stores(LocalEngine(), spec(q, d, 15), shard_rows,
                                                                tmp_path / "parts")
    assert breadths == refines == [0] * searched and recalls == [None] * searched  # exact: nothing to calibrate
    expected = dense_search(queries, docs, 15)
    assert searched == -(-200 // shard_rows)
    assert np.array_equal(found.indices, expected.indices) and np.array_equal(found.scores, expected.scores)


@pytest.mark.parametrize("shard_rows", [77, 500])
def test_sharded_search_equals_one_search_bit_for_bit_on_the_blas_path(tmp_path, shard_rows):
    """Enough queries for FAISS's BLAS path (padded to its threshold): its scores changed in the last bits with
    the shard's size before candidates were re-scored pair by pair."""
    queries, docs = normed(100, 384, 2), normed(1000, 384, 1)
    q, d = stores(tmp_path, queries, docs)
    blas = spec(q, d, 15)._replace(query_batch_size=4096)
    found = search_stores(LocalEngine(), blas, shard_rows, tmp_path / "parts").candidates
    one = search_stores(LocalEngine(), blas, 1000, tmp_path / "one").candidates
    assert np.array_equal(found.indices, one.indices) and np.array_equal(found.scores, one.scores)


def test_saved_shards_are_not_searched_again(tmp_path):
    q, d = stores(tmp_path, normed(5, 8, 3), normed(90, 8, 4))
    first = search_stores(LocalEngine(), spec(q, d, 4), 20, tmp_path / "parts").candidates
    (tmp_path / "parts" / "2.npz").unlink()
    again, searched, *_ = search_stores(LocalEngine(), spec(q, d, 4), 20, tmp_path / "parts")
    assert searched == 1
    assert np.array_equal(first.indices, again.indices)


def test_a_resumed_search_s_bar_counts_the_saved_shards(tmp_path, capsys):
    """Resumed with 4 of 5 shards saved, the bar showed '0/1': no sign of the saved ones. Now '4/5' to '5/5'."""
    q, d = stores(tmp_path, normed(5, 8, 3), normed(90, 8, 4))
    search_stores(LocalEngine(), spec(q, d, 4), 20, tmp_path / "parts")
    (tmp_path / "parts" / "2.npz").unlink()
    capsys.readouterr()
    search_stores(LocalEngine(), spec(q, d, 4), 20, tmp_path / "parts", show_progress=True)
    bar = capsys.readouterr().err.replace("\r", "\n")
    assert "dense search:  80%" in bar and "| 4/5 [" in bar and "| 5/5 [" in bar, bar


def test_ann_index_returns_exact_scores_and_good_recall_on_clustered_data(tmp_path):
    rng = np.random.default_rng(5)
    centres = normed(40, 32, 6)
    labels = rng.integers(0, 40, 12_000)
    docs = centres[labels] + 0.15 * rng.standard_normal((12_000, 32)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = docs[:50] + 0.05 * rng.standard_normal((50, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    q, d = stores(tmp_path, queries.astype(np.float32), docs.astype(np.float32))
    found = search_stores(LocalEngine(), spec(q, d, 10, "ivf"), 12_000, tmp_path / "ivf").candidates
    exact = dense_search(queries.astype(np.float32), docs.astype(np.float32), 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found.indices, exact.indices)])
    assert recall > 0.8
    rescored = np.einsum("qkd,qd->qk", docs[found.indices], queries)
    assert np.allclose(found.scores, rescored, atol=1e-5)
    assert np.all(np.diff(found.scores, axis=1) <= 0)


def test_calibrated_breadth_and_recall_are_saved_per_shard_and_read_back_on_resume(tmp_path, monkeypatch):
    import negmine.retrieve.ann as ann

    monkeypatch.setattr(ann, "EXACT_SHARE", float("inf"))  # small shards: keep the index at any breadth
    docs = normed(24_000, 16, 9)  # no cluster structure: IVF at nprobe 1 misses much of the exact top 10
    queries = normed(300, 16, 10)
    q, d = stores(tmp_path, queries, docs)
    calibrated = spec(q, d, 10, "ivf")._replace(nprobe=1, target_recall=0.95)
    first = search_stores(LocalEngine(), calibrated, 12_000, tmp_path / "parts")
    assert first.shards_run == 2 and len(first.breadths) == 2
    assert all(b > 1 for b in first.breadths) and all(r >= 0.95 for r in first.recalls), first
    again = search_stores(LocalEngine(), calibrated, 12_000, tmp_path / "parts")
    assert again.shards_run == 0 and again[2:] == first[2:] and first.refines == [1, 1]
    assert np.array_equal(again.candidates.indices, first.candidates.indices)
