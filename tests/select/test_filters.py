import numpy as np
import pytest

from negmine.config import FilterConfig
from negmine.select.filters import FILTER_ORDER, apply_filters, filter_masks, score_spread
from negmine.select.pool import Pool

NONE = FilterConfig(sd_margin=None)


def kept_scores(result):
    return result.pool.scores.tolist()


def test_no_filter_keeps_all_and_reports_every_key(make_pool):
    pool = make_pool([0.9, 0.5, 0.1], 0.8)
    result = apply_filters(pool, NONE, None, None)
    assert result.pool.indices.tolist() == [100, 101, 102]
    assert result.removed == {key: 0 for key in FILTER_ORDER}
    assert list(result.removed) == list(FILTER_ORDER)


def test_rank_window_is_one_based_inclusive(make_pool):
    pool = make_pool([0.5] * 6, 1.0, ranks=[1, 2, 4, 5, 7, 9])
    result = apply_filters(pool, NONE, 2, 7)
    assert result.pool.ranks.tolist() == [2, 4, 5, 7]
    assert result.removed["rank_window"] == 2
    assert apply_filters(pool, NONE, 5, None).pool.ranks.tolist() == [5, 7, 9]
    assert apply_filters(pool, NONE, None, 4).pool.ranks.tolist() == [1, 2, 4]


def test_max_and_min_score_are_inclusive(make_pool):
    pool = make_pool([0.75, 0.5, 0.25, 0.125], 10.0)
    result = apply_filters(pool, FilterConfig(max_score=0.5, min_score=0.25, sd_margin=None), None, None)
    assert kept_scores(result) == [0.5, 0.25]
    assert result.removed["max_score"] == 1 and result.removed["min_score"] == 1


def test_absolute_margin_is_strict(make_pool):
    pool = make_pool([0.75, 0.5, 0.25], 0.75)
    result = apply_filters(pool, FilterConfig(absolute_margin=0.25, sd_margin=None), None, None)
    assert kept_scores(result) == [0.25]  # 0.5 == 0.75 - 0.25 is not strictly below
    assert result.removed["absolute_margin"] == 2


def test_absolute_margin_zero_drops_ties_and_above(make_pool):
    pool = make_pool([0.9, 0.8, 0.7], 0.8)
    result = apply_filters(pool, FilterConfig(absolute_margin=0.0, sd_margin=None), None, None)
    assert kept_scores(result) == pytest.approx([0.7])


def test_relative_margin_matches_topk_percpos_for_positive_scores(make_pool):
    # NV-Retriever TopK-PercPos 95%: keep s < 0.95 * s_pos
    pos = 0.8
    scores = [0.79, 0.77, 0.761, 0.759, 0.5]
    result = apply_filters(make_pool(scores, pos), FilterConfig(relative_margin=0.05, sd_margin=None), None, None)
    expected = [s for s in np.asarray(scores, np.float32).tolist() if s < 0.95 * pos]
    assert kept_scores(result) == expected and len(expected) == 2
    assert result.removed["relative_margin"] == 3


def test_relative_margin_with_negative_positive_score(make_pool):
    # s_pos = -2: threshold -2 - 0.5*2 = -3 (below the positive). The reference's (1-r)*s_pos = -1 would
    # keep -1.5, a candidate scoring ABOVE the positive.
    pool = make_pool([-1.5, -2.0, -2.9, -3.0, -3.5], -2.0)
    result = apply_filters(pool, FilterConfig(relative_margin=0.5, sd_margin=None), None, None)
    assert kept_scores(result) == [-3.5]
    assert all(s < pool.positive_score for s in kept_scores(result))
    assert result.removed["relative_margin"] == 4


def test_absolute_margin_with_negative_scores(make_pool):
    pool = make_pool([-0.5, -1.1, -1.3], -1.0)
    result = apply_filters(pool, FilterConfig(absolute_margin=0.2, sd_margin=None), None, None)
    assert kept_scores(result) == pytest.approx([-1.3])


