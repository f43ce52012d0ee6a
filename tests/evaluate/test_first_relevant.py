from __future__ import annotations

from negmine.evaluate.first_relevant import first_relevant_ranks, relevant_ids
from negmine.evaluate.metrics import evaluate_run
from negmine.evaluate.run import Run
from negmine.io.records import Qrels

QRELS = Qrels({"q1": {"d1": 1, "d2": 2, "d9": 0}, "q2": {"d3": 1}, "q3": {"d4": 1}, "q4": {"q4": 1, "d5": 1}})


def test_relevant_ids_are_the_positive_judgments_highest_grade_first():
    assert relevant_ids(QRELS, ["q1", "q2"]) == {"q1": ("d2", "d1"), "q2": ("d3",)}


def test_the_first_relevant_rank_and_the_depth_of_each_query():
    run = Run({"q1": {"d9": 0.9, "x": 0.8, "d1": 0.7, "d2": 0.6}, "q2": {"x": 0.5, "y": 0.4}, "q3": {}})
    ranks, depths = first_relevant_ranks(QRELS, run, ["q1", "q2", "q3"])
    assert ranks == (3, None, None)  # q1: d9 is judged, not relevant; q2: none in its 2; q3: nothing ranked
    assert depths == (4, 2, 0)


def test_the_evaluation_records_them_in_the_metrics_order_of_ranking():
    """Ranks as every metric ranks: the document whose id is the query's dropped, ties by doc id descending."""
    run = Run({"q4": {"q4": 1.0, "d5": 0.5, "z": 0.5}, "q1": {"d1": 0.9}}, name="r")
    result = evaluate_run(QRELS, run, ("mrr@10",))
    assert result.query_ids == ("q1", "q2", "q3", "q4")
    assert result.first_relevant == (1, None, None, 2) and result.depths == (1, 0, 0, 2)
    assert result.mean["mrr@10"] == (1 + 1 / 2) / 4  # the metric reads the same ranks
    saved = result.to_dict()
    assert saved["first_relevant_rank"] == {"q1": 1, "q2": None, "q3": None, "q4": 2}
    assert saved["documents_ranked"] == {"q1": 1, "q2": 0, "q3": 0, "q4": 2}
    assert "first_relevant_rank" not in result.to_dict(per_query=False)
