import numpy as np

from negmine.config import SelectConfig
from negmine.select.strategy import make_strategy
from negmine.select.top import TopStrategy


def test_k_best_by_score(make_pool):
    pool = make_pool([0.2, 0.8, 0.5, 0.9, 0.1])
    chosen = TopStrategy().select(pool, 3, np.random.default_rng(0))
    assert chosen.tolist() == [3, 1, 2]
    assert pool.take(chosen).scores.tolist() == sorted(pool.scores.tolist(), reverse=True)[:3]


def test_ties_keep_retrieval_order(make_pool):
    pool = make_pool([0.5, 0.5, 0.7, 0.5])
    assert TopStrategy().select(pool, 3, np.random.default_rng(0)).tolist() == [2, 0, 1]


def test_fewer_candidates_than_k_and_empty(make_pool):
    pool = make_pool([0.3, 0.4])
    assert TopStrategy().select(pool, 5, np.random.default_rng(0)).tolist() == [1, 0]
    assert TopStrategy().select(make_pool([]), 5, np.random.default_rng(0)).tolist() == []


def test_ignores_rng(make_pool):
    pool = make_pool(np.linspace(0, 1, 20)[::-1])
    a = TopStrategy().select(pool, 4, np.random.default_rng(1))
    b = TopStrategy().select(pool, 4, np.random.default_rng(2))
    assert a.tolist() == b.tolist() == [0, 1, 2, 3]


def test_from_config():
    assert isinstance(make_strategy(SelectConfig(strategy="top")), TopStrategy)
