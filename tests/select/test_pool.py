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
