"""RetrieveConfig.fallback: pairs whose dense pool is short are selected from their query's hybrid pool."""

from __future__ import annotations

import json

import numpy as np
import pytest

from negmine.config import (
    DataConfig, EncoderConfig, MineConfig, NearDupConfig, OutputConfig, RetrieveConfig, SelectConfig,
)
from negmine.errors import ConfigError
from negmine.pipeline.mine import mine
from negmine.pipeline.summary import format_summary
from negmine.testing.beir import write_beir

CORPUS = {
    **{f"hot{i}": f"alpha signal report {i}" for i in range(5)},  # dense 1.0 for q1, no shared word
    "pos1": "beta finding",  # q1's positive: dense 0.6, below every hot document
    **{f"lex{i}": f"gamma zeta note {i}" for i in range(4)},  # share "zeta" with q1 (BM25), dense 0.0
    **{f"fill{i}": f"filler text {i}" for i in range(8)},  # graded dense scores for q2
}
QUERIES = {"q1": "zeta question", "q2": "delta question"}
QRELS = [("q1", "pos1", 1), ("q2", "fill0", 1)]


class Marked:
    """2-d embedder with chosen cosines: q1 . hot = 1, q1 . pos1 = 0.6, q1 . lex = 0; q2 ranks fill0 first and
    the other fillers in a graded order below it."""

    dim = 2
    fingerprint = "marked-fallback"

    def encode(self, texts, prompt=""):
        return np.asarray([self._one(t) for t in texts], dtype=np.float32)

    @staticmethod
    def _one(text):
        if text.startswith(("alpha", "zeta")):
            return [1.0, 0.0]
        if text.startswith("beta"):
            return [0.6, 0.8]
        if text.startswith("gamma"):
            return [0.0, 1.0]
        if text.startswith("delta"):
            return [-1.0, 0.0]
        if text.startswith("filler"):
            angle = np.deg2rad(2 + 9 * int(text.split()[-1]))
            return [-np.cos(angle), np.sin(angle)]
        raise AssertionError(text)


def config(beir, out, fallback):
    return MineConfig(
        data=DataConfig(data_dir=beir), encoder=EncoderConfig(use_cache=False, show_progress=False),
        retrieve=RetrieveConfig(depth=5, fallback=fallback), select=SelectConfig(num_negatives=2),
        near_dup=NearDupConfig(cosine=None, overlap=None), output=OutputConfig(out),
    )


@pytest.fixture
def beir(tmp_path):
    return write_beir(tmp_path / "b", CORPUS, QUERIES, QRELS)


def rows(path):
    return {json.loads(x)["query_id"]: json.loads(x) for x in path.read_text().splitlines()}


def test_a_short_dense_pool_falls_back_to_the_hybrid_pool(beir, tmp_path):
    plain = mine(config(beir, tmp_path / "plain.jsonl", None), embedder=Marked())
    assert plain.summary["pairs_skipped"] == {"no candidate left after exclusions and filters": 1}
    assert set(rows(tmp_path / "plain.jsonl")) == {"q2"} and plain.summary["pairs_from_fallback"] == 0
    rescued = mine(config(beir, tmp_path / "fb.jsonl", "hybrid"), embedder=Marked())
    assert rescued.summary["pairs_out"] == 2 and rescued.summary["pairs_from_fallback"] == 1
    assert rescued.summary["pairs_tried_fallback"] == 1 and plain.summary["pairs_tried_fallback"] == 0
    q1 = rows(tmp_path / "fb.jsonl")["q1"]
    # RRF of dense (hot0..hot4) and BM25 ("zeta": lex0..lex3) interleaves them; dense scores decide the margin
    assert sorted(q1["negative_ids"]) == ["lex0", "lex1"] and q1["negative_scores"] == [0.0, 0.0]
    assert q1["positive_score"] == pytest.approx(0.6)
    assert q1["candidate_score_sd"] == pytest.approx(np.std([1, 0, 1, 0, 1]), abs=1e-6)
    assert rows(tmp_path / "fb.jsonl")["q2"] == rows(tmp_path / "plain.jsonl")["q2"], "a full pool is kept as is"


def test_a_fallback_pool_that_is_short_too_is_counted_as_tried_not_used(tmp_path):
    # q3 ("alpha ...") ranks pos1 below every hot document, and BM25 only finds hot documents for it
    queries = {**QUERIES, "q3": "alpha query"}
    beir = write_beir(tmp_path / "b3", CORPUS, queries, [*QRELS, ("q3", "pos1", 1)])
    result = mine(config(beir, tmp_path / "o.jsonl", "hybrid"), embedder=Marked())
    assert set(rows(tmp_path / "o.jsonl")) == {"q1", "q2"}
    assert (result.summary["pairs_tried_fallback"], result.summary["pairs_from_fallback"]) == (2, 1)
    assert result.summary["pairs_skipped"] == {"no candidate left after exclusions and filters": 1}
    # q3 tried the fallback and was skipped: counted among those that tried it, which the line says (was "1 of 2",
    # under "Among the pairs mined", as if 2 pairs were mined)
    assert "\n  short pairs selected from the fallback (hybrid) pool: 1 of 2 that tried it\n" in format_summary(
        result.summary)


