from __future__ import annotations

import math

import pytest

from negmine.errors import ConfigError, InputError
from negmine.evaluate.metrics import evaluate_run
from negmine.evaluate.run import Run
from negmine.io.records import Qrels

QRELS = Qrels(
    {
        "q1": {"d1": 1, "d2": 1, "d5": 0},
        "q2": {"d3": 2},
        "q3": {"d7": 1},
        "q4": {"d9": 0},  # no relevant document: not evaluated
    }
)
RUN = Run(
    {
        "q1": {"d4": 0.9, "d1": 0.8, "d5": 0.7, "d2": 0.6, "d6": 0.5},
        "q2": {"q2": 0.99, "d8": 0.9, "d3": 0.5},  # the query itself tops its own ranking
        "q4": {"d9": 0.9},
        "q5": {"d1": 0.9},  # not in the qrels split
    },
    name="hand",
)

# Worked by hand.
# q1: relevant d1 (rank 2) and d2 (rank 4), both gain 1; d5 judged non-relevant.
NDCG_Q1 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 / math.log2(2) + 1 / math.log2(3))
# q2 after dropping the identical id: d8 (rank 1), d3 (rank 2, gain 2); ideal puts d3 first.
NDCG_Q2 = (2 / math.log2(3)) / (2 / math.log2(2))


def test_hand_computed_example() -> None:
    res = evaluate_run(QRELS, RUN, ("ndcg@10", "mrr@10", "recall@100", "map", "recall@2", "judged@10"))
    assert res.query_ids == ("q1", "q2", "q3")
    assert res.query_scores("ndcg@10") == pytest.approx({"q1": NDCG_Q1, "q2": NDCG_Q2, "q3": 0.0})
    assert NDCG_Q1 == pytest.approx(0.650921, abs=1e-6) and NDCG_Q2 == pytest.approx(0.630930, abs=1e-6)
    assert res.query_scores("mrr@10") == pytest.approx({"q1": 0.5, "q2": 0.5, "q3": 0.0})
    assert res.query_scores("recall@100") == pytest.approx({"q1": 1.0, "q2": 1.0, "q3": 0.0})
    assert res.query_scores("recall@2") == pytest.approx({"q1": 0.5, "q2": 1.0, "q3": 0.0})
    # AP q1 = (1/2 + 2/4) / 2; q2 = (1/2) / 1
    assert res.query_scores("map") == pytest.approx({"q1": 0.5, "q2": 0.5, "q3": 0.0})
    # judged@10: q1 retrieved 5, judged d1 d5 d2; q2 retrieved d8 d3, judged d3; q3 nothing
    assert res.query_scores("judged@10") == pytest.approx({"q1": 0.6, "q2": 0.5, "q3": 0.0})
    assert res.mean["ndcg@10"] == pytest.approx((NDCG_Q1 + NDCG_Q2) / 3)
    assert res.mean["mrr@10"] == pytest.approx(1 / 3)
    assert res.mean["recall@100"] == pytest.approx(2 / 3)
    assert res.mean["judged@10"] == pytest.approx(1.1 / 3)
    assert list(res.mean) == list(res.metrics)


def test_identical_ids_kept_when_asked() -> None:
    res = evaluate_run(QRELS, RUN, ("mrr@10", "ndcg@10"), ignore_identical_ids=False)
    assert res.query_scores("mrr@10")["q2"] == pytest.approx(1 / 3)
    assert res.query_scores("ndcg@10")["q2"] == pytest.approx((2 / math.log2(4)) / 2)


def test_cutoff_limits_mrr_and_ndcg() -> None:
    run = Run({"q1": {f"x{i}": 1.0 - i / 100 for i in range(12)} | {"d1": 0.5}})
    res = evaluate_run(Qrels({"q1": {"d1": 1}}), run, ("mrr@10", "ndcg@10", "recall@100", "mrr@100"))
    assert res.mean == pytest.approx({"mrr@10": 0.0, "ndcg@10": 0.0, "recall@100": 1.0, "mrr@100": 1 / 13})


def test_empty_run_scores_zero() -> None:
    res = evaluate_run(QRELS, Run({}), ("ndcg@10", "judged@5"))
    assert res.mean == {"ndcg@10": 0.0, "judged@5": 0.0}
    assert len(res.query_ids) == 3


def test_single_metric_and_queries_in_id_order() -> None:
    qrels = Qrels({"b": {"d1": 1}, "a": {"d2": 1}, "c": {"d3": 1}})
    run = Run({"c": {"d3": 1.0}, "a": {"d1": 1.0, "d2": 0.5}})
    res = evaluate_run(qrels, run, ("mrr@10",))
    assert res.query_ids == ("a", "b", "c")  # by id, not in qrels order
    assert res.per_query["mrr@10"].tolist() == [0.5, 0.0, 1.0]


