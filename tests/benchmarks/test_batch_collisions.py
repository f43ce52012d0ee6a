"""The counts ``benchmarks/batch_collisions.py`` gives the README, on hand-built queries: which in-batch negative
is a positive of the example's own query, and through whose record it came."""

from __future__ import annotations

import random

import pytest


@pytest.fixture(scope="module")
def bench(import_benchmark):
    return import_benchmark("batch_collisions")


def test_sources_of_an_own_positive_among_the_in_batch_negatives(bench):
    E = bench.Example
    positives = {"qa": frozenset({"A1", "A2"}), "qb": frozenset({"B"}), "qc": frozenset({"C"})}
    batch = [E("qa", ("A1", "n1")), E("qa", ("A2", "n2")), E("qb", ("B", "A2")), E("qc", ("C", "n3")),
             E("qc", ("C", "C"))]
    sources = bench.collision_sources(batch, positives)
    # qa's records meet each other's positive (same query) and A2 as qb's mined negative (another query's)
    assert sources[0] == sources[1] == {bench.SAME, bench.OTHER}
    assert sources[2] == set()  # A2 is qa's positive, not qb's: qb's own negative costs qb nothing
    assert sources[3] == {bench.SAME}  # the other qc record's C: a copy of its own target positive
    assert sources[4] == {bench.OWN, bench.SAME}  # its own target slot never counts, its negative C does
    counts = bench.tally([batch, batch[:2]], positives)  # alone together, qa's records meet through each other only
    assert counts == {"steps": 7, "met": 6, bench.OWN: 1, bench.SAME: 6, bench.OTHER: 2}


def test_the_flagembedding_draw_repeats_negatives_only_when_there_are_too_few(bench):
    few = bench.FeRecord("q", ("P1", "P2"), ("n1", "n2"))
    many = bench.FeRecord("q", ("P1",), ("n1", "n2", "n3", "n4"))
    rng = random.Random(0)
    for _ in range(50):
        drawn = bench.fe_example(few, 4, rng).passages
        assert drawn[0] in {"P1", "P2"} and len(drawn) == 4 and set(drawn[1:]) == {"n1", "n2"}
        drawn = bench.fe_example(many, 4, rng).passages
        assert drawn[0] == "P1" and len(set(drawn[1:])) == 3


def row(qid, pos_id, pos_score, negs):
    return {"query_id": qid, "query": qid, "positive_id": pos_id, "positive": pos_id, "positive_score": pos_score,
            "negative_ids": [d for d, _ in negs], "negatives": [d for d, _ in negs],
            "negative_scores": [s for _, s in negs]}


def test_negatives_left_out_of_a_query_record_and_negatives_that_are_another_querys_positive(bench):
    rows = [row("q1", "p1", 9.0, [("d1", 8.0), ("d2", 3.5), ("d3", 2.0)]),  # the strong positive's row
            row("q1", "p2", 4.0, [("d3", 2.0), ("d4", 3.0)]),  # bound: 3.0, its hardest negative
            row("q2", "p3", 7.0, [("p1", 6.0), ("d1", 1.0)])]
    # d1 (8.0) and d2 (3.5) score above 3.0 and are left out; d1 alone outscores the weakest positive (4.0)
    assert bench.left_out_above_bound(rows) == {"left_out": 2, "of_them_above_weakest_positive": 1}
    assert bench.negatives_that_are_other_positives(rows) == 1  # p1, q1's positive, mined for q2
    assert bench.query_positives(rows) == {"q1": frozenset({"p1", "p2"}), "q2": frozenset({"p3"})}
