"""The other-positives pilot (benchmarks/other_positives.py): a row's negatives that another query of the file judges
relevant move after the rest, its own positives and queries outside the file do not count."""

from __future__ import annotations


def _row(query_id: str, negative_ids: list[str]) -> dict:
    return {"query_id": query_id, "negative_ids": negative_ids, "negatives": [f"text {d}" for d in negative_ids],
            "negative_scores": [0.9 - 0.1 * i for i in range(len(negative_ids))],
            "negative_ranks": list(range(1, len(negative_ids) + 1))}


def test_negatives_another_query_judges_relevant_move_back_with_their_scores(import_benchmark):
    pilot = import_benchmark("other_positives")
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1, "d4": 1, "d9": 0}, "held-out": {"d3": 1}}
    rows = [_row("q1", ["d2", "d3", "d4", "d5", "d1"]), _row("q2", ["d1", "d9", "d5", "d6", "d7"])]
    out, stats = pilot.rewrite(rows, qrels, used=3)
    # q1: d2 and d4 are q2's positives; d3 is a query's outside the file; d1 is its own (never another's)
    assert out[0]["negative_ids"] == ["d3", "d5", "d1", "d2", "d4"]
    assert out[0]["negatives"] == ["text d3", "text d5", "text d1", "text d2", "text d4"]
    assert out[0]["negative_scores"] == [rows[0]["negative_scores"][i] for i in (1, 3, 4, 0, 2)]
    assert out[0]["negative_ranks"] == [2, 4, 5, 1, 3]
    # q2: d1 is q1's positive; d9 is judged 0 (not relevant), so it stays
    assert out[1]["negative_ids"] == ["d9", "d5", "d6", "d7", "d1"]
    assert stats == {"rows": 2, "rows_changed": 2, "other_positives_used_before": 3, "other_positives_used_after": 0,
                     "rows_still_holding_one": 0}


def test_a_row_with_too_few_free_negatives_keeps_the_first_other_positives(import_benchmark):
    pilot = import_benchmark("other_positives")
    rows = [_row("q1", ["d2", "d5", "d4"]), _row("q2", ["d6", "d7", "d8"])]
    out, stats = pilot.rewrite(rows, {"q1": {"d1": 1}, "q2": {"d2": 1, "d4": 1}}, used=2)
    assert out[0]["negative_ids"] == ["d5", "d2", "d4"] and out[1] == rows[1]
    assert stats["rows_changed"] == 1 and stats["rows_still_holding_one"] == 1
    assert stats["other_positives_used_before"] == 1 and stats["other_positives_used_after"] == 1


def test_first_puts_another_querys_positives_before_the_rest(import_benchmark):
    pilot = import_benchmark("other_positives")
    rows = [_row("q1", ["d5", "d2", "d6", "d4", "d7"]), _row("q2", ["d6", "d7", "d8"])]
    out, stats = pilot.rewrite(rows, {"q1": {"d1": 1}, "q2": {"d2": 1, "d4": 1}}, used=3, first=True)
    assert out[0]["negative_ids"] == ["d2", "d4", "d5", "d6", "d7"] and out[1] == rows[1]
    assert out[0]["negative_ranks"] == [2, 4, 1, 3, 5]
    assert stats["other_positives_used_before"] == 1 and stats["other_positives_used_after"] == 2
    assert stats["rows_still_holding_one"] == 1 and stats["rows_changed"] == 1