def test_bad_metric_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown metric 'ndgc@10'; allowed: .*ndcg"):
        evaluate_run(QRELS, RUN, ("ndgc@10",))
    with pytest.raises(ConfigError, match=r"metric 'judged' needs a cutoff; use e.g. judged@10"):
        evaluate_run(QRELS, RUN, ("judged",))
    with pytest.raises(ConfigError, match=r"bad cutoff 'x'.*ndcg@10"):
        evaluate_run(QRELS, RUN, ("ndcg@x",))


def test_no_relevant_query_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"qrels/test.tsv: field 'score': no query has a relevant judgment"):
        evaluate_run(Qrels({"q": {"d": 0}}, source="qrels/test.tsv"), RUN)


def test_tied_scores_rank_by_doc_id_descending_in_every_metric_and_the_written_file(tmp_path) -> None:
    from negmine.evaluate.run import read_trec_run, write_trec_run

    docs = {"top": 0.9, **{f"d{i:02d}": 0.5 for i in range(40)}}  # 40 tied documents
    run = Run({"q1": docs}, name="ties")
    qrels = Qrels({"q1": {"d35": 1}})
    # trec_eval's order: score descending, then doc id descending -> top, d39, d38, d37, d36, d35 (rank 6)
    assert run.ranked("q1")[:6] == ["top", "d39", "d38", "d37", "d36", "d35"]
    res = evaluate_run(qrels, run, ("ndcg@10", "mrr@10", "map", "recall@5", "judged@10"))
    assert res.mean == pytest.approx({"ndcg@10": 1 / math.log2(7), "mrr@10": 1 / 6, "map": 1 / 6, "recall@5": 0.0,
                                      "judged@10": 0.1})
    path = write_trec_run(tmp_path / "ties.trec", run)
    row = next(line.split() for line in path.read_text().splitlines() if line.split()[2] == "d35")
    assert row[3] == "6"
    assert evaluate_run(qrels, read_trec_run(path), ("ndcg@10", "map")).mean == pytest.approx(
        {"ndcg@10": 1 / math.log2(7), "map": 1 / 6})


def test_bpref_follows_trec_eval_also_without_judged_non_relevant_documents() -> None:
    """ranx divides by min(N, R) when N = 0, so a query without a judged non-relevant document (the demo's, most
    BEIR sets') scored NaN: the demo's BM25 run printed bpref 'nan', starred significant under the Fisher test.
    trec_eval counts 1 for a relevant document with no judged non-relevant one above it."""
    res = evaluate_run(QRELS, RUN, ("bpref",))
    # q1: d1 (rank 2) has no judged non-relevant above it: 1; d2 (rank 4) has d5 above: 1 - min(1, 2) / min(1, 2)
    # q2 (no judged non-relevant): d3 retrieved, 1 / 1; q3 retrieved nothing
    assert res.query_scores("bpref") == pytest.approx({"q1": 0.5, "q2": 1.0, "q3": 0.0})
    assert res.mean["bpref"] == pytest.approx(0.5)


def test_bpref_reads_a_negative_judgment_as_unjudged_as_trec_eval_does() -> None:
    qrels = Qrels({"q1": {"d1": 1, "d2": 1, "dx": -1, "dn": 0}})
    run = Run({"q1": {"dx": 0.9, "d1": 0.8, "dn": 0.7, "d4": 0.6, "d2": 0.5}}, name="hand")
    # dx is skipped (ranx counted it as non-relevant: 0 for d1); d2 has dn above it: 1 - 1 / min(1, 2)
    assert evaluate_run(qrels, run, ("bpref",)).query_scores("bpref") == pytest.approx({"q1": 0.5})


@pytest.mark.parametrize("metric", ["ndcg_burges@10", "dcg_burges"])
def test_a_grade_the_burges_gain_cannot_hold_is_refused(metric) -> None:
    """ranx's 2**grade gain overflowed: ndcg_burges was nan from grade 1024 on (from 1023 with three such
    documents), and at 1000 the t-test on dcg_burges gave p = 1.0 and an infinite confidence interval."""
    run = Run({"q1": {"d1": 2.0, "d2": 1.0}}, "r")
    assert evaluate_run(Qrels({"q1": {"d1": 100, "d2": 3}}, source="mem"), run, [metric]).mean[metric] > 0
    with pytest.raises(InputError) as caught:
        evaluate_run(Qrels({"q1": {"d1": 1, "d2": 1024}}, source="mem"), run, ["ndcg@10", metric])
    assert str(caught.value) == (
        f"mem: field 'score': relevance grade 1024 (query 'q1', document 'd2') is above 100, the largest metric "
        f"{metric!r} takes: its gain 2**grade leaves a float's range (nan or inf scores); use ndcg or dcg (linear gain, "
        "any grade) or map the grades to 0-100")
    scores = evaluate_run(Qrels({"q1": {"d1": 1, "d2": 1024}}, source="mem"), run, ["ndcg@10", "dcg"]).mean
    assert all(math.isfinite(v) for v in scores.values())