def test_removed_counts_are_exact_first_failing_filter(make_pool):
    # rank 1: out of window (also fails max/margins) -> rank_window
    # rank 2: above max_score (also fails margins)   -> max_score
    # rank 3: below min_score                        -> min_score
    # rank 4: within 0.1 of the positive (also fails relative) -> absolute_margin
    # rank 5: passes absolute (< 0.6), not relative (< 0.525) -> relative_margin
    # ranks 6, 7: kept;  rank 8: out of window       -> rank_window
    scores = [0.99, 0.95, 0.01, 0.65, 0.55, 0.5, 0.4, 0.3]
    pool = make_pool(scores, 0.7)
    filters = FilterConfig(max_score=0.9, min_score=0.05, absolute_margin=0.1, relative_margin=0.25, sd_margin=None)
    result = apply_filters(pool, filters, 2, 7)
    assert result.pool.ranks.tolist() == [6, 7]
    assert result.removed == {
        "rank_window": 2,
        "max_score": 1,
        "min_score": 1,
        "absolute_margin": 1,
        "relative_margin": 1,
        "sd_margin": 0,
    }
    assert sum(result.removed.values()) == len(pool) - len(result.pool)


def test_keeps_retrieval_order_and_positive_score(make_pool):
    pool = make_pool([0.1, 0.6, 0.3, 0.5], 0.9, ranks=[3, 5, 8, 9])
    result = apply_filters(pool, FilterConfig(max_score=0.55, sd_margin=None), None, None)
    assert result.pool.indices.tolist() == [100, 102, 103]
    assert result.pool.ranks.tolist() == [3, 8, 9]
    assert result.pool.positive_score == 0.9


def test_empty_pool(make_pool):
    result = apply_filters(make_pool([], 0.5), FilterConfig(), 1, 10)
    assert len(result.pool) == 0 and sum(result.removed.values()) == 0


def test_float32_scores_compared_in_float64(make_pool):
    # threshold 0.8 - 0.05 * 0.8 = 0.76. float32(0.76) = 0.7599999905 is truly below it and is kept
    # (a float32 comparison would round the threshold to the same float32 and drop it); the next
    # float32 up is above the threshold and is dropped.
    below = np.float32(0.76)
    above = np.nextafter(below, np.float32(1))
    result = apply_filters(make_pool([below, above], 0.8), FilterConfig(relative_margin=0.05, sd_margin=None), None, None)
    assert result.pool.indices.tolist() == [100]


def test_sd_margin_is_in_units_of_the_pool_spread(make_pool):
    pool = make_pool([0.9, 0.7, 0.5, 0.3, 0.1], 0.8)  # sd = sqrt(0.08) = 0.2828
    result = apply_filters(pool, FilterConfig(sd_margin=0.5, relative_margin=None), None, None)
    assert kept_scores(result) == pytest.approx([0.5, 0.3, 0.1])  # below 0.8 - 0.1414 = 0.659
    assert result.removed["sd_margin"] == 2
    zero = apply_filters(pool, FilterConfig(sd_margin=0.0, relative_margin=None), None, None)
    assert kept_scores(zero) == pytest.approx([0.7, 0.5, 0.3, 0.1])  # k = 0: strictly below the positive


def test_sd_margin_is_strict(make_pool):
    # sd of [0.75, 0.25] is 0.25 (exact in float32 and float64): with k = 1 the threshold is 1.0 - 0.25 = 0.75,
    # and 0.75 lies on it, not strictly below, so it is dropped like the absolute margin's tie
    pool = make_pool([0.75, 0.25], 1.0)
    result = apply_filters(pool, FilterConfig(sd_margin=1.0, relative_margin=None), None, None)
    assert kept_scores(result) == [0.25] and result.removed["sd_margin"] == 1
    tie = make_pool([0.8, 0.5], 0.8)  # k = 0: a candidate scoring exactly the positive is not below it
    assert kept_scores(apply_filters(tie, FilterConfig(sd_margin=0.0, relative_margin=None), None, None)) == [0.5]


