from __future__ import annotations

import numpy as np

from negmine.audit.items import item_from_row
from negmine.audit.judges.score_rule import ScoreJudge

from ..conftest import sample_rows


def test_relative_margin_flags_candidates_within_5_percent_of_the_positive():
    item = item_from_row(sample_rows()[0])  # positive 0.80, negatives 0.70 0.30 0.40 0.10
    j = ScoreJudge(relative_margin=0.1).judge([item])[0]  # threshold 0.72
    assert j.flags.tolist() == [False, False, False, False]
    j = ScoreJudge(relative_margin=0.15).judge([item])[0]  # threshold 0.68
    assert j.flags.tolist() == [True, False, False, False]
    assert "relative margin 0.15" in j.reasons[0] and j.reasons[1] == ""
    assert np.allclose(j.evidence["margin_to_positive"], [0.1, 0.5, 0.4, 0.7])


def test_absolute_margin_and_candidates_above_the_positive():
    item = item_from_row(sample_rows()[2])  # positive 0.20, negatives 0.90 0.85 0.05
    j = ScoreJudge(relative_margin=None, absolute_margin=0.2).judge([item])[0]
    assert j.flags.tolist() == [True, True, True]
    j = ScoreJudge(relative_margin=0.05).judge([item])[0]
    assert j.flags.tolist() == [True, True, False]
    assert j.relevance == {}
