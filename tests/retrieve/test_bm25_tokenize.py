from __future__ import annotations

import numpy as np
import pytest
from bm25s.tokenization import Tokenizer

import negmine.retrieve.bm25_tokenize as bt
from negmine.retrieve.bm25 import BM25Retriever, TokenIds
from negmine.retrieve.bm25_sharded import ShardedBM25


def docs(tokenizer, texts, workers):
    """Per-document id lists from :func:`bt.token_id_chunks`."""
    return list(TokenIds.from_chunks(bt.token_id_chunks(tokenizer, texts, workers)))


def _texts(n=700, seed=3):
    """New words keep appearing all along (w0..w999, Zipf-like), some documents are stopwords only or empty."""
    rng = np.random.default_rng(seed)
    texts = [" ".join(f"W{int(w)}" for w in rng.zipf(1.3, rng.integers(0, 30)) if w < 1000) for _ in range(n)]
    texts[7], texts[8] = "the of and", ""
    return texts


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(bt, "PARALLEL_MIN", 10)
    monkeypatch.setattr(bt, "PARALLEL_CHUNK", 64)


def test_worker_tokenisation_gives_the_ids_and_vocabulary_of_one_pass(small_chunks, monkeypatch):
    texts = _texts()
    one = Tokenizer(stopwords="en")
    want = list(one.streaming_tokenize(texts, update_vocab=True, allow_empty=False))
    used = []
    import negmine.engine.processes as processes

    real = processes.ordered_process_map
    monkeypatch.setattr(processes, "ordered_process_map", lambda *a: used.append(a[2]) or real(*a))
    many = Tokenizer(stopwords="en")
    got = docs(many, texts, workers=2)
    assert used == [2], "tokenised in worker processes"
    assert got == want and list(many.word_to_id.items()) == list(one.word_to_id.items())
    assert got[7] == [] and got[8] == []


@pytest.mark.parametrize("case", ["one worker", "few texts", "stemmer", "vocabulary in use", "no length"])
def test_falls_back_to_one_pass_when_workers_cannot_help_or_would_differ(case, monkeypatch):
    import negmine.engine.processes as processes

    monkeypatch.setattr(processes, "ordered_process_map", lambda *a: pytest.fail("no worker processes expected"))
    monkeypatch.setattr(bt, "PARALLEL_MIN", 10 if case != "few texts" else 10_000)
    texts = _texts(100)
    tokenizer = Tokenizer(stopwords="en", stemmer=str.upper if case == "stemmer" else None)
    if case == "vocabulary in use":
        list(tokenizer.streaming_tokenize(["w5 w6"], update_vocab=True, allow_empty=False))
    reference = Tokenizer(stopwords="en", stemmer=tokenizer.stemmer)
    reference.word_to_id = dict(tokenizer.word_to_id)
    reference.stem_to_sid, reference.word_to_stem = dict(tokenizer.stem_to_sid), dict(tokenizer.word_to_stem)
    want = list(reference.streaming_tokenize(texts, update_vocab=True, allow_empty=False))
    source = iter(texts) if case == "no length" else texts
    got = docs(tokenizer, source, workers=1 if case == "one worker" else 2)
    assert got == want


# 'W999' (not in the texts) and 'the' (a stopword) have no BM25 token on purpose: their empty rows are compared too
@pytest.mark.filterwarnings("ignore:2 of 4 queries have no BM25 token:negmine.errors.NegmineWarning")
def test_indexes_built_with_workers_are_bit_identical(small_chunks):
    texts = _texts(900)
    queries = ["W1 W2 W3", "W17 W400", "W999", "the"]
    for build in (lambda w: BM25Retriever.from_texts(texts, workers=w),
                  lambda w: ShardedBM25.from_texts(texts, shard_size=250, workers=w)):
        one, two = build(1), build(2)
        a, b = one.search(queries, depth=20), two.search(queries, depth=20)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.scores, b.scores)


@pytest.mark.parametrize("size", [1, 5, 7, 64, 1000])
def test_rechunk_regroups_documents_without_changing_them(size):
    whole = docs(Tokenizer(stopwords="en"), _texts(50), workers=1)
    bounds = [0, 3, 4, 14, 14, 31, 50]  # chunks of 3, 1, 10, 0, 17 and 19 documents
    pieces = [(np.asarray([i for d in whole[a:b] for i in d], dtype=np.int32),
               np.asarray([len(d) for d in whole[a:b]], dtype=np.int64)) for a, b in zip(bounds, bounds[1:])]
    regrouped = list(bt.rechunk(iter(pieces), size))
    assert [len(lengths) for _, lengths in regrouped] == [min(size, 50 - i) for i in range(0, 50, size)]
    assert list(TokenIds.from_chunks(regrouped)) == whole
