from __future__ import annotations

import json
import os
import re
import warnings

import numpy as np
import pytest

from negmine.encode import embed as embed_module
from negmine.encode.cache import EmbeddingCache
from negmine.encode.embed import embed_texts, embed_texts_to_memmap, unique_rows
from negmine.encode.cache import text_keys
from negmine.testing.hash_embedder import HashEmbedder

TEXTS = ["cell gene", "blood risk", "cell gene", "virus", "mice brain", "blood risk", "dna rna", "heart", "cell gene"]
UNIQUE = list(dict.fromkeys(TEXTS))


class Flaky(HashEmbedder):
    """Fails on the ``fail_on``-th encode call (a run killed mid-way)."""

    def __init__(self, fail_on: int) -> None:
        super().__init__(dim=16)
        self.fail_on = fail_on

    def encode(self, texts, prompt=""):
        if self.calls + 1 == self.fail_on:
            raise KeyboardInterrupt
        return super().encode(texts, prompt)


def test_unique_rows_first_appearance_order():
    first, inverse = unique_rows(text_keys(["b", "a", "b", "c", "a"]))
    assert first.tolist() == [0, 1, 3]
    assert inverse.tolist() == [0, 1, 0, 2, 1]


def test_dedupes_and_keeps_input_order():
    emb = HashEmbedder(dim=16)
    result = embed_texts(emb, TEXTS, shard_size=2)
    assert emb.texts_encoded == len(UNIQUE) == result.n_encoded and result.n_cached == 0
    assert result.vectors.dtype == np.float32
    np.testing.assert_array_equal(result.vectors, HashEmbedder(dim=16).encode(TEXTS))


def test_second_call_served_from_cache(tmp_path):
    cache, emb = EmbeddingCache(tmp_path), HashEmbedder(dim=16)
    first = embed_texts(emb, TEXTS, cache=cache)
    again = embed_texts(emb, TEXTS[::-1] + ["new text"], cache=EmbeddingCache(tmp_path))
    assert (again.n_encoded, again.n_cached) == (1, len(UNIQUE))
    assert emb.texts_encoded == len(UNIQUE) + 1
    np.testing.assert_array_equal(again.vectors[: len(TEXTS)], first.vectors[::-1])


def test_prompt_is_part_of_the_cache_key(tmp_path):
    cache, emb = EmbeddingCache(tmp_path), HashEmbedder(dim=16)
    query = embed_texts(emb, ["cell gene"], prompt="query: cancer", cache=cache)
    passage = embed_texts(emb, ["cell gene"], prompt="passage: mice", cache=cache)
    assert passage.n_encoded == 1 and passage.n_cached == 0
    assert not np.allclose(query.vectors, passage.vectors)
    assert embed_texts(emb, ["cell gene"], prompt="query: cancer", cache=cache).n_cached == 1
    np.testing.assert_array_equal(embed_texts(emb, ["cell gene"], prompt="passage: mice", cache=cache).vectors, passage.vectors)


def test_prompt_key_with_real_model(tmp_path, tiny_embedder):
    cache, emb = EmbeddingCache(tmp_path), tiny_embedder(precision="fp32")
    docs = embed_texts(emb, ["blood risk"], prompt="", cache=cache).vectors
    queries = embed_texts(emb, ["blood risk"], prompt="the study of ", cache=cache)
    assert queries.n_encoded == 1
    np.testing.assert_allclose(queries.vectors, emb.encode(["blood risk"], prompt="the study of "), atol=1e-6)
    assert not np.allclose(queries.vectors, docs, atol=1e-3)


def test_model_settings_do_not_share_cache(tmp_path, tiny_embedder):
    cache = EmbeddingCache(tmp_path)
    embed_texts(tiny_embedder(precision="fp32"), UNIQUE, cache=cache)
    assert embed_texts(tiny_embedder(precision="bf16"), UNIQUE, cache=cache).n_cached == 0
    assert embed_texts(tiny_embedder(precision="fp32", max_length=8), UNIQUE, cache=cache).n_cached == 0
    assert embed_texts(tiny_embedder(precision="fp32"), UNIQUE, cache=cache).n_cached == len(UNIQUE)


