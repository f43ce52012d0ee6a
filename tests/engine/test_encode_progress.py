"""Mining's encoding bars (``encode corpus`` / ``encode queries``, :func:`negmine.engine.encode.encode_to_store`)
move with each pass of the model, in texts, not once per shard of ``--encode-shard-size`` (8192) texts.

Written to a log file that bar is the only one drawn (the model's own text bar is nested in it:
:mod:`negmine.progress`), and a corpus under 8192 texts stood at ``0/1`` for its whole encoding. The worker task
runs in this process on the local engine, so the model's passes reach the driver's bar
(:func:`negmine.progress.advance`); Ray's actors report theirs through a Ray queue (tested in
tests/engine/test_ray_engine.py).
"""

from __future__ import annotations

import functools

from negmine.config import EncoderConfig
from negmine.encode.cache import EmbeddingCache, text_keys
from negmine.engine.encode import encode_to_store
from negmine.engine.local import LocalEngine
from negmine.testing.hash_embedder import HashEmbedder


def _same(embedder):
    return embedder


def _bars(desc: str) -> list[tuple[int, int | None]]:
    from tqdm.auto import tqdm

    return [(bar.n, bar.total) for bar in list(tqdm._instances) if bar.desc == desc]


class _Passes(HashEmbedder):
    """Encodes in passes of ``batch`` texts, reporting each as a model does, and records where the bar ``desc``
    stands as each pass starts."""

    def __init__(self, dim: int, batch: int, desc: str) -> None:
        super().__init__(dim)
        self.batch, self.desc, self.seen = batch, desc, []

    def encode(self, texts, prompt=""):
        import numpy as np

        from negmine.progress import advance

        out = []
        for b0 in range(0, len(texts), self.batch):
            self.seen.extend(_bars(self.desc))
            out.append(super().encode(texts[b0 : b0 + self.batch], prompt))
            advance(len(texts[b0 : b0 + self.batch]))
        return np.concatenate(out)


def _encode(embedder, texts, path, shard, desc, cache=None):
    shelf = cache.shelf(embedder.fingerprint, "p: ") if cache is not None else None
    return encode_to_store(LocalEngine(), functools.partial(_same, embedder), texts, "p: ", path,
                           (embedder.fingerprint, embedder.dim), shard, shelf, show_progress=True, desc=desc)


def test_minings_corpus_bar_moves_with_each_pass_of_the_model(tiny_model_path, tmp_path):
    """The tiny SentenceTransformer, one pass per pass length (five), all texts in one shard as on a small corpus:
    the bar stood at 0 shards of 1 until the shard was done."""
    from sentence_transformers import SentenceTransformer

    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    embedder = SentenceTransformerEmbedder.from_model(model, EncoderConfig(show_progress=True))
    texts = [" ".join(["alpha"] * words) + f" text {i}" for words in (1, 3, 6, 9, 14) for i in range(3)]
    seen: list[tuple[int, int | None]] = []
    forward = embedder._encode_batch

    def recording(batch, prompt):
        seen.extend(_bars("encode corpus"))
        return forward(batch, prompt)

    embedder._encode_batch = recording
    result = _encode(embedder, texts, tmp_path / "docs.npy", 8192, "encode corpus")
    assert result.n_encoded == 15
    assert seen == [(0, 15), (3, 15), (6, 15), (9, 15), (12, 15)], "the bar stood at 0/1 shard until it was done"


def test_the_bar_counts_cached_resumed_and_encoded_texts_once_each(tmp_path):
    """Texts of 4 shards of 10: shard 0 from the cache, shards 1-3 in passes of 4 texts; then a run resumed with
    shard 2 lost starts at the 30 texts of the other three and encodes shard 2's 10 again, pass by pass."""
    texts = [f"text {i}" for i in range(40)]
    cache = EmbeddingCache(tmp_path / "cache")
    warm = HashEmbedder(16)
    cache.shelf(warm.fingerprint, "p: ").put(text_keys(texts[:10]), warm.encode(texts[:10], "p: "))
    embedder = _Passes(16, 4, "encode queries")
    result = _encode(embedder, texts, tmp_path / "q.npy", 10, "encode queries", cache)
    assert (result.n_encoded, result.n_cached) == (30, 10)
    assert embedder.seen == [(10, 40), (14, 40), (18, 40), (20, 40), (24, 40), (28, 40), (30, 40), (34, 40),
                             (38, 40)], "each shard's passes: 4, 4 and the last 2 texts"
    (tmp_path / "q.npy.done" / "2").unlink()  # as if killed while shard 2 was being written
    again = _Passes(16, 4, "encode queries")
    _encode(again, texts, tmp_path / "q.npy", 10, "encode queries")
    assert again.seen == [(30, 40), (34, 40), (38, 40)]
