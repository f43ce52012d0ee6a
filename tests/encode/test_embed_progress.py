"""The bar of an encoding through the cache (:func:`negmine.encode.embed.embed_texts`: ``negmine eval``'s corpus
and queries, a dev evaluation's) moves as the embedder's passes finish, not only when a shard of ``shard_size``
(8192) texts is done.

Written to a log file, that bar is the only one drawn (the embedder's own text bar is nested in it:
:mod:`negmine.progress`), and it stood at ``0/5183`` for the whole of ``negmine eval`` encoding SciFact's corpus
(18 minutes on a loaded 2-core machine, 2026-12-05): any corpus under 8192 texts showed 0% until it was encoded.
"""

from __future__ import annotations

from negmine.config import EncoderConfig
from negmine.encode.cache import EmbeddingCache
from negmine.encode.embed import embed_texts


def bar_counts(embedder, desc: str) -> list[int]:
    """Wrap ``embedder``'s forward pass to record, at the start of each pass, how far the bar ``desc`` is."""
    from tqdm.auto import tqdm

    seen: list[int] = []
    forward = embedder._encode_batch

    def recording(batch, prompt):
        seen.extend(bar.n for bar in list(tqdm._instances) if bar.desc == desc)
        return forward(batch, prompt)

    embedder._encode_batch = recording
    return seen


def test_the_cache_encodings_bar_moves_with_each_pass(load_tiny, tmp_path):
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder.from_model(load_tiny(), EncoderConfig(show_progress=True))
    # 12, 22, 37 and 52 tokens (padded to 16, 32, 48 and 64) and 64 (cut there, unpadded): five pass lengths
    texts = [" ".join(["alpha"] * words) + f" text {i}" for words in (1, 3, 6, 9, 14) for i in range(3)]
    seen = bar_counts(embedder, "encode corpus")
    result = embed_texts(embedder, texts, cache=EmbeddingCache(tmp_path), desc="encode corpus", show_progress=True)
    assert result.n_encoded == 15
    assert len(seen) == 5, "one pass per pass length: five"
    assert seen == [0, 3, 6, 9, 12], "the bar stood at 0 until the shard was done"


def test_advance_moves_the_bar_of_the_innermost_block_and_nothing_outside_one():
    from negmine.progress import advance, advancing

    moved: list[tuple[str, int]] = []
    advance(4)  # no block: nothing to move, no error
    with advancing(lambda n: moved.append(("outer", n))):
        advance(2)
        with advancing(lambda n: moved.append(("inner", n))):
            advance(3)
        with advancing(None):
            advance(5)
        advance(1)
    advance(6)
    assert moved == [("outer", 2), ("inner", 3), ("outer", 1)]
