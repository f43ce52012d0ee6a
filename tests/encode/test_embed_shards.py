"""The shards :func:`negmine.encode.embed.embed_texts` encodes in (:mod:`negmine.encode.embed_shards`): mining's cut,
so a stopped ``negmine eval`` of a small corpus keeps all but about an eighth of what it encoded; SciFact's 5,183
documents were one shard of 8,192 texts, and a stop while encoding them kept none."""

from __future__ import annotations

import numpy as np
import pytest

from negmine.encode import embed as embed_module
from negmine.encode.cache import EmbeddingCache
from negmine.encode.embed import embed_texts, embed_texts_to_memmap
from negmine.engine.encode_shards import EncodingStopped, nested_shards, shard_texts
from negmine.testing.hash_embedder import HashEmbedder

TEXTS = [f"text {i} word{i % 7}" for i in range(5000)]  # 5,000 distinct texts: 5 shards of <= 1,024


class _StoppedAfter(HashEmbedder):
    """Stopped (Ctrl-C) by the call that would take it past ``texts`` texts, after ``passes`` texts of it reported
    as a pass of the model."""

    def __init__(self, texts: int, passes: int = 0) -> None:
        super().__init__(16)
        self.limit, self.passes, self.sizes = texts, passes, []

    def encode(self, texts, prompt=""):
        from negmine.progress import advance

        if self.texts_encoded + len(texts) > self.limit:
            advance(self.passes)
            raise KeyboardInterrupt
        self.sizes.append(len(texts))
        return super().encode(texts, prompt)


def test_a_stopped_encoding_keeps_its_finished_shards_in_the_cache_and_says_so(tmp_path):
    """Stopped at 2,500 of 5,000 texts: 2 of 5 shards finished, the rerun encodes 2,952 texts (the old code: one
    shard of 8,192 texts, none kept, all 5,000 encoded again), and the vectors are those of an uninterrupted call."""
    with pytest.raises(KeyboardInterrupt) as info:
        embed_texts_to_memmap(_StoppedAfter(2500), TEXTS, tmp_path / "v.npy", cache=EmbeddingCache(tmp_path / "c"),
                              desc="encode corpus")
    assert info.value.negmine_encoding == EncodingStopped("encode corpus", 5, 2, 1024, 0)
    rerun = HashEmbedder(16)
    result = embed_texts_to_memmap(rerun, TEXTS, tmp_path / "v.npy", cache=EmbeddingCache(tmp_path / "c"))
    assert (rerun.texts_encoded, result.n_encoded, result.n_cached) == (2952, 2952, 2048)
    assert np.load(tmp_path / "v.npy").tobytes() == embed_texts(HashEmbedder(16), TEXTS).vectors.tobytes()


def test_the_texts_a_stop_loses_are_counted_from_the_passes_while_a_bar_is_drawn(tmp_path):
    with pytest.raises(KeyboardInterrupt) as info:
        embed_texts(_StoppedAfter(2500, passes=300), TEXTS, cache=EmbeddingCache(tmp_path), desc="encode corpus",
                    show_progress=True)
    assert info.value.negmine_encoding == EncodingStopped("encode corpus", 5, 2, 1024, 300)


def test_the_shards_are_cut_among_the_texts_the_cache_lacks_as_mining_cuts_its_store(tmp_path):
    """Cold: the calls are mining's shards (:func:`nested_shards`). With 2,858 of 20,000 texts cached, the 17,142
    others are cut in the blocks of 8,192 the old code's calls were, into the call's shards of 2,500."""
    cold = _StoppedAfter(10**9)
    embed_texts(cold, TEXTS, cache=EmbeddingCache(tmp_path / "a"))
    assert cold.sizes == [s.end - s.first for s in nested_shards(5000, 8192, 1024)] == [1024] * 4 + [904]
    texts = [f"t{i}" for i in range(20_000)]
    cache = EmbeddingCache(tmp_path / "b")
    embed_texts(HashEmbedder(16), texts[::7], cache=cache)  # 2,858 texts cached
    warm = _StoppedAfter(10**9)
    result = embed_texts(warm, texts, cache=cache)
    assert shard_texts(20_000, 8192) == 2500 and sum(warm.sizes) == result.n_encoded == 20_000 - 2858
    assert warm.sizes == [2500, 2500, 2500, 692, 2500, 2500, 2500, 692, 758]
    assert result.vectors.tobytes() == embed_texts(HashEmbedder(16), texts).vectors.tobytes()


def test_without_a_cache_the_shards_stay_blocks_of_shard_size_and_a_stop_says_nothing():
    """Nothing is kept: cutting finer would only cost the model partly filled passes (mining's engine task encodes
    through here without a cache, one call per task)."""
    embedder = _StoppedAfter(10**9)
    embed_texts(embedder, TEXTS)
    assert embedder.sizes == [5000]
    with pytest.raises(KeyboardInterrupt) as info:
        embed_texts(_StoppedAfter(2500), TEXTS)
    assert not hasattr(info.value, "negmine_encoding")


def test_texts_not_looked_up_yet_count_as_shards_to_encode(tmp_path, monkeypatch):
    """A call of more distinct texts than a lookup chunk cuts each chunk's uncached texts when it looks them up;
    stopped before the later chunks, their texts count as if none were cached."""
    monkeypatch.setattr(embed_module, "LOOKUP_CHUNK", 2000)
    with pytest.raises(KeyboardInterrupt) as info:
        embed_texts(_StoppedAfter(2500), TEXTS, cache=EmbeddingCache(tmp_path), shard_size=1500)
    # shard_texts(5000, 1500) = 1024 in blocks of 1500; chunks of 2000 texts, each cut 1024 + 476 + 500: the first
    # encoded, the second stopped in its first shard, the last 1000 texts not looked up (one shard)
    assert info.value.negmine_encoding == EncodingStopped("embed", 3 + 3 + 1, 3, 1024, 0)
