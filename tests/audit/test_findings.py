from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from negmine.audit.findings import find
from negmine.audit.items import item_from_row
from negmine.audit.judges.base import Judgement
from negmine.config import JudgeConfig

from .conftest import native_row


def judgement(name, flags, relevance=None):
    flags = np.asarray(flags, dtype=bool)
    return Judgement(name, flags, tuple("why" if f else "" for f in flags), {}, relevance or {})


def item(pos=0.5, scores=(0.4, 0.3, 0.2, 0.1)):
    return item_from_row(native_row("q", "query", "p", "positive", pos, [(f"n{i}", f"doc {i}", s) for i, s in enumerate(scores)]))


def test_votes_and_min_votes():
    a, b = judgement("a", [1, 1, 0, 0]), judgement("b", [1, 0, 0, 0])
    f = find(item(), [a, b], JudgeConfig(judges=("score", "near-duplicate"), min_votes=1))
    assert f.votes.tolist() == [2, 1, 0, 0] and f.false_negative.tolist() == [True, True, False, False]
    f = find(item(), [a, b], JudgeConfig(judges=("score", "near-duplicate"), min_votes=2))
    assert f.false_negative.tolist() == [True, False, False, False]
    assert f.reasons(0) == ["a: why", "b: why"]


def test_positive_below_most_negatives_under_a_judge_is_noisy():
    teacher = judgement("teacher", [0, 0, 0, 0], {"teacher:t": (0.2, np.array([0.9, 0.8, 0.7, 0.1]))})
    f = find(item(), [teacher], JudgeConfig())
    assert f.positive_ranks == {"model": 1, "teacher:t": 4}
    assert f.positive_below["teacher:t"] == pytest.approx(0.75)
    assert f.noisy_positive and f.noisy_reasons == ("teacher:t: positive scores below 3 of 4 negatives",)
    assert f.confidence == pytest.approx((1.0 + 0.25) / 2)


def test_positive_below_its_one_negative_counts_it_in_the_singular():
    """'below 1 of 1 negatives' until 2026-12-07."""
    teacher = judgement("teacher", [0], {"teacher:t": (0.2, np.array([0.9]))})
    f = find(item(scores=(0.4,)), [teacher], JudgeConfig())
    assert f.noisy_reasons == ("teacher:t: positive scores below 1 of 1 negative",)


def test_positive_outside_top_k_is_noisy():
    scores = tuple([0.9] * 3 + [0.1] * 9)
    f = find(item(0.5, scores), [], JudgeConfig(positive_top_k=3, positive_below_share=0.9))
    assert f.positive_ranks["model"] == 4 and f.noisy_positive
    assert "ranks 4 among its 13 candidates, outside the top 3" in f.noisy_reasons[0]
    assert f.confidence == pytest.approx(9 / 12)
    f = find(item(0.5, scores), [], JudgeConfig(positive_top_k=4, positive_below_share=0.9))
    assert not f.noisy_positive and f.noisy_reasons == ()


def test_min_sources_requires_several_scorers_to_agree():
    teacher = judgement("teacher", [0, 0, 0, 0], {"teacher:t": (0.0, np.array([0.9, 0.8, 0.7, 0.1]))})
    f = find(item(), [teacher], JudgeConfig(positive_min_sources=2))
    assert not f.noisy_positive and len(f.noisy_reasons) == 1


@pytest.mark.parametrize("judges, teachers, allowed", [
    (("score", "near-duplicate"), (), 1), (("score", "teacher"), ("t1", "t2"), 3), (("cross-encoder",), (), 2),
])
def test_more_min_sources_than_scorers_is_refused_before_any_model_loads(tmp_path, judges, teachers, allowed):
    """Before, --positive-min-sources 2 with the default judges (one scorer, the mining model) ran and silently
    flagged no noisy positive (demo file mined without margins: 0 instead of 2)."""
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig
    from negmine.errors import ConfigError

    config = JudgeConfig(judges=judges, teachers=teachers, cross_encoder="ce" if "cross-encoder" in judges else None,
                         positive_min_sources=allowed + 1)
    # the fields by their path in the AuditConfig (before, bare: positive_min_sources, teachers, cross_encoder)
    with pytest.raises(ConfigError, match=rf"^judges\.positive_min_sources {allowed + 1} is more than the {allowed} "
                                          rf"scorer\(s\).*use judges\.positive_min_sources \(--positive-min-sources\) "
                                          rf"between 1 and {allowed}, or add scorers: judges\.teachers \(--teacher\) / "
                                          r"judges\.cross_encoder \(--cross-encoder\)$"):
        run_audit(AuditConfig(input=tmp_path / "missing.jsonl", judges=config, flags=tmp_path / "f.flags.jsonl"))
    from negmine.audit.findings import check_min_sources

    check_min_sources(replace(config, positive_min_sources=allowed), judges)  # the largest allowed passes