def test_short_pairs_whose_query_has_no_bm25_word_are_counted_and_named(tmp_path):
    """The fallback searched BM25 for q3 ("delta query": no word the corpus has) and found nothing, and the run
    did not say so: no queries_without_bm25_words in the summary, and BM25's warning advised --retriever dense
    or hybrid, the retriever in use. Its pair stays skipped for its short dense pool."""
    queries = {**QUERIES, "q3": "delta query"}
    beir = write_beir(tmp_path / "b3", CORPUS, queries, [*QRELS, ("q3", "pos1", 1)])
    with pytest.warns(UserWarning) as caught:
        result = mine(config(beir, tmp_path / "o.jsonl", "hybrid"), embedder=Marked())
    messages = [str(w.message) for w in caught if "BM25" in str(w.message)]
    assert messages == ["1 of the 2 queries with a short pair has no BM25 token (no word of two or more letters or "
                        "digits that the corpus has), e.g. 'delta query': the hybrid fallback adds no BM25 candidate "
                        "to its pool, which stays its dense candidates"]
    summary = result.summary
    assert set(rows(tmp_path / "o.jsonl")) == {"q1", "q2"}
    assert (summary["pairs_tried_fallback"], summary["pairs_from_fallback"]) == (2, 1)
    assert summary["pairs_skipped"] == {"no candidate left after exclusions and filters": 1}
    assert summary["queries_without_bm25_words"] == 1
    assert ("  1 query has no BM25 word (BM25 retrieved nothing for it: its short pairs' fallback pools hold "
            "only its dense candidates)") in format_summary(summary).splitlines()
    plain = mine(config(beir, tmp_path / "p.jsonl", None), embedder=Marked()).summary
    assert "queries_without_bm25_words" not in plain, "no BM25 search, nothing to count"


def test_no_bm25_work_when_no_pair_is_short(beir, tmp_path, monkeypatch):
    import negmine.pipeline.candidates as candidates

    def fail(*args, **kwargs):
        raise AssertionError("fallback pools built although no pair was short")

    monkeypatch.setattr(candidates, "fallback_pools", fail)
    only_q2 = write_beir(tmp_path / "q2", CORPUS, QUERIES, [QRELS[1]])
    result = mine(config(only_q2, tmp_path / "o.jsonl", "hybrid"), embedder=Marked())
    assert result.summary["pairs_out"] == 1 and result.summary["pairs_from_fallback"] == 0


def test_fallback_config_errors_name_the_value_and_the_choices():
    with pytest.raises(ConfigError, match=r"unknown fallback 'bm25'; allowed: hybrid"):
        RetrieveConfig(fallback="bm25").validate()
    with pytest.raises(ConfigError, match=r"fallback 'hybrid' tops up dense pools, but the retriever is 'bm25'; "
                                          r"use method='dense' \(--retriever dense\), or fallback=None \(--no-fallback\)"):
        RetrieveConfig(method="bm25", fallback="hybrid").validate()


class CaseBlind(Marked):
    """:class:`Marked` reading a text in lower case, so a query re-typed in capitals gets the same cosines."""

    fingerprint = "marked-fallback-case-blind"

    @staticmethod
    def _one(text):
        return Marked._one(text.lower())


@pytest.mark.filterwarnings("ignore::negmine.errors.NegmineWarning")  # the repeating pairs' warning: test_variant_pairs
def test_a_repeating_pair_is_counted_among_the_pairs_mined_only_when_it_is_mined(tmp_path):
    """``pairs_repeating_another`` (shown under "Among the pairs mined") counted every pair repeating an earlier
    one up to case or spacing before selection: q1b ("ZETA  question", q1's positive) was counted though both q1
    and q1b were skipped for a short pool, so the summary said a pair was mined twice when none was mined."""
    beir = write_beir(tmp_path / "b", CORPUS, {**QUERIES, "q1b": "ZETA  question"}, [*QRELS, ("q1b", "pos1", 1)])
    plain = mine(config(beir, tmp_path / "plain.jsonl", None), embedder=CaseBlind()).summary
    assert set(rows(tmp_path / "plain.jsonl")) == {"q2"}
    assert plain["pairs_skipped"] == {"no candidate left after exclusions and filters": 2}
    assert plain["pairs_repeating_another"] == 0, "q1b was skipped, not mined twice"
    assert "pairs repeating an earlier pair" not in format_summary(plain)
    rescued = mine(config(beir, tmp_path / "fb.jsonl", "hybrid"), embedder=CaseBlind()).summary
    assert set(rows(tmp_path / "fb.jsonl")) == {"q1", "q1b", "q2"}
    assert rescued["pairs_repeating_another"] == 1, "q1 and q1b both mined: the pair counts twice"
    # the fallback's denominator counts every short pair that tried it, mined or skipped (the rescue rate)
    assert (rescued["pairs_tried_fallback"], rescued["pairs_from_fallback"]) == (2, 2)
