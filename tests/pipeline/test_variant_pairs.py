from __future__ import annotations

import pytest

from negmine.errors import NegmineWarning
from negmine.io.records import Dataset, Pair, Qrels, TextTable
from negmine.pipeline.variant_pairs import MinedRepeats, variant_pairs, warn_variant_pairs


def _dataset(queries: dict, docs: dict, judgments: dict) -> Dataset:
    return Dataset(TextTable(list(docs), list(docs.values())), TextTable(list(queries), list(queries.values())),
                   Qrels(judgments, source="pairs.csv"))


def test_pairs_equal_after_normalisation_are_found_with_the_pair_they_repeat():
    """An own-data file held 'Long-term ...' beside 'LONG-TERM ...' with a re-typed positive: mined and trained as
    two pairs, and nothing said so."""
    data = _dataset(
        {"q1": "Long-term exposure raises mortality.", "q2": "LONG-TERM  exposure raises mortality", "q3": "Other?"},
        {"d1": "In a cohort of adults.", "d2": "IN A COHORT\nOF ADULTS", "d3": "In a cohort of children.",
         "d4": "in a cohort of adults"},
        {"q1": {"d1": 1, "d3": 1, "d4": 0}, "q2": {"d2": 2}, "q3": {"d1": 1}},
    )
    assert variant_pairs(data) == [(Pair("q2", "d2"), Pair("q1", "d1"))], "d4 is judged not relevant; q3 differs"
    with pytest.warns(NegmineWarning) as caught:
        assert warn_variant_pairs(data) == 1
    assert str(caught[0].message) == (
        "pairs.csv: 1 (query, positive) pairs repeat an earlier pair up to case, spacing or invisible characters, "
        "e.g. (q2, d2) repeats (q1, d1); each is mined and trained as a pair of its own, so the pair counts twice: "
        "keep one of them unless that is meant"
    )


def test_distinct_pairs_give_no_warning(recwarn):
    data = _dataset({"q1": "a query", "q2": "another query"}, {"d1": "doc one", "d2": "doc two"},
                    {"q1": {"d1": 1, "d2": 1}, "q2": {"d1": 1}})
    assert warn_variant_pairs(data) == 0
    assert not [w for w in recwarn if issubclass(w.category, NegmineWarning)]


def test_mined_repeats_counts_the_rows_written_that_repeat_an_earlier_row_written():
    """The summary's ``pairs_repeating_another`` was the warning's count, made before selection: a repeating pair
    that selection skipped was counted "among the pairs mined". Of q1, q2, q3 (one pair up to case and spacing)
    with q1 skipped, q3 repeats the row of q2; q4 repeats nothing; d2 under q1 is another positive."""
    data = _dataset(
        {"q1": "Long-term exposure", "q2": "LONG-TERM  exposure", "q3": "long-term exposure", "q4": "Other?"},
        {"d1": "In a cohort.", "d2": "Another cohort."},
        {"q1": {"d1": 1, "d2": 1}, "q2": {"d1": 1}, "q3": {"d1": 1}, "q4": {"d1": 1}},
    )
    assert len(variant_pairs(data)) == 2, "before selection q2 and q3 repeat q1"
    written = [{"query_id": q, "positive_id": d} for q, d in [("q1", "d2"), ("q2", "d1"), ("q3", "d1"), ("q4", "d1")]]
    repeats = MinedRepeats(variant_pairs(data))
    assert list(repeats.written(iter(written))) == written and repeats.count == 1
    alone = MinedRepeats(variant_pairs(data))
    assert list(alone.written(iter(written[:2]))) == written[:2] and alone.count == 0, "q3 skipped: none twice"
