from __future__ import annotations

from negmine.evaluate.coverage import coverage_note


def _coverage(**counts) -> dict:
    record = {"source": "r.trec", "evaluated_queries": 20, "missing": 0, "missing_examples": [], "unknown": 0,
              "unknown_examples": [], "not_evaluated": 0, "not_evaluated_examples": [], "identical_ids": 0,
              "depth": 10, "deepest_other": 10, "shallow_metrics": []}
    return {**record, **counts}


def test_a_count_of_one_reads_in_the_singular() -> None:
    """The line read '1 of the 20 evaluated queries are missing (each scores 0; e.g. q001); 1 query ids are not in the
    queries file and were ignored (e.g. q999)'."""
    note = coverage_note("r", _coverage(missing=1, missing_examples=["q1"], unknown=1, unknown_examples=["x"],
                                        not_evaluated=1, not_evaluated_examples=["t1"], identical_ids=1, depth=1,
                                        deepest_other=100, shallow_metrics=["map"]))
    assert note == ("run r (r.trec): 1 of the 20 evaluated queries is missing (it scores 0; q1); 1 query id is not in the "
                    "queries file and was ignored (x); 1 query is not evaluated in this split (another split's, or no "
                    "relevant judgment) and was ignored (t1); 1 row retrieves its own query id and was dropped (as "
                    "BEIR); it ranks at most 1 document per query, another run 100: map looks past rank 1, where its "
                    "documents score as not retrieved, so it compares depths, not rankings; compare runs of equal "
                    "depth, or give --metrics whose cutoffs are at most 1")


def test_larger_counts_read_in_the_plural() -> None:
    note = coverage_note("r", _coverage(missing=5, missing_examples=["q1", "q2", "q3"], unknown=2,
                                        unknown_examples=["x", "y"], not_evaluated=2, not_evaluated_examples=["t1", "t2"],
                                        identical_ids=3, depth=2, shallow_metrics=["recall@5", "map"]))
    assert note == ("run r (r.trec): 5 of the 20 evaluated queries are missing (each scores 0; e.g. q1, q2, q3); 2 query "
                    "ids are not in the queries file and were ignored (e.g. x, y); 2 queries are not evaluated in this "
                    "split (another split's, or no relevant judgment) and were ignored (e.g. t1, t2); 3 rows retrieve "
                    "their own query id and were dropped (as BEIR); it ranks at most 2 documents per query, another run "
                    "10: recall@5, map look past rank 2, where its documents score as not retrieved, so they compare "
                    "depths, not rankings; compare runs of equal depth, or give --metrics whose cutoffs are at most 2")


def test_a_run_covering_the_split_has_no_line() -> None:
    assert coverage_note("r", _coverage()) == ""
