from __future__ import annotations

import pytest

from negmine.evaluate.judged import judged_at_k
from negmine.evaluate.run import Run
from negmine.io.records import Qrels


def test_judged_counts_any_judgment_including_zero() -> None:
    qrels = Qrels({"q1": {"a": 1, "b": 0}, "q2": {"x": 2}})
    run = Run({"q1": {"a": 0.9, "c": 0.8, "b": 0.7, "d": 0.6}, "q2": {"y": 0.9}})
    assert judged_at_k(qrels, run, 2, ["q1", "q2"]).tolist() == [0.5, 0.0]
    assert judged_at_k(qrels, run, 3, ["q1", "q2"]).tolist() == pytest.approx([2 / 3, 0.0])
    # fewer retrieved than k: share of what was retrieved (ir_measures Judged@k)
    assert judged_at_k(qrels, run, 10, ["q1"]).tolist() == [0.5]


def test_judged_empty_ranking_and_unknown_query() -> None:
    qrels = Qrels({"q1": {"a": 1}})
    assert judged_at_k(qrels, Run({}), 5, ["q1", "zz"]).tolist() == [0.0, 0.0]


def test_judged_rejects_bad_k() -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        judged_at_k(Qrels({}), Run({}), 0, [])
