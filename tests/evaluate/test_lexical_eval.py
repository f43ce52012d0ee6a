from __future__ import annotations

import pytest

from negmine.errors import NegmineWarning
from negmine.evaluate.lexical_eval import BM25_MODEL, bm25_run
from negmine.io.records import Dataset, Qrels, TextTable
from negmine.retrieve.bm25 import BM25Retriever


def _dataset(doc_ids=("a", "b", "c", "d")) -> Dataset:
    texts = ["coffee cup espresso", "sleep night rest", "battery lithium charge", "coffee bean roast"]
    corpus = TextTable(list(doc_ids), texts[: len(doc_ids)])
    queries = TextTable(["q1", "q2", "q3", "b", "q5"],
                        ["espresso coffee", "lithium battery", "unused", "sleep rest coffee", "zebra giraffe"])
    qrels = Qrels({"q1": {"a": 1}, "q2": {"c": 1}, "q3": {"a": 0}, "b": {"a": 1}, "q5": {"d": 1}})
    return Dataset(corpus, queries, qrels)


# q5 ('zebra giraffe') has no word of the corpus: its warning is checked in the first test only
_TOKENLESS_Q5 = pytest.mark.filterwarnings("ignore:1 of 4 queries has no BM25 token:negmine.errors.NegmineWarning")


def test_bm25_run_ranks_by_bm25_and_scores_match_the_index() -> None:
    ds = _dataset()
    with pytest.warns(NegmineWarning, match=r"^1 of 4 queries has no BM25 token \(.*\), e\.g\. 'zebra giraffe': BM25 "
                                            r"retrieves no document for it"):
        run = bm25_run(ds, depth=2)
    assert run.name == BM25_MODEL == "bm25"
    assert run.query_ids() == ["b", "q1", "q2", "q5"]  # only queries with a relevant judgment, by id
    assert run.ranked("q1") == ["a", "d"] and run.ranked("q2") == ["c"]  # no zero-score padding
    index = BM25Retriever.from_texts(ds.corpus.texts)
    assert run.scores["q1"]["a"] == float(index.score("espresso coffee", [0])[0])
    assert run.ranked("q5") == []  # no shared term: an empty ranking, scored 0


@_TOKENLESS_Q5
def test_query_id_equal_to_doc_id_is_dropped_and_depth_kept() -> None:
    run = bm25_run(_dataset(), depth=2)
    assert run.ranked("b") == ["d", "a"]  # 'b' itself would rank first ("sleep rest"); d, a tie: id descending


@_TOKENLESS_Q5
def test_sharded_index_gives_the_same_run() -> None:
    ds = _dataset()
    assert bm25_run(ds, depth=3, shard_size=1).scores == bm25_run(ds, depth=3).scores


@_TOKENLESS_Q5
def test_worker_processes_give_the_same_run(monkeypatch) -> None:
    import negmine.engine.budget as budget

    monkeypatch.setattr(budget, "PARALLEL_BM25_MIN", 2)  # the 4 documents count as a large corpus
    ds = _dataset()
    assert bm25_run(ds, depth=3, workers=2).scores == bm25_run(ds, depth=3, workers=1).scores
