from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from negmine.audit.items import item_from_row
from negmine.audit.judges.score_rule import ScoreJudge

from ..conftest import sample_rows


def test_relative_margin_flags_candidates_within_5_percent_of_the_positive():
    item = item_from_row(sample_rows()[0])  # positive 0.80, negatives 0.70 0.30 0.40 0.10
    j = ScoreJudge(relative_margin=0.1, sd_margin=None).judge([item])[0]  # threshold 0.72
    assert j.flags.tolist() == [False, False, False, False]
    j = ScoreJudge(relative_margin=0.15, sd_margin=None).judge([item])[0]  # threshold 0.68
    assert j.flags.tolist() == [True, False, False, False]
    assert "relative margin 0.15" in j.reasons[0] and j.reasons[1] == ""
    assert np.allclose(j.evidence["margin_to_positive"], [0.1, 0.5, 0.4, 0.7])


def test_absolute_margin_and_candidates_above_the_positive():
    item = item_from_row(sample_rows()[2])  # positive 0.20, negatives 0.90 0.85 0.05
    j = ScoreJudge(absolute_margin=0.2, sd_margin=None).judge([item])[0]
    assert j.flags.tolist() == [True, True, True]
    j = ScoreJudge(relative_margin=0.05, sd_margin=None).judge([item])[0]
    assert j.flags.tolist() == [True, True, False]
    assert j.relevance == {}


def test_the_default_sd_margin_uses_the_rows_pool_spread_not_the_negatives_own():
    row = sample_rows()[0]  # positive 0.80, negatives 0.70 0.30 0.40 0.10
    item = item_from_row({**row, "candidate_score_sd": 0.25})  # threshold 0.8 - 0.125 = 0.675
    j = ScoreJudge().judge([item])[0]
    assert j.flags.tolist() == [True, False, False, False]
    assert "sd margin 0.5 x pool sd 0.2500 = 0.1250" in j.reasons[0]
    # the four negatives alone have sd 0.217: a judge computing its own spread would flag 0.70 (threshold 0.692)
    narrow = ScoreJudge().judge([replace(item, score_sd=0.1)])[0]  # threshold 0.75
    assert narrow.flags.tolist() == [False, False, False, False]
    assert ScoreJudge(sd_margin=1.5).judge([replace(item, score_sd=0.1)])[0].flags.tolist() == [True, False, False, False]


def test_margins_combine_and_a_missing_spread_is_a_clear_error():
    item = item_from_row(sample_rows()[0])  # candidate_score_sd 0.1: sd threshold 0.75
    both = ScoreJudge(relative_margin=0.15).judge([item])[0]  # relative threshold 0.68 flags 0.70
    assert both.flags.tolist() == [True, False, False, False]
    assert "sd margin 0.5" in both.reasons[0] and "relative margin 0.15" in both.reasons[0]
    bare = replace(item, score_sd=None)
    with pytest.raises(ValueError, match=r"pair \(q1, p1\): the score judge's sd margin needs the spread .* "
                                         r"candidate_score_sd.* JudgeConfig\(sd_margin=None, relative_margin=0.05\) \(--no-sd-margin --relative-margin 0.05;"):
        ScoreJudge().judge([bare])
    assert ScoreJudge(relative_margin=0.05, sd_margin=None).judge([bare])[0].flags.tolist() == [False] * 4


def test_rows_mined_from_the_lowest_positive_are_judged_from_their_margin_score():
    """A row of ``mine --margin-from lowest-positive`` carries ``margin_score``: the judge re-checks the margin
    the mining applied (from the query's lowest positive), not a laxer one from the row's own positive."""
    row = sample_rows()[0]  # positive 0.80, negatives 0.70 0.30 0.40 0.10
    own = ScoreJudge(absolute_margin=0.05, sd_margin=None).judge([item_from_row(row)])[0]  # threshold 0.75
    assert own.flags.tolist() == [False, False, False, False]
    lowest = item_from_row({**row, "margin_score": 0.5})  # a sibling positive scored 0.5: threshold 0.45
    j = ScoreJudge(absolute_margin=0.05, sd_margin=None).judge([lowest])[0]
    assert j.flags.tolist() == [True, False, False, False]
    assert "breaks the margin to the query's lowest positive's 0.5000" in j.reasons[0]
    assert np.allclose(j.evidence["margin_to_positive"], [0.1, 0.5, 0.4, 0.7]), "evidence stays the row's own"


def test_a_candidate_scored_exactly_at_the_threshold_is_flagged_whatever_its_float32_rounding():
    """``s_c >= s_p - m``: a candidate with the positive's own score (a copy of it under another id) is flagged with
    margin 0. The judge cast the file's negative scores, not the positive's, to float32: 0.7 became 0.69999999 and
    went unflagged, 0.6 became 0.60000002 and was flagged."""
    for score in (0.7, 0.6, 0.3, -0.7):
        row = {**sample_rows()[0], "positive_score": score, "negative_scores": [score, score - 0.2, score - 0.3, -0.9],
               "candidate_score_sd": 0.1}
        item = item_from_row(row)
        assert ScoreJudge(absolute_margin=0.0, sd_margin=None).judge([item])[0].flags.tolist()[:2] == [True, False]
        assert ScoreJudge(sd_margin=0.0).judge([item])[0].flags.tolist()[:2] == [True, False], score
