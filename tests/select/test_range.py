import numpy as np

from negmine.config import FilterConfig, SelectConfig
from negmine.select.filters import apply_filters
from negmine.select.range import RangeStrategy
from negmine.select.strategy import make_strategy, window


def test_default_window_is_10_to_100():
    assert RangeStrategy.default_window == (10, 100)
    assert window(SelectConfig(strategy="range")) == (10, 100)


def test_config_window_overrides_default():
    assert window(SelectConfig(strategy="range", rank_min=10, rank_max=210)) == (10, 210)
    assert window(SelectConfig(strategy="range", rank_min=30)) == (30, None)
    assert window(SelectConfig(strategy="range", rank_max=50)) == (None, 50)


def test_top_k_within_the_window(make_pool):
    # 120 candidates in retrieval order with decreasing scores; the window drops ranks 1-9 and 101-120
    pool = make_pool(np.linspace(0.9, 0.1, 120), positive_score=1.0)
    config = SelectConfig(strategy="range", num_negatives=3)
    filtered = apply_filters(pool, FilterConfig(sd_margin=None), *window(config)).pool
    chosen = filtered.take(make_strategy(config).select(filtered, 3, np.random.default_rng(0)))
    assert chosen.ranks.tolist() == [10, 11, 12]


def test_a_hybrid_window_is_taken_in_fusion_order(make_pool):
    # a hybrid pool: fused rank order and dense score order differ; range takes the window's first ranks
    pool = make_pool([0.2, 0.9, 0.4], ranks=[10, 11, 12])
    assert RangeStrategy().select(pool, 2, np.random.default_rng(0)).tolist() == [0, 1]
