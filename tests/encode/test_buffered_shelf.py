import numpy as np
import pytest

from negmine.encode.buffered_shelf import BufferedShelf
from negmine.encode.cache import EmbeddingCache, text_keys


def shard_files(root):
    return sorted(p.name for p in root.rglob("*.keys.npy"))


def vectors(n, start=0):
    return np.arange(start, start + 2 * n, dtype=np.float32).reshape(n, 2)


def test_rows_wait_in_memory_until_enough_then_go_out_as_one_shard(tmp_path):
    store = BufferedShelf(EmbeddingCache(tmp_path).shelf("fp", "p: "), rows=4)
    keys = text_keys([f"t{i}" for i in range(5)])
    store.put(keys[:2], vectors(2))
    store.put(keys[2:3], vectors(1, 4))
    assert shard_files(tmp_path) == [] and store.pending == 3
    found, got = store.get(keys[[4, 0, 2]])
    assert found.tolist() == [False, True, True], "pending rows are found"
    np.testing.assert_array_equal(got, [[0, 1], [4, 5]])
    store.put(keys[3:5], vectors(2, 6))
    assert shard_files(tmp_path) == ["0.keys.npy"] and store.pending == 0, "4 pending: one shard of 5"
    fresh = EmbeddingCache(tmp_path).shelf("fp", "p: ")
    found, got = fresh.get(keys)
    assert found.all() and got.shape == (5, 2)


def test_flush_writes_what_is_pending_and_a_fresh_shelf_reads_it(tmp_path):
    store = BufferedShelf(EmbeddingCache(tmp_path).shelf("fp"), rows=100)
    keys = text_keys(["a", "b"])
    store.put(keys, vectors(2))
    store.flush()
    store.flush()
    assert shard_files(tmp_path) == ["0.keys.npy"], "a second flush with nothing pending writes nothing"
    found, got = EmbeddingCache(tmp_path).shelf("fp").get(keys[::-1])
    assert found.all()
    np.testing.assert_array_equal(got, vectors(2)[::-1])


def test_cached_and_pending_rows_come_back_together_in_key_order(tmp_path):
    shelf = EmbeddingCache(tmp_path).shelf("fp")
    keys = text_keys(["on disk", "pending", "nowhere"])
    shelf.put(keys[:1], vectors(1))
    store = BufferedShelf(shelf, rows=10)
    store.put(keys[1:2], vectors(1, 10))
    found, got = store.get(keys[[1, 2, 0]])
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(got, [[10, 11], [0, 1]])


def test_bad_rows_and_shapes_are_refused(tmp_path):
    shelf = EmbeddingCache(tmp_path).shelf("fp")
    with pytest.raises(ValueError, match="rows must be a positive integer, got 0"):
        BufferedShelf(shelf, rows=0)
    with pytest.raises(ValueError, match="2 keys for vectors of shape"):
        BufferedShelf(shelf).put(text_keys(["a", "b"]), vectors(3))