def test_killed_run_resumes_from_finished_shards(tmp_path):
    cache = EmbeddingCache(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        embed_texts(Flaky(fail_on=3), TEXTS, cache=cache, shard_size=2)  # 6 unique: shards 2 + 2 written
    assert cache.count(HashEmbedder(dim=16).fingerprint, "") == 4
    emb = HashEmbedder(dim=16)
    resumed = embed_texts(emb, TEXTS, cache=cache, shard_size=2)
    assert (resumed.n_encoded, resumed.n_cached) == (len(UNIQUE) - 4, 4)
    assert emb.texts_encoded == len(UNIQUE) - 4
    np.testing.assert_array_equal(resumed.vectors, HashEmbedder(dim=16).encode(TEXTS))


def test_many_lookup_chunks(monkeypatch, tmp_path):
    monkeypatch.setattr(embed_module, "LOOKUP_CHUNK", 2)
    cache, emb = EmbeddingCache(tmp_path), HashEmbedder(dim=16)
    embed_texts(emb, TEXTS[:3], cache=cache, shard_size=1)
    result = embed_texts(emb, TEXTS, cache=cache, shard_size=1)
    assert (result.n_encoded, result.n_cached) == (len(UNIQUE) - 2, 2)
    np.testing.assert_array_equal(result.vectors, HashEmbedder(dim=16).encode(TEXTS))


def test_memmap_variant_matches_in_memory(monkeypatch, tmp_path):
    monkeypatch.setattr(embed_module, "LOOKUP_CHUNK", 3)
    emb = HashEmbedder(dim=16)
    out = tmp_path / "out" / "docs.npy"
    result = embed_texts_to_memmap(emb, TEXTS, out, cache=EmbeddingCache(tmp_path / "c"), shard_size=2)
    assert isinstance(result.vectors, np.memmap) and not result.vectors.flags.writeable
    assert emb.texts_encoded == len(UNIQUE) == result.n_encoded
    np.testing.assert_array_equal(np.load(out), HashEmbedder(dim=16).encode(TEXTS))
    assert os.listdir(out.parent) == ["docs.npy"]
    again = embed_texts_to_memmap(emb, TEXTS, out, cache=EmbeddingCache(tmp_path / "c"))
    assert (again.n_encoded, again.n_cached) == (0, len(UNIQUE))


@pytest.mark.parametrize("to_memmap", [False, True])
def test_truncate_dim_cuts_and_renormalises_after_the_cache(monkeypatch, tmp_path, to_memmap):
    """The cache keeps the full vectors (a full-size call afterwards encodes nothing and gets them whole); a row
    cut to all zeros stays zero instead of dividing by 0."""
    monkeypatch.setattr(embed_module, "LOOKUP_CHUNK", 3)
    emb, texts = HashEmbedder(dim=16), TEXTS + ["b"]
    full = emb.encode(texts)
    assert not full[-1, :4].any()  # "b" hashes into a later bucket: cut to 4 dims it is all zeros
    cache = EmbeddingCache(tmp_path / "c")
    if to_memmap:
        result = embed_texts_to_memmap(emb, texts, tmp_path / "v.npy", cache=cache, shard_size=2, truncate_dim=4)
    else:
        result = embed_texts(emb, texts, cache=cache, shard_size=2, truncate_dim=4)
    norms = np.linalg.norm(full[:, :4], axis=1, keepdims=True)
    expected = np.where(norms > 0, full[:, :4] / np.where(norms > 0, norms, 1), 0)
    assert result.vectors.shape == (len(texts), 4) and not np.asarray(result.vectors[-1]).any()
    np.testing.assert_allclose(result.vectors, expected, rtol=1e-6)
    again = embed_texts(emb, texts, cache=EmbeddingCache(tmp_path / "c"))
    assert (again.n_encoded, again.n_cached) == (0, len(UNIQUE) + 1)
    np.testing.assert_array_equal(again.vectors, full)


def test_memmap_failure_leaves_no_file(tmp_path):
    out = tmp_path / "docs.npy"
    with pytest.raises(KeyboardInterrupt):
        embed_texts_to_memmap(Flaky(fail_on=1), TEXTS, out)
    assert list(tmp_path.iterdir()) == []


def test_wrong_embedder_shape_is_reported():
    class Broken(HashEmbedder):
        def encode(self, texts, prompt=""):
            return super().encode(texts, prompt)[:, :3]

    with pytest.raises(RuntimeError, match=r"returned shape \(2, 3\) for 2 texts; expected \(2, 16\)"):
        embed_texts(Broken(dim=16), ["a", "b"])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_vectors_are_refused_naming_the_texts_and_never_cached(tmp_path, bad):
    from negmine.errors import EncodingError

    class Overflowing(HashEmbedder):
        def encode(self, texts, prompt=""):
            out = super().encode(texts, prompt)
            out[[i for i, t in enumerate(texts) if "virus" in t]] = bad
            return out

    with pytest.raises(EncodingError, match=r"the model returned NaN or infinite values for 1 of 6 texts, 'virus'; it "
                                            r"cannot be scored\. Use --precision fp32 .* or remove that text from the data$"):
        embed_texts(Overflowing(dim=16), TEXTS, cache=EmbeddingCache(tmp_path))
    assert embed_texts(HashEmbedder(dim=16), ["cell gene", "virus"], cache=EmbeddingCache(tmp_path)).n_cached == 0


def test_bad_shard_size():
    with pytest.raises(ValueError, match="shard_size must be a positive integer, got 0"):
        embed_texts(HashEmbedder(), ["a"], shard_size=0)


def test_empty_input(tmp_path):
    result = embed_texts(HashEmbedder(dim=8), [], cache=EmbeddingCache(tmp_path))
    assert result.vectors.shape == (0, 8) and (result.n_encoded, result.n_cached) == (0, 0)


def test_progress_bar_shown_on_request(capsys):
    embed_texts(HashEmbedder(dim=8), ["a", "b"], desc="encode corpus", show_progress=True)
    assert "encode corpus" in capsys.readouterr().err


@pytest.mark.parametrize("to_memmap", [False, True])
def test_texts_a_concurrent_mine_is_encoding_are_read_from_the_cache(tmp_path, to_memmap):
    """``negmine eval`` beside a ``negmine mine`` (another process) on the same corpus and model: eval encodes
    its own other texts first, then reads the ones mine is encoding from the cache once mine has stored them,
    instead of encoding them a second time; the vectors are byte-identical."""
    import threading

    from negmine.testing.gated_run import finished, start_gated_run, wait_started

    gate, extra = tmp_path / "gate", ["only eval has this", "and this"]
    other = start_gated_run(tmp_path, tmp_path / "cache", tmp_path / "mine.npy", gate, UNIQUE, dim=16)
    wait_started(gate)
    embedder, cache, box = HashEmbedder(dim=16), EmbeddingCache(tmp_path / "cache"), {}
    call = (lambda: embed_texts_to_memmap(embedder, TEXTS + extra, tmp_path / "eval.npy", cache=cache)) if to_memmap \
        else (lambda: embed_texts(embedder, TEXTS + extra, cache=cache))
    thread = threading.Thread(target=lambda: box.setdefault("result", call()), daemon=True)
    thread.start()
    thread.join(1.0)  # the old code encoded everything at once and was done here
    gate.touch()
    thread.join(60)
    assert finished(other) == {"encoded": len(UNIQUE), "cached": 0}
    result = box["result"]
    assert embedder.texts_encoded == result.n_encoded == len(extra) and result.n_cached == len(UNIQUE)
    np.testing.assert_array_equal(np.asarray(result.vectors), HashEmbedder(dim=16).encode(TEXTS + extra))


def test_the_encoding_bar_inside_another_bar_is_not_drawn_on_a_log_file(capfd):
    """A dev evaluation's "encode corpus" bar under the trainer's left tqdm's cursor-up (ESC[A) in a log file at
    every update (negmine.progress); outermost, it is drawn as before. pytest's captured stderr is no terminal."""
    from tqdm.auto import tqdm

    embed_texts(HashEmbedder(dim=16), TEXTS, desc="encode corpus", show_progress=True)
    assert "encode corpus" in capfd.readouterr().err
    with tqdm(total=1, desc="trainer"):
        embed_texts(HashEmbedder(dim=16), TEXTS, desc="encode corpus", show_progress=True)
    err = capfd.readouterr().err
    assert "trainer" in err and "encode corpus" not in err and "\x1b[" not in err



@pytest.mark.parametrize("damage, problem", [
    (lambda meta: json.dumps({**meta, "dim": 16}),
     re.escape("records 16-dim vectors, but the folder's model gives 32-dim ones (the file was edited or damaged)")),
    (lambda meta: json.dumps(meta)[:20], r"is unreadable \(JSONDecodeError: [^;]*\)"),
])
def test_a_damaged_meta_file_leaves_the_shards_of_the_models_size_in_use(tmp_path, damage, problem):
    """meta.json edited to another size: every shard of the model's own size was found unreadable, removed and
    encoded again. Cut short: the shards were used, but the file was written again only with new vectors, so every
    run that found all its texts cached warned again. The model's size (its fingerprint names the folder) tells."""
    first = embed_texts(HashEmbedder(dim=32), UNIQUE, cache=EmbeddingCache(tmp_path), shard_size=2)
    meta = next(tmp_path.glob("*/meta.json"))
    meta.write_text(damage(json.loads(meta.read_text())))
    emb = HashEmbedder(dim=32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = embed_texts(emb, UNIQUE, cache=EmbeddingCache(tmp_path), shard_size=2)
    assert emb.calls == 0 and (again.n_encoded, again.n_cached) == (0, len(UNIQUE))
    np.testing.assert_array_equal(again.vectors, first.vectors)
    assert len(caught) == 1 and re.fullmatch(
        rf"embedding cache file {re.escape(str(meta))} {problem}; the folder's shards of 32-dim vectors \(its model's "
        r"size\) are used and the file is written again for 32-dim vectors", str(caught[0].message)), caught[0].message
    assert json.loads(meta.read_text())["dim"] == 32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the file was written again: the next run says nothing
        assert embed_texts(emb, UNIQUE, cache=EmbeddingCache(tmp_path), shard_size=2).n_cached == len(UNIQUE)
