from __future__ import annotations

from negmine.pipeline.select_pairs import SelectionStats
from negmine.pipeline.summary import build_summary, format_skipped_qrels, format_summary

REPORT = {"policy": "skip", "skipped": 4, "relevant_skipped": 3, "example_ids": ["d9", "d8"],
          "queries_without_positive": 2, "example_queries": ["q1", "q2"]}


def test_skipped_qrels_lines_give_counts_and_examples():
    assert format_skipped_qrels(REPORT) == [
        "  qrels rows skipped 4 (3 relevant): document not in the corpus, e.g. 'd9', 'd8'",
        "  queries left without a positive 2: no pair, e.g. 'q1', 'q2'",
    ]
    assert format_skipped_qrels({**REPORT, "queries_without_positive": 0}) == [format_skipped_qrels(REPORT)[0]]


def test_nothing_skipped_prints_nothing():
    assert format_skipped_qrels({**REPORT, "skipped": 0}) == [] == format_skipped_qrels({})


def test_format_summary_shows_skipped_rows_under_the_pair_counts():
    summary = build_summary(SelectionStats(), {"load": 0.1}, {"unknown_qrels": REPORT})
    lines = format_summary(summary).splitlines()
    assert lines[0] == "pairs: 0 in, 0 out"
    assert lines[1].startswith("  qrels rows skipped 4 (3 relevant)")
