from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest

from negmine.errors import NegmineWarning
from negmine.retrieve.bm25 import BM25Retriever, TokenIds

CORPUS = [
    "apple banana apple",
    "banana cherry",
    "cherry date elderberry fig",
    "the and of",  # only stopwords
]


def _bm25(tf, dl, avgdl, df, n, k1=1.5, b=0.75):
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))


def _tokenless(count: int, total: int, example: str):
    """Expects the NegmineWarning of queries without a BM25 token."""
    queries = "query" if total == 1 else "queries"
    has, them = ("has", "it") if count == 1 else ("have", "them")
    return pytest.warns(NegmineWarning, match=rf"^{count} of {total} {queries} {has} no BM25 token \(no word of two or "
                                              rf"more letters or digits that the corpus has\), e\.g\. '{example}': "
                                              rf"BM25 retrieves no document for {them}")


def test_scores_follow_the_lucene_formula():
    retriever = BM25Retriever.from_texts(CORPUS)
    n, avgdl = 4, (3 + 2 + 4 + 0) / 4  # document lengths after stopword removal
    banana = [_bm25(1, 3, avgdl, 2, n), _bm25(1, 2, avgdl, 2, n), 0.0, 0.0]
    cherry = [0.0, _bm25(1, 2, avgdl, 2, n), _bm25(1, 4, avgdl, 2, n), 0.0]
    expected = np.add(banana, cherry)
    np.testing.assert_allclose(retriever.score("banana cherry", np.arange(4)), expected, rtol=1e-5)
    apple = _bm25(2, 3, avgdl, 1, n)  # tf = 2
    np.testing.assert_allclose(retriever.score("apple", np.array([0, 1])), [apple, 0.0], rtol=1e-5)


def test_exact_term_document_ranks_first():
    texts = [f"common filler words number {i}" for i in range(50)]
    texts[37] = "common filler words about mitochondria"
    retriever = BM25Retriever.from_texts(texts)
    result = retriever.search(["mitochondria", "what about mitochondria words"], depth=5)
    assert result.indices[0, 0] == 37 and result.indices[1, 0] == 37
    assert (result.indices[0, 1:] == -1).all()  # nothing else shares a term with the first query


def test_search_order_scores_and_padding():
    retriever = BM25Retriever.from_texts(CORPUS)
    with _tokenless(2, 3, "zebra"):
        result = retriever.search(["banana cherry", "zebra", "the"], depth=6)
    assert result.indices.shape == (3, 6) and result.indices.dtype == np.int64
    assert result.indices[0, :3].tolist() == [1, 0, 2]
    np.testing.assert_allclose(result.scores[0, :3], retriever.score("banana cherry", np.array([1, 0, 2])), rtol=1e-6)
    assert (result.indices[0, 3:] == -1).all() and np.isneginf(result.scores[0, 3:]).all()
    assert (result.indices[1:] == -1).all()  # unknown word; stopword-only query


@pytest.mark.parametrize(("queries", "text"), [
    (["zebra"], "1 of 1 query has no BM25 token (no word of two or more letters or digits that the corpus has), e.g. "
                "'zebra': BM25 retrieves no document for it (mining with method='bm25' (--retriever bm25) gives its pairs"),
    (["banana", "zebra", "cherry"], "1 of 3 queries has no BM25 token (no word of two or more letters or digits that "
                                    "the corpus has), e.g. 'zebra': BM25 retrieves no document for it (mining with "
                                    "method='bm25' (--retriever bm25) gives its pairs"),
    (["zebra", "the", "cherry"], "2 of 3 queries have no BM25 token (no word of two or more letters or digits that "
                                 "the corpus has), e.g. 'zebra': BM25 retrieves no document for them (mining with "
                                 "method='bm25' (--retriever bm25) gives their pairs"),
])
def test_the_tokenless_warning_agrees_with_its_counts(queries, text):
    """'1 of 3 queries have no BM25 token ... for them' until 2026-12-07: one query is singular."""
    with pytest.warns(NegmineWarning) as caught:
        BM25Retriever.from_texts(CORPUS).search(queries, depth=2)
    assert [str(w.message) for w in caught if "no BM25 token" in str(w.message)][0].startswith(text)


@pytest.mark.parametrize(("corpus", "which"), [
    (["?? !!"], "its one document has no word"), (["?? !!", "a b"], "none of its 2 documents has a word")])
def test_a_corpus_without_a_word_is_refused_counting_its_documents(corpus, which):
    """'none of its 1 documents has a word' until 2026-12-07."""
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"^BM25 cannot index this corpus: {which} of two or more letters or digits "
                                          r"\(only punctuation"):
        BM25Retriever.from_texts(corpus)


def test_ties_broken_by_lower_index():
    retriever = BM25Retriever.from_texts(["kiwi lime", "lime kiwi", "kiwi lime", "mango"])
    assert retriever.search(["kiwi"], depth=2).indices.tolist() == [[0, 1]]


