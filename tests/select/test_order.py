import numpy as np

from negmine.select.order import by_rank


def test_retrieval_order_whatever_the_scores(make_pool):
    # a hybrid pool: fusion order, dense scores not monotone in it
    pool = make_pool([0.5, 0.9, 0.5, 0.7], ranks=[4, 9, 2, 1])
    assert by_rank(pool).tolist() == [3, 2, 0, 1]


def test_subset_keeps_rank_order(make_pool):
    pool = make_pool([np.nan, 0.1, 0.8, 0.3])
    assert by_rank(pool, np.array([3, 0, 1])).tolist() == [0, 1, 3]
    assert by_rank(pool, np.array([], dtype=np.int64)).dtype == np.int64
