from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from negmine.encode.cache import (
    EmbeddingCache,
    default_cache_dir,
    namespace_id,
    text_key,
    text_keys,
)


def _vecs(n, dim=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def test_text_key_is_blake2b_128():
    assert text_key("héllo") == hashlib.blake2b("héllo".encode(), digest_size=16).digest()
    keys = text_keys(["a", "b", "a"])
    assert keys.shape == (3, 16) and keys.dtype == np.uint8
    assert bytes(keys[0]) == text_key("a") and np.array_equal(keys[0], keys[2])


def test_lone_surrogate_text_has_a_key():
    assert len(text_key("bad \ud800 text")) == 16


def test_put_then_get_roundtrip_and_miss(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys, vecs = text_keys(["x", "y", "z"]), _vecs(3)
    cache.put("fp", "", keys, vecs)
    found, got = cache.get("fp", "", text_keys(["z", "nope", "x"]))
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(got, vecs[[2, 0]])
    assert cache.count("fp", "") == 3


def test_layout_on_disk(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "query: ", text_keys(["x"]), _vecs(1))
    cache.put("fp", "query: ", text_keys(["y", "z"]), _vecs(2))
    folder = tmp_path / hashlib.sha256(b"fp\0query: ").hexdigest()
    assert folder.name == namespace_id("fp", "query: ")
    assert sorted(p.name for p in folder.iterdir()) == [
        "0.keys.npy", "0.vecs.npy", "1.keys.npy", "1.vecs.npy", "meta.json"
    ]
    assert json.loads((folder / "meta.json").read_text()) == {"fingerprint": "fp", "prompt": "query: ", "dim": 4}
    assert np.load(folder / "1.keys.npy").shape == (2, 16)
    assert np.load(folder / "1.vecs.npy").dtype == np.float32


def test_prompt_and_fingerprint_separate_entries(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = text_keys(["same text"])
    cache.put("fp", "query: ", keys, _vecs(1, seed=1))
    assert not cache.get("fp", "passage: ", keys)[0].any()
    assert not cache.get("fp", "", keys)[0].any()
    assert not cache.get("other-fp", "query: ", keys)[0].any()
    assert cache.get("fp", "query: ", keys)[0].all()


def test_new_instance_and_concurrent_writer_are_seen(tmp_path):
    first, second = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    first.put("fp", "", text_keys(["a"]), _vecs(1))
    assert second.get("fp", "", text_keys(["a"]))[0].all()
    second.put("fp", "", text_keys(["b"]), _vecs(1, seed=3))  # written after ``first`` built its index
    found, got = first.get("fp", "", text_keys(["a", "b"]))
    assert found.all()
    np.testing.assert_array_equal(got[1], _vecs(1, seed=3)[0])


def test_claimed_shard_number_is_skipped(tmp_path):
    cache = EmbeddingCache(tmp_path)
    shelf = cache.shelf("fp")
    shelf.folder.mkdir(parents=True)
    (shelf.folder / "0.claim").touch()  # another process is writing shard 0
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    assert (shelf.folder / "1.keys.npy").exists() and not (shelf.folder / "1.claim").exists()
    assert cache.get("fp", "", text_keys(["a"]))[0].all()


def test_incomplete_shard_is_ignored(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    folder = cache.shelf("fp").folder
    np.save(folder / "1.vecs.npy", _vecs(1))  # crash before the keys file was written
    fresh = EmbeddingCache(tmp_path)
    assert fresh.get("fp", "", text_keys(["a"]))[0].all()
    fresh.put("fp", "", text_keys(["b"]), _vecs(1))
    assert (folder / "2.keys.npy").exists()


def test_duplicate_key_resolves_to_lowest_shard(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = text_keys(["dup"])
    cache.put("fp", "", keys, np.ones((1, 4), np.float32))
    cache.put("fp", "", keys, np.full((1, 4), 2.0, np.float32))
    for instance in (cache, EmbeddingCache(tmp_path)):
        np.testing.assert_array_equal(instance.get("fp", "", keys)[1], np.ones((1, 4)))
    assert cache.count("fp", "") == 1


def test_keys_sharing_the_search_prefix_are_told_apart(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = np.zeros((3, 16), np.uint8)
    keys[1, 15], keys[2, 15] = 1, 2  # identical first 8 bytes
    vecs = _vecs(3)
    cache.put("fp", "", keys[[2, 0]], vecs[[2, 0]])
    found, got = cache.get("fp", "", keys)
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(got, vecs[[0, 2]])


def test_many_keys_over_many_shards(tmp_path):
    cache = EmbeddingCache(tmp_path)
    texts = [f"text {i}" for i in range(5000)]
    keys, vecs = text_keys(texts), _vecs(5000, dim=8)
    for start in range(0, 5000, 700):
        cache.put("fp", "", keys[start : start + 700], vecs[start : start + 700])
    order = np.random.default_rng(1).permutation(5000)[:3000]
    found, got = EmbeddingCache(tmp_path).get("fp", "", keys[order])
    assert found.all()
    np.testing.assert_array_equal(got, vecs[order])


def test_dimension_mismatch_refused(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1, dim=4))
    with pytest.raises(ValueError, match="holds 4-dim vectors; refusing to add 8-dim"):
        cache.put("fp", "", text_keys(["b"]), _vecs(1, dim=8))


def test_bad_shapes_refused(tmp_path):
    cache = EmbeddingCache(tmp_path)
    with pytest.raises(ValueError, match=r"cache keys must have shape \(n, 16\)"):
        cache.put("fp", "", np.zeros((2, 8), np.uint8), _vecs(2))
    with pytest.raises(ValueError, match="2 keys for vectors of shape"):
        cache.put("fp", "", text_keys(["a", "b"]), _vecs(3))


def test_default_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert EmbeddingCache().root == tmp_path / "c"
    monkeypatch.delenv("NEGMINE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "negmine"


def test_vectors_readable_without_meta_file(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a", "b"]), _vecs(2, dim=6))
    (cache.shelf("fp").folder / "meta.json").unlink()
    found, got = EmbeddingCache(tmp_path).get("fp", "", text_keys(["b"]))
    assert found.all() and got.shape == (1, 6)
    assert EmbeddingCache(tmp_path).get("fp", "", text_keys(["zz"]))[1].shape == (0, 0)