def test_stopwords_option():
    with_stop = BM25Retriever.from_texts(["the cat", "a dog"])
    no_stop = BM25Retriever.from_texts(["the cat", "a dog"], stopwords=None)
    with _tokenless(1, 1, "the"):
        assert with_stop.search(["the"], 2).indices.tolist() == [[-1, -1]]
    assert no_stop.search(["the"], 2).indices.tolist() == [[0, -1]]


def test_errors():
    with pytest.raises(ValueError, match="empty corpus"):
        BM25Retriever.from_texts([])
    retriever = BM25Retriever.from_texts(CORPUS)
    with pytest.raises(IndexError, match=r"document row out of range \[0, 4\)"):
        retriever.score("apple", np.array([4]))
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        retriever.search(["apple"], 0)


def test_same_scores_as_bm25s_own_tokenised_index():
    import bm25s

    reference = bm25s.BM25(method="lucene")
    reference.index(bm25s.tokenize(CORPUS, stopwords="en", return_ids=False, show_progress=False), show_progress=False)
    retriever = BM25Retriever.from_texts(CORPUS)
    for query in ["banana cherry", "apple apple fig", "elderberry the"]:
        tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        expected = reference.get_scores(tokens)
        np.testing.assert_array_equal(retriever.query_scores(query), expected.astype(np.float32))


def test_indexes_a_stream_of_texts_without_a_length():
    retriever = BM25Retriever.from_texts(text for text in CORPUS)
    assert retriever.n_docs == 4
    assert retriever.search(["banana cherry"], 3).indices.tolist() == [[1, 0, 2]]


def test_stemmer_is_a_word_function_or_a_stemword_object():
    texts = ["running dogs", "a cat runs", "nothing here"]

    def stem(word: str) -> str:
        return word.rstrip("s").removesuffix("ning")

    class PyStemmerLike:
        def stemWord(self, word: str) -> str:  # noqa: N802 - PyStemmer's name
            return stem(word)

    for stemmer in (stem, PyStemmerLike()):
        retriever = BM25Retriever.from_texts(texts, stemmer=stemmer)
        assert retriever.search(["run"], 3).indices.tolist() == [[0, 1, -1]]
        assert retriever.search(["dog"], 3).indices.tolist() == [[0, -1, -1]]


def test_token_ids_store_documents_flat():
    docs = [[3, 1], [], [2], [0, 0, 4], [5]]
    ids = TokenIds.from_stream(iter(docs), batch=2)
    assert ids.flat.dtype == np.int32 and ids.flat.tolist() == [3, 1, 2, 0, 0, 4, 5]
    assert len(ids) == 5 and list(ids) == docs and ids[3] == [0, 0, 4] and ids[-1] == [5] and ids[1:3] == [[], [2]]
    with pytest.raises(IndexError, match="document row 5 out of range for 5 documents"):
        ids[5]
    assert len(TokenIds.from_stream(iter([]))) == 0


def test_progress_bars_do_not_change_the_index(capsys) -> None:
    quiet = BM25Retriever.from_texts(CORPUS)
    loud = BM25Retriever.from_texts(CORPUS, show_progress=True)
    loud_result = loud.search(["banana cherry"], 3, show_progress=True)
    err = capsys.readouterr().err
    assert "bm25 tokenise" in err and "4/4" in err and "bm25 search" in err
    quiet_result = quiet.search(["banana cherry"], 3)
    np.testing.assert_array_equal(loud_result.indices, quiet_result.indices)
    np.testing.assert_array_equal(loud_result.scores, quiet_result.scores)
    assert not capsys.readouterr().err  # quiet by default


def test_bm25s_own_bars_are_drawn_on_a_terminal_only(capsys, monkeypatch) -> None:
    """bm25s' counting and scoring bars are another library's (negmine.progress.library_bars_shown): in a log they
    left carriage returns between negmine's bar lines."""
    BM25Retriever.from_texts(CORPUS, show_progress=True)
    err = capsys.readouterr().err
    assert "bm25 tokenise" in err and "BM25S" not in err and "\r" not in err

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    BM25Retriever.from_texts(CORPUS, show_progress=True)
    assert "BM25S Count Tokens" in terminal.getvalue()


