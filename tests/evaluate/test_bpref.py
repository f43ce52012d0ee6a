from __future__ import annotations

import pytest

from negmine.evaluate.bpref import bpref
from negmine.evaluate.run import Run
from negmine.io.records import Qrels


def test_the_non_relevant_count_above_is_capped_at_r_as_in_trec_eval() -> None:
    # R = 2, N = 3: min(N, R) = 2; ranking n1 r1 n2 n3 r2 (u unjudged, skipped)
    qrels = Qrels({"q": {"r1": 1, "r2": 2, "n1": 0, "n2": 0, "n3": 0}})
    run = Run({"q": {"n1": 0.9, "u": 0.85, "r1": 0.8, "n2": 0.7, "n3": 0.6, "r2": 0.5}})
    # r1: 1 - 1/2; r2: 1 - min(3, 2)/2 = 0
    assert bpref(qrels, run, ["q"]).tolist() == pytest.approx([0.25])


def test_unretrieved_relevant_documents_count_zero_and_an_empty_ranking_scores_zero() -> None:
    qrels = Qrels({"q": {"r1": 1, "r2": 1, "r3": 1}, "e": {"r": 1}})
    run = Run({"q": {"r2": 0.9}})
    assert bpref(qrels, run, ["q", "e"]).tolist() == pytest.approx([1 / 3, 0.0])
