import numpy as np

from negmine.select.pool import Pool


def pool():
    return Pool(np.array([7, 8, 9], np.int64), np.array([0.9, 0.8, 0.7], np.float32), np.array([1, 2, 4]), 0.95)


def test_take_keeps_the_candidates_at_positions_and_the_positive_score():
    taken = pool().take(np.array([2, 0]))
    assert taken.indices.tolist() == [9, 7] and taken.ranks.tolist() == [4, 1]
    assert np.allclose(taken.scores, [0.7, 0.9]) and taken.positive_score == 0.95
    assert len(taken) == 2


def test_false_negatives_accumulate_and_survive_take():
    p = pool().with_false_negatives(np.array([3])).take(np.array([0, 1])).with_false_negatives(np.array([5, 6]))
    assert p.false_negatives == (3, 5, 6)
    assert p.take(np.array([1])).false_negatives == (3, 5, 6)
    assert pool().false_negatives == ()


def test_a_pinned_spread_survives_take_and_is_the_sd_margins_unit():
    from negmine.config import FilterConfig
    from negmine.select.filters import apply_filters

    p = pool()
    assert p.spread is None and p.score_sd() == np.float32([0.9, 0.8, 0.7]).astype(np.float64).std()
    pinned = p.take(np.array([1, 2])).with_false_negatives(np.array([7]), spread=0.5)
    assert pinned.spread == 0.5 == pinned.take(np.array([0])).score_sd()
    assert pinned.with_false_negatives(np.array([1])).spread == 0.5, "pinned once, kept"
    # positive 0.95, sd margin 0.1: unpinned sd of [0.8, 0.7] is 0.05 -> threshold 0.945 keeps both;
    # the pinned 0.5 -> threshold 0.90 still keeps both; 0.5 sd margin 1.0 -> 0.45 keeps neither
    assert len(apply_filters(pinned, FilterConfig(sd_margin=1.0), None, None).pool) == 0
    assert len(apply_filters(p.take(np.array([1, 2])), FilterConfig(sd_margin=1.0), None, None).pool) == 2