def _word_corpus(n_docs: int, n_queries: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    docs = [" ".join(rng.choice(words, size=12)) for _ in range(n_docs)]
    queries = [" ".join(rng.choice(words, size=3)) for _ in range(n_queries)]
    queries[5] = "the and"  # no term in the index: an empty row in every chunk layout
    return docs, queries


# _word_corpus's query 5 ("the and") has no BM25 token on purpose: the warning is checked by other tests
_IGNORE_QUERY_5 = pytest.mark.filterwarnings(
    r"ignore:1 of \d+ queries has no BM25 token:negmine.errors.NegmineWarning")


@_IGNORE_QUERY_5
def test_queries_split_over_worker_processes_give_the_same_bits(monkeypatch):
    import negmine.engine.processes as processes
    import negmine.retrieve.bm25 as bm25

    monkeypatch.setattr(bm25, "QUERY_CHUNK", 7)  # 40 queries: 6 chunks, the last one short
    monkeypatch.setattr(bm25, "PARALLEL_SEARCH_MIN", 40 * 200)
    maps = []
    real_map = processes.ordered_process_map
    monkeypatch.setattr(processes, "ordered_process_map", lambda *a, **k: maps.append(a[2]) or real_map(*a, **k))
    docs, queries = _word_corpus(200, 40)
    one = BM25Retriever.from_texts(docs).search(queries, depth=15)
    assert maps == []
    two = BM25Retriever.from_texts(docs, workers=2).search(queries, depth=15)
    assert maps == [2]  # the queries did go to two worker processes
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(one.scores, two.scores)
    assert (two.indices[5] == -1).all() and (two.indices[:5, 0] >= 0).all()


@_IGNORE_QUERY_5
def test_small_searches_one_chunk_or_workers_that_would_not_fork_stay_in_this_process(monkeypatch):
    import types

    import negmine.engine.processes as processes
    import negmine.retrieve.bm25 as bm25

    def refuse(*args, **kwargs):
        raise AssertionError("no worker processes expected")

    docs, queries = _word_corpus(50, 10)
    expected = BM25Retriever.from_texts(docs).search(queries, depth=5)
    monkeypatch.setattr(processes, "ordered_process_map", refuse)
    monkeypatch.setattr(bm25, "QUERY_CHUNK", 3)
    small = BM25Retriever.from_texts(docs, workers=2).search(queries, depth=5)  # 10 x 50 < PARALLEL_SEARCH_MIN
    np.testing.assert_array_equal(small.indices, expected.indices)
    monkeypatch.setattr(bm25, "PARALLEL_SEARCH_MIN", 1)
    monkeypatch.setattr(bm25, "QUERY_CHUNK", 10)
    few = BM25Retriever.from_texts(docs, workers=2).search(queries, depth=5)  # 10 queries: one chunk
    np.testing.assert_array_equal(few.indices, expected.indices)
    monkeypatch.setattr(processes, "sys", types.SimpleNamespace(platform="darwin"))  # spawned: no shared memory
    monkeypatch.setattr(bm25, "QUERY_CHUNK", 3)
    spawned = BM25Retriever.from_texts(docs, workers=2).search(queries, depth=5)
    np.testing.assert_array_equal(spawned.indices, expected.indices)


def test_search_workers_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="search_workers must be a positive integer, got 0"):
        BM25Retriever(None, 3, None, search_workers=0)


def test_from_texts_refuses_bad_workers_by_their_name_before_tokenising(monkeypatch):
    """workers=0 tokenised and indexed the whole corpus, then failed as 'search_workers must be ...'."""
    import negmine.retrieve.bm25_tokenize as bm25_tokenize

    monkeypatch.setattr(bm25_tokenize, "token_id_chunks", lambda *args: pytest.fail("the corpus was tokenised"))
    for workers in (0, -2, 1.5):
        with pytest.raises(ValueError) as info:
            BM25Retriever.from_texts(["alpha beta", "beta gamma"], workers=workers)
        assert str(info.value) == f"workers must be a positive integer, got {workers!r}"


ZH_CORPUS = [
    "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。",
    "东京是日本的首都，也是世界上最大的都市圈之一。",
    "深度学习使用多层神经网络来学习数据的表示。",
    "气候变化影响全球的农业生产和粮食安全。",
]


def test_chinese_queries_find_their_documents():
    """Chinese has no spaces: with bm25s' default ``\\w\\w+`` each clause was one token and no query matched."""
    retriever = BM25Retriever.from_texts(ZH_CORPUS)
    result = retriever.search(["什么是机器学习？", "日本的首都", "气候变化对农业的影响"], depth=4)
    assert result.indices[:, 0].tolist() == [0, 1, 3]
    assert (result.scores[:, 0] > 0).all()


def test_hindi_words_and_decomposed_accents_match():
    """Vowel signs are combining marks: ``\\w\\w+`` cut Hindi words into fragments and dropped most of them."""
    import unicodedata

    texts = ["भारत की राजभाषा हिन्दी है", "मशीन लर्निंग कृत्रिम बुद्धिमत्ता की शाखा है", "le café est chaud"]
    retriever = BM25Retriever.from_texts(texts)
    queries = ["राजभाषा", "कृत्रिम बुद्धिमत्ता", unicodedata.normalize("NFD", "café")]
    assert retriever.search(queries, depth=1).indices[:, 0].tolist() == [0, 1, 2]


def test_a_corpus_without_any_word_is_refused_with_the_fix():
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError, match=r"BM25 cannot index this corpus: none of its 3 documents has a word of "
                                          r"two or more letters or digits .* use the dense retriever "
                                          r"\(--retriever dense"):
        BM25Retriever.from_texts(["x + y = 1", "😀 😀", "？！。"])


def test_queries_without_a_token_are_warned_about():
    retriever = BM25Retriever.from_texts(ZH_CORPUS)
    with pytest.warns(UserWarning, match=r"2 of 3 queries have no BM25 token .* e\.g\. '？！。': BM25 retrieves no "
                                         r"document for them"):
        result = retriever.search(["？！。", "机器学习", "😀"], depth=2)
    assert result.indices[[0, 2]].tolist() == [[-1, -1], [-1, -1]]
