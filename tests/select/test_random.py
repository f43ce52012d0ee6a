import numpy as np

from negmine.select.random import RandomStrategy
from negmine.select.strategy import pair_rng


def test_sample_size_unique_and_in_retrieval_order(make_pool):
    pool = make_pool(np.random.default_rng(5).random(50), ranks=np.random.default_rng(6).permutation(50) + 1)
    chosen = RandomStrategy().select(pool, 10, pair_rng(42, 0))
    assert len(chosen) == 10 and len(set(chosen.tolist())) == 10
    assert np.all(np.diff(pool.ranks[chosen]) > 0)


def test_not_just_the_top(make_pool):
    pool = make_pool(np.linspace(1, 0, 100))
    tops = [set(RandomStrategy().select(pool, 5, pair_rng(7, i)).tolist()) for i in range(20)]
    assert any(t != {0, 1, 2, 3, 4} for t in tops)


def test_uniform_over_the_pool(make_pool):
    pool = make_pool(np.linspace(1, 0, 10))
    counts = np.zeros(10)
    for i in range(2000):
        counts[RandomStrategy().select(pool, 3, pair_rng(0, i))] += 1
    expected = 2000 * 3 / 10
    # every position chosen ~600 times; 5 sigma of a binomial(2000, 0.3) is ~100
    assert np.all(np.abs(counts - expected) < 100), counts


def test_fewer_than_k_returns_all(make_pool):
    pool = make_pool([0.1, 0.3], ranks=[5, 2])
    assert RandomStrategy().select(pool, 5, pair_rng(0, 0)).tolist() == [1, 0]
    assert RandomStrategy().select(make_pool([]), 5, pair_rng(0, 0)).tolist() == []


def test_same_seed_same_output(make_pool):
    pool = make_pool(np.linspace(1, 0, 40))
    a = RandomStrategy().select(pool, 5, pair_rng(3, 9))
    b = RandomStrategy().select(pool, 5, pair_rng(3, 9))
    c = RandomStrategy().select(pool, 5, pair_rng(4, 9))
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()
