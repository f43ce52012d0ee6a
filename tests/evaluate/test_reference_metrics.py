"""Every metric ``evaluate_run`` reports against an independent reference written from trec_eval's C sources
(``form_res_rels.c``: score descending, ties by ``strcmp`` of the doc ids descending; ``m_ndcg_cut.c``: linear
gain of grades > 0, log2(rank + 1) discount; ``m_bpref.c``; relevant = grade >= 1), on random qrels and runs
that hold what real ones do: graded and grade-0 rows, negative grades, queries without a relevant document,
evaluated queries the run lacks, run queries outside the qrels, many tied scores and documents whose id is the
query's (dropped, as BEIR's ``ignore_identical_ids``). judged@k follows ir_measures' ``Judged@k``.
"""

from __future__ import annotations

import math
import random

import pytest

from negmine.evaluate.metrics import evaluate_run
from negmine.evaluate.run import Run
from negmine.io.records import Qrels

METRICS = ("ndcg@5", "ndcg@10", "ndcg_burges@10", "dcg@10", "dcg_burges@5", "mrr@10", "mrr", "recall@20",
           "precision@10", "map", "map@10", "hits@10", "hit_rate@5", "r-precision", "f1@10", "bpref", "judged@10")


def _ranking(docs: dict[str, float], query_id: str, ascending_ties: bool = False) -> list[str]:
    kept = [(d, s) for d, s in docs.items() if d != query_id]
    kept.sort(key=lambda item: item[0], reverse=not ascending_ties)  # stable: the score sort keeps this order
    kept.sort(key=lambda item: item[1], reverse=True)
    return [d for d, _ in kept]


def _dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains) if g > 0)


def _reference(judged: dict[str, int], ranked: list[str], metric: str) -> float:
    name, _, cut = metric.partition("@")
    k = int(cut) if cut else len(ranked)
    grades = [judged.get(d) for d in ranked]
    rel = [g is not None and g >= 1 for g in grades]
    n_rel = sum(g >= 1 for g in judged.values())
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)
    gain = (lambda g: 2.0 ** g - 1) if name.endswith("_burges") else float
    if name in ("ndcg", "ndcg_burges", "dcg", "dcg_burges"):
        dcg = _dcg([gain(g) if g else 0.0 for g in grades[:k]])
        return dcg if name.startswith("dcg") else dcg / _dcg([gain(g) for g in ideal[:k]])
    hits = sum(rel[:k])
    if name == "mrr":
        return next((1 / (i + 1) for i, r in enumerate(rel[:k]) if r), 0.0)
    if name in ("recall", "precision", "hits", "hit_rate", "f1"):
        p, r = hits / k, hits / n_rel
        return {"recall": r, "precision": p, "hits": float(hits), "hit_rate": float(hits > 0),
                "f1": 2 * p * r / (p + r) if hits else 0.0}[name]
    if name == "map":
        return sum(sum(rel[:i + 1]) / (i + 1) for i in range(min(k, len(rel))) if rel[i]) / n_rel
    if name == "r-precision":
        return sum(rel[:n_rel]) / n_rel
    if name == "judged":
        return sum(d in judged for d in ranked[:k]) / min(k, len(ranked)) if ranked else 0.0
    n_nonrel, above, total = sum(g == 0 for g in judged.values()), 0, 0.0  # bpref
    for g in grades:
        if g is not None and g == 0:
            above += 1
        elif g is not None and g >= 1:
            total += 1 - min(above, n_rel) / min(n_nonrel, n_rel) if above else 1.0
    return total / n_rel


def _random_case(seed: int) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    rng = random.Random(seed)
    queries = [f"q{i:02d}" for i in range(40)]
    pool = [f"d{i:02d}" for i in range(60)] + queries[:8]  # some documents share a query's id
    qrels, run = {}, {}
    for i, q in enumerate(queries):
        grades = [0, 0, 0, -1] if i % 9 == 4 else [-1, 0, 0, 1, 1, 2, 3]  # every 9th: nothing relevant
        qrels[q] = {d: rng.choice(grades) for d in rng.sample(pool, rng.randint(1, 12))}
        if i % 11 != 7:  # every 11th evaluated query is missing from the run
            run[q] = {d: rng.choice((0.5, 1.0, 1.5, 2.0, 2.5)) for d in rng.sample(pool, rng.randint(1, 30))}
    run["extra"] = {"d01": 1.0}  # outside the qrels: ignored
    return qrels, run


@pytest.mark.parametrize("seed", range(6))
def test_every_metric_matches_a_trec_eval_reference(seed) -> None:
    qrels, run = _random_case(seed)
    res = evaluate_run(Qrels(qrels), Run(run), METRICS)
    evaluated = sorted(q for q, judged in qrels.items() if any(g >= 1 for g in judged.values()))
    assert list(res.query_ids) == evaluated
    for metric in METRICS:
        expected = {q: _reference(qrels[q], _ranking(run.get(q, {}), q), metric) for q in evaluated}
        assert res.query_scores(metric) == pytest.approx(expected, abs=1e-12), metric


def test_the_random_cases_hold_ties_that_decide_scores() -> None:
    """Ranking tied documents by doc id ascending, or keeping a query's own id, changes the reference: the cases
    above test the tie order and the identical-id rule, not only the formulas."""
    qrels, run = _random_case(0)
    evaluated = [q for q, judged in qrels.items() if any(g >= 1 for g in judged.values())]

    def mean(rank) -> float:
        return sum(_reference(qrels[q], rank(q), "ndcg@10") for q in evaluated)

    trec = mean(lambda q: _ranking(run.get(q, {}), q))
    assert mean(lambda q: _ranking(run.get(q, {}), q, ascending_ties=True)) != pytest.approx(trec, abs=1e-9)
    with_self = mean(lambda q: _ranking(run.get(q, {}), query_id=""))  # no id is "": nothing dropped
    assert with_self != pytest.approx(trec, abs=1e-9)
