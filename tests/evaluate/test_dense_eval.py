from __future__ import annotations

from negmine.evaluate.dense_eval import retrieve_run
from negmine.io.records import Dataset, Qrels, TextTable
from negmine.testing.hash_embedder import HashEmbedder


def _dataset(doc_ids=("a", "b", "c", "d")) -> Dataset:
    texts = ["coffee cup espresso", "sleep night rest", "battery lithium charge", "coffee bean roast"]
    corpus = TextTable(list(doc_ids), texts[: len(doc_ids)])
    queries = TextTable(["q1", "q2", "q3", "b"], ["espresso coffee", "lithium battery", "unused", "sleep rest"])
    qrels = Qrels({"q1": {"a": 1}, "q2": {"c": 1}, "q3": {"a": 0}, "b": {"a": 1}})
    return Dataset(corpus, queries, qrels)


def test_retrieve_run_ranks_by_cosine_and_encodes_each_text_once() -> None:
    emb = HashEmbedder()
    ds = _dataset(("a", "c", "x", "y"))
    run = retrieve_run(emb, ds, depth=2, name="hash")
    assert run.name == "hash"
    assert run.query_ids() == ["b", "q1", "q2"]  # only queries with a relevant judgment, by id
    assert run.ranked("q1")[0] == "a" and run.ranked("q2")[0] == "x"
    assert all(len(run.ranked(q)) == 2 for q in run.query_ids())
    assert emb.texts_encoded == 4 + 3


def test_query_id_equal_to_doc_id_is_dropped_and_depth_kept() -> None:
    run = retrieve_run(HashEmbedder(), _dataset(), depth=3)
    assert "b" not in run.ranked("b") and len(run.ranked("b")) == 3
    assert len(run.ranked("q1")) == 3


def test_depth_larger_than_corpus() -> None:
    run = retrieve_run(HashEmbedder(), _dataset(), depth=50)
    assert len(run.ranked("q1")) == 4 and len(run.ranked("b")) == 3


def test_cache_avoids_reencoding(tmp_path) -> None:
    from negmine.encode.cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "cache")
    first, second = HashEmbedder(), HashEmbedder()
    run1 = retrieve_run(first, _dataset(), depth=2, cache=cache, query_prompt="query: ")
    run2 = retrieve_run(second, _dataset(), depth=2, cache=cache, query_prompt="query: ")
    assert first.texts_encoded == 7 and second.texts_encoded == 0
    assert run1.scores == run2.scores


def test_corpus_vectors_are_memory_mapped_not_held_in_memory(tmp_path, monkeypatch) -> None:
    """The corpus' (n_docs, dim) vectors go to a scratch file and come back memory-mapped (as ``mine``'s store),
    so eval's resident memory does not grow with corpus x dimension; the scratch file is gone once mapped."""
    import numpy as np

    from negmine.encode import embed
    from negmine.evaluate.dense_eval import encode_split

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    in_memory = []
    plain = embed.embed_texts

    def recording(embedder, texts, *args, **kwargs):
        result = plain(embedder, texts, *args, **kwargs)
        in_memory.append(result.vectors.shape)
        return result

    monkeypatch.setattr(embed, "embed_texts", recording)
    emb = encode_split(HashEmbedder(dim=64), _dataset())
    assert isinstance(emb.documents, np.memmap) and emb.documents.shape == (4, 64)
    assert (4, 64) not in in_memory  # only the queries' vectors were built in memory
    assert list(tmp_path.iterdir()) == []
    expected = HashEmbedder(dim=64).encode(_dataset().corpus.texts)
    np.testing.assert_array_equal(np.asarray(emb.documents), expected)


def test_the_bars_say_which_texts_and_whose(capsys) -> None:
    """The split's bars said 'encode corpus' and 'encode queries' for every model of an evaluation (and the
    model's own bars under them plain 'encode'): ``label`` names the model or the split."""
    from negmine.evaluate.dense_eval import encode_split
    from negmine.progress import encode_desc

    seen = []

    class Seen(HashEmbedder):
        show_progress = True

        def encode(self, texts, prompt=""):
            seen.append(encode_desc())
            return super().encode(texts, prompt)

    capsys.readouterr()
    encode_split(Seen(), _dataset(), label="out/model")
    bars = capsys.readouterr().err
    assert seen == ["encode corpus (out/model)", "encode queries (out/model)"]
    assert "encode corpus (out/model): 100%" in bars and "encode queries (out/model): 100%" in bars, bars
    retrieve_run(Seen(), _dataset())
    assert seen[2:] == ["encode corpus", "encode queries"]