def test_boundaries_a_tie_is_not_above_the_positive_and_half_below_is_not_more_than_half():
    """A candidate scoring exactly the positive's score does not outrank it; below exactly
    ``positive_below_share`` of the candidates is not noisy (it must be more)."""
    f = find(item(0.3), [], JudgeConfig())  # candidates 0.4, 0.3 (tie), 0.2, 0.1
    assert f.positive_ranks["model"] == 2 and f.positive_below["model"] == 0.25
    f = find(item(0.25), [], JudgeConfig(positive_below_share=0.5))  # below 2 of 4
    assert f.positive_below["model"] == 0.5 and not f.noisy_positive and f.noisy_reasons == ()


def test_a_row_without_candidates_has_full_confidence():
    f = find(item(scores=()), [], JudgeConfig())
    assert f.positive_ranks == {"model": 1} and f.positive_below == {"model": 0.0}
    assert f.confidence == 1.0 and not f.noisy_positive


def test_too_many_min_sources_names_the_scorers_of_the_judges():
    from negmine.audit.findings import check_min_sources
    from negmine.errors import ConfigError

    config = JudgeConfig(judges=("score", "teacher"), teachers=("t1",), positive_min_sources=3)
    with pytest.raises(ConfigError, match=r"the 2 scorer\(s\) of these judges \(the mining model, each teacher\),"):
        check_min_sources(config, config.judges)
    with pytest.raises(ConfigError, match=r"the 1 scorer\(s\) of these judges \(the mining model\),"):
        check_min_sources(replace(config, judges=("score",)), ("score",))


def test_a_labelled_positive_among_the_candidates_is_no_finding_and_not_ranked_above_the_positive():
    """A file not mined by negmine can hold a sibling positive of the query among a row's negatives (the policies
    remove it). Every judge's flag on it counted as a false negative (the near-duplicate judge flags each one, a copy
    of a positive), and the noisy-positive checks ranked the row's positive below it: two siblings scored above it
    made the row noisy, and ``--positive-policy drop`` dropped a trusted row."""
    siblings = (("p", "positive"), ("s1", "sibling one"), ("s2", "sibling two"))
    row = native_row("q", "query", "p", "positive", 0.5, [("s1", "sibling one", 0.9), ("s2", "sibling two", 0.8),
                                                          ("n", "a negative", 0.6), ("m", "another", 0.1)])
    found = item_from_row(row, siblings)
    ce = judgement("cross-encoder", [1, 1, 1, 0], {"cross-encoder": (0.4, np.array([0.9, 0.8, 0.7, 0.1]))})
    f = find(found, [judgement("near-duplicate", [1, 1, 0, 0]), ce], JudgeConfig())
    assert f.false_negative.tolist() == [False, False, True, False] and f.votes.tolist() == [0, 0, 1, 0]
    assert f.reasons(0) == [] and f.reasons(2) == ["cross-encoder: why"]
    assert f.positive_ranks == {"model": 2, "cross-encoder": 2} and not f.noisy_positive
    assert f.confidence == pytest.approx(0.5)
    assert [j.flags.tolist() for j in f.judgements] == [[False] * 4, [False, False, True, False]]
    alone = find(item_from_row(row), [judgement("near-duplicate", [1, 1, 0, 0])], JudgeConfig())
    assert alone.false_negative.tolist() == [True, True, False, False], "ids not labelled for the query are judged"
