import numpy as np

from negmine.config import SelectConfig
from negmine.select.strategy import make_strategy
from negmine.select.top import TopStrategy


def test_k_best_of_a_dense_pool_are_its_highest_scores(make_pool):
    pool = make_pool([0.9, 0.8, 0.5, 0.5, 0.1])  # dense retrieval: best score first
    chosen = TopStrategy().select(pool, 3, np.random.default_rng(0))
    assert chosen.tolist() == [0, 1, 2]
    assert pool.take(chosen).scores.tolist() == sorted(pool.scores.tolist(), reverse=True)[:3]


def test_a_hybrid_pool_is_taken_in_fusion_order_not_by_its_dense_scores(make_pool):
    # fused ranks 1, 3, 4, 7 (rank 2 was excluded); dense cosines not monotone in that order
    pool = make_pool([0.2, 0.8, 0.5, 0.9], ranks=[1, 3, 4, 7])
    assert TopStrategy().select(pool, 3, np.random.default_rng(0)).tolist() == [0, 1, 2]


def test_fewer_candidates_than_k_and_empty(make_pool):
    pool = make_pool([0.4, 0.3])
    assert TopStrategy().select(pool, 5, np.random.default_rng(0)).tolist() == [0, 1]
    assert TopStrategy().select(make_pool([]), 5, np.random.default_rng(0)).tolist() == []


def test_ignores_rng(make_pool):
    pool = make_pool(np.linspace(0, 1, 20)[::-1])
    a = TopStrategy().select(pool, 4, np.random.default_rng(1))
    b = TopStrategy().select(pool, 4, np.random.default_rng(2))
    assert a.tolist() == b.tolist() == [0, 1, 2, 3]


def test_from_config():
    assert isinstance(make_strategy(SelectConfig(strategy="top")), TopStrategy)


def test_top_is_best_first():
    # --denoise may stop judging once k candidates survive (docs/mining.md): top's choice is the first k in
    # retrieval order, so the candidates below them cannot change it
    assert TopStrategy.best_first is True
