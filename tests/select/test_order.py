import numpy as np

from negmine.select.order import by_score


def test_score_desc_ties_by_rank(make_pool):
    pool = make_pool([0.5, 0.9, 0.5, 0.7], ranks=[4, 9, 2, 1])
    assert by_score(pool).tolist() == [1, 3, 2, 0]  # the two 0.5s: rank 2 before rank 4


def test_subset_and_nan_last(make_pool):
    pool = make_pool([np.nan, 0.1, 0.8, 0.3])
    assert by_score(pool).tolist() == [2, 3, 1, 0]
    assert by_score(pool, np.array([3, 0, 1])).tolist() == [3, 1, 0]
    assert by_score(pool, np.array([], dtype=np.int64)).dtype == np.int64