@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (0.05, 0.85), (40.0, -3.0), (1e-3, -1.0)])
def test_sd_margin_selection_ignores_the_score_scale(make_pool, scale, shift):
    # the same ranking on a MiniLM-like, an e5-like (compressed), a BM25-like and a negative scale
    rng = np.random.default_rng(7)
    base = np.sort(rng.uniform(0.1, 0.7, size=50))[::-1]
    pool = make_pool((base * scale + shift).tolist(), 0.62 * scale + shift)
    result = apply_filters(pool, FilterConfig(sd_margin=0.5, relative_margin=None), None, None)
    reference = apply_filters(make_pool(base.tolist(), 0.62), FilterConfig(sd_margin=0.5, relative_margin=None), None, None)
    assert result.pool.indices.tolist() == reference.pool.indices.tolist()
    assert 0 < len(reference.pool) < 50


def test_relative_margin_depends_on_the_scale_where_sd_margin_does_not(make_pool):
    # e5-like: everything within 0.04 below a 0.87 positive; 95% of the positive removes the whole pool
    pool = make_pool([0.865, 0.86, 0.85, 0.84, 0.83], 0.87)
    assert len(apply_filters(pool, FilterConfig(relative_margin=0.05, sd_margin=None), None, None).pool) == 0
    kept = apply_filters(pool, FilterConfig(sd_margin=0.5, relative_margin=None), None, None).pool
    assert kept.scores.tolist() == pytest.approx([0.86, 0.85, 0.84, 0.83])  # sd 0.0128: below 0.8636


def test_sd_margin_must_not_be_negative():
    from negmine.config import ConfigError

    with pytest.raises(ConfigError, match=r"sd_margin must be >= 0 .*got -0.5; e.g. sd_margin=0.5 \(--sd-margin 0.5\)"):
        FilterConfig(sd_margin=-0.5).validate()


def test_the_default_margin_is_half_a_standard_deviation(make_pool):
    assert (FilterConfig().sd_margin, FilterConfig().relative_margin) == (0.5, None)
    pool = make_pool([0.9, 0.7, 0.5, 0.3, 0.1], 0.8)
    assert kept_scores(apply_filters(pool, FilterConfig(), None, None)) == pytest.approx([0.5, 0.3, 0.1])


def test_a_given_spread_replaces_the_pools_own(make_pool):
    # an audit judges the head of a pool: the margin must use the whole pool's sd, not the head's
    head = make_pool([0.75, 0.7, 0.6], 0.8)  # own sd 0.0624 -> threshold 0.769: keeps all three
    assert len(apply_filters(head, FilterConfig(sd_margin=0.5, relative_margin=None), None, None).pool) == 3
    masks = filter_masks(head, FilterConfig(sd_margin=0.5, relative_margin=None), None, None, spread=0.3)
    assert masks["sd_margin"].tolist() == [False, False, True]  # threshold 0.8 - 0.15 = 0.65
    assert score_spread(np.asarray([0.9, 0.7, 0.5, 0.3, 0.1])) == pytest.approx(0.08 ** 0.5)
    assert score_spread(np.asarray([], dtype=np.float32)) == 0.0


def test_margins_measure_from_the_margin_score_when_one_is_set(make_pool):
    base = make_pool([0.9, 0.6, 0.4, 0.2], positive_score=1.0)
    pool = Pool(base.indices, base.scores, base.ranks, 1.0, margin_score=0.5)  # 0.5: a weaker sibling positive
    result = apply_filters(pool, FilterConfig(relative_margin=0.1, sd_margin=None), None, None)
    assert result.pool.scores.tolist() == pytest.approx([0.4, 0.2])  # below 0.5 - 0.05, not below 1.0 - 0.1
    assert result.pool.positive_score == 1.0 and result.pool.margin_score == 0.5  # carried, not replaced
