"""The shards of an encoding (:mod:`negmine.engine.encode_shards`): a store of fewer than 8 x ``--encode-shard-size``
distinct texts is cut into shards of an eighth of it (at least 1,024), so that Ctrl-C loses at most that; SciFact's
5,183 documents were one shard of 8,192, and a stop at 1,992 documents lost all of them."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from negmine.encode.embed import embed_texts
from negmine.engine.encode import EncodingStopped, encode_to_store
from negmine.engine.local import LocalEngine
from negmine.engine.store import EmbeddingStore
from negmine.testing.hash_embedder import HashEmbedder

TEXTS = [f"text {i} word{i % 7}" for i in range(3000)]  # 3,000 distinct texts


def _same(embedder):
    return embedder


class _StoppedAfter(HashEmbedder):
    """Encodes ``whole`` calls (shards), then is stopped (Ctrl-C) in the next."""

    def __init__(self, whole: int) -> None:
        super().__init__(16)
        self.whole = whole

    def encode(self, texts, prompt=""):
        if self.calls == self.whole:
            raise KeyboardInterrupt
        return super().encode(texts, prompt)


def _encode(embedder, path, shard_size=8192):
    return encode_to_store(LocalEngine(), functools.partial(_same, embedder), TEXTS, "", path,
                           (embedder.fingerprint, embedder.dim), shard_size, desc="encode corpus")


@pytest.mark.parametrize("n, most, size", [
    (5183, 8192, 1024), (809, 8192, 1024), (20_000, 8192, 2500), (65_536, 8192, 8192), (1_000_000, 8192, 8192),
    (5183, 500, 500), (5183, 2048, 1024), (40, 8, 8),
])
def test_shard_texts_is_an_eighth_of_the_store_within_1024_and_the_encode_shard_size(n, most, size):
    from negmine.engine.encode_shards import shard_texts

    assert shard_texts(n, most) == size


def test_a_stop_loses_one_shard_of_a_small_store_and_the_rerun_writes_the_same_bytes(tmp_path):
    """3,000 texts under the default --encode-shard-size: stopped in the third of three shards of 1,024, the rerun
    encodes only that one's 952 texts (the old code: one shard, 0 of 1 finished, all 3,000 encoded again)."""
    with pytest.raises(KeyboardInterrupt) as info:
        _encode(_StoppedAfter(whole=2), tmp_path / "s.npy")
    assert info.value.negmine_encoding == EncodingStopped("encode corpus", 3, 2, 1024, 0)
    rerun = HashEmbedder(16)
    result = _encode(rerun, tmp_path / "s.npy")
    assert (rerun.texts_encoded, result.n_encoded, result.n_resumed) == (952, 952, 2048)
    assert np.array_equal(result.store.memmap(), embed_texts(HashEmbedder(16), TEXTS).vectors)


def test_the_store_is_byte_identical_at_any_encode_shard_size(tmp_path):
    expected = np.load(_encode(HashEmbedder(16), tmp_path / "a.npy").store.path)
    for size, name in ((8192, "a"), (700, "b"), (3000, "c"), (97, "d")):
        if name != "a":
            assert np.array_equal(np.load(_encode(HashEmbedder(16), tmp_path / f"{name}.npy", size).store.path),
                                  expected)
    assert expected.tobytes() == embed_texts(HashEmbedder(16), TEXTS).vectors.tobytes()


def test_a_finished_block_keeps_the_marker_earlier_versions_read_and_theirs_is_read_here(tmp_path):
    """Markers: a shard cut inside a block of --encode-shard-size texts is marked by its texts (``0-1024``); once all
    of a block's are done the block gets its number (``0``), which earlier versions (one shard per block) resume at,
    and a block marked by them counts here as all its shards done."""
    with pytest.raises(KeyboardInterrupt):
        _encode(_StoppedAfter(whole=2), tmp_path / "s.npy")
    done = tmp_path / "s.npy.done"
    assert sorted(p.name for p in done.iterdir()) == ["0-1024", "1024-2048"]
    _encode(HashEmbedder(16), tmp_path / "s.npy")
    assert sorted(p.name for p in done.iterdir()) == ["0", "0-1024", "1024-2048", "2048-3000"]
    for marker in done.iterdir():
        if marker.name != "0":
            marker.unlink()  # as an earlier version leaves it
    again = HashEmbedder(16)
    assert _encode(again, tmp_path / "s.npy").n_resumed == 3000 and again.texts_encoded == 0


def test_shards_nest_in_blocks_and_whole_blocks_keep_their_numbers(tmp_path):
    from negmine.engine.encode_shards import EncodeShards

    store = EmbeddingStore.open(tmp_path / "s.npy", (20_000, 4))
    shards = EncodeShards(store, 20_000, 8192)
    assert shards.size == 2500
    assert list(shards.spans.values()) == [
        (0, 2500), (2500, 5000), (5000, 7500), (7500, 8192), (8192, 10692), (10692, 13192), (13192, 15692),
        (15692, 16384), (16384, 18884), (18884, 20000)]
    whole = EncodeShards(store, 20_000, 2048)  # under 8 shards a block: one shard per block, marked by its number
    whole.mark_done(1)
    assert (tmp_path / "s.npy.done" / "1").exists() and whole.is_done(1) and not whole.is_done(0)
