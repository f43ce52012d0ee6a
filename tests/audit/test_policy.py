from __future__ import annotations

import numpy as np

from negmine.audit.findings import find
from negmine.audit.items import item_from_row
from negmine.audit.judges.base import Judgement
from negmine.audit.policy import QueryFalseNegatives, RowVerdict, apply_policy, flag_records, sibling_false_negatives
from negmine.config import JudgeConfig
from negmine.export.native import validate_row

from .conftest import sample_rows


def findings_for(row, flags, relevance=None):
    flags = np.asarray(flags, dtype=bool)
    j = Judgement("teacher", flags, tuple("agrees" if f else "" for f in flags),
                  {"teacher:t": np.linspace(0.9, 0.6, len(flags))}, relevance or {})
    return find(item_from_row(row), [j], JudgeConfig())


def test_drop_removes_flagged_negatives_and_lists_their_ids():
    row = sample_rows()[0]
    out = apply_policy(row, findings_for(row, [1, 0, 0, 0]), "drop", "drop")
    validate_row(out)
    assert out["negative_ids"] == ["n-coffee", "n-sib", "n-battery"]
    assert out["negative_scores"] == [0.3, 0.4, 0.1] and out["negative_ranks"] == [3, 4, 5]
    assert out["false_negative_ids"] == ["n-copy"] and "extra_positive_ids" not in out
    assert "negative_flags" not in out and out["confidence"] == 1.0


def test_promote_moves_flagged_negatives_to_extra_positives():
    row = sample_rows()[0]
    out = apply_policy(row, findings_for(row, [1, 0, 1, 0]), "promote", "drop")
    assert out["negative_ids"] == ["n-coffee", "n-battery"]
    assert out["extra_positive_ids"] == ["n-copy", "n-sib"] and "false_negative_ids" not in out


def test_mark_keeps_everything_with_parallel_flags():
    row = sample_rows()[0]
    out = apply_policy(row, findings_for(row, [0, 1, 0, 0]), "mark", "drop")
    validate_row(out)
    assert out["negative_ids"] == row["negative_ids"]
    assert out["negative_flags"] == [None, "false_negative", None, None]
    assert out["false_negative_ids"] == ["n-coffee"]


def test_the_mining_spread_and_margin_score_survive_every_policy():
    row = {**sample_rows()[0], "candidate_score_sd": 0.2, "margin_score": 0.6}
    for policy in ("drop", "promote", "mark"):
        out = apply_policy(row, findings_for(row, [1, 0, 0, 0]), policy, "drop")
        assert (out["candidate_score_sd"], out["margin_score"]) == (0.2, 0.6), policy


def test_noisy_positive_drop_and_mark():
    row = sample_rows()[0]
    noisy = findings_for(row, [0, 0, 0, 0], {"teacher:t": (0.0, np.array([0.9, 0.8, 0.7, 0.6]))})
    assert noisy.noisy_positive
    assert apply_policy(row, noisy, "drop", "drop") is None
    kept = apply_policy(row, noisy, "drop", "mark")
    assert kept["negative_ids"] == row["negative_ids"] and kept["confidence"] == 0.5


def test_flag_records_carry_scores_reasons_and_texts():
    row = sample_rows()[0]
    noisy = findings_for(row, [1, 0, 0, 0], {"teacher:t": (0.0, np.array([0.9, 0.8, 0.7, 0.6]))})
    records = flag_records(noisy, "mark", "drop")
    fn, pos = records
    assert fn["kind"] == "false_negative" and fn["doc_id"] == "n-copy" and fn["action"] == "mark"
    assert fn["scores"]["model"] == 0.7 and fn["scores"]["model:positive"] == 0.8
    assert fn["scores"]["teacher:t"] == 0.9 and fn["scores"]["teacher:t:positive"] == 0.0
    assert fn["reasons"] == ["teacher: agrees"] and fn["doc"] == row["negatives"][0]
    assert pos["kind"] == "noisy_positive" and pos["doc_id"] == "p1" and pos["action"] == "drop"
    assert pos["scores"]["positive_rank:teacher:t"] == 5
    assert flag_records(noisy, "drop", None)[-1]["kind"] == "false_negative", "no positive record without action"


def test_a_query_s_false_negatives_found_in_a_sibling_row_get_the_policy_too():
    row = sample_rows()[1]  # q1 / p2: n-coffee, n-battery; judged clean itself
    own = RowVerdict.of(findings_for(row, [0, 0]))
    found = QueryFalseNegatives()
    found.add("q1", RowVerdict(("n-copy", "n-battery"), False, 1.0))  # p1's row flagged these
    found.add("q1", own)
    out = apply_policy(row, own, "promote", "drop", found.of("q1"))
    assert out["negative_ids"] == ["n-coffee"] and out["extra_positive_ids"] == ["n-battery"]
    assert sibling_false_negatives(row, own, found.of("q1")) == 1
    assert list(found.of("q2")) == [] and apply_policy(row, own, "drop", "drop", found.of("q2")) == apply_policy(
        row, findings_for(row, [0, 0]), "drop", "drop")
