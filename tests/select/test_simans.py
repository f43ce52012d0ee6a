import numpy as np
import pytest

from negmine.config import SelectConfig
from negmine.select.simans import SimANSStrategy, simans_log_weights
from negmine.select.strategy import make_strategy, pair_rng


def test_log_weights_formula():
    scores = np.array([0.9, 0.75, 0.5], dtype=np.float32)
    got = simans_log_weights(scores, 0.8, a=2.0, b=0.05)
    want = -2.0 * (0.8 - scores.astype(np.float64) - 0.05) ** 2
    assert got == pytest.approx(want)
    assert np.argmax(got) == 1  # 0.75 = s_pos - b is the mode


def test_from_config_takes_a_and_b():
    strategy = make_strategy(SelectConfig(strategy="simans", simans_a=3.0, simans_b=0.2))
    assert strategy == SimANSStrategy(a=3.0, b=0.2)


def test_prefers_scores_near_positive_minus_b(make_pool):
    # scores 0.0..1.0; s_pos = 0.8, b = 0.3 -> mode at 0.5
    scores = np.round(np.linspace(1.0, 0.0, 21), 2)
    pool = make_pool(scores, positive_score=0.8)
    strategy = SimANSStrategy(a=20.0, b=0.3)
    counts = np.zeros(len(pool))
    for i in range(1000):
        counts[strategy.select(pool, 3, pair_rng(42, i))] += 1
    mode = int(np.argmin(np.abs(scores - 0.5)))
    assert counts.argmax() in (mode - 1, mode, mode + 1)
    near = counts[np.abs(scores - 0.5) <= 0.1].sum()
    far = counts[(scores >= 0.9) | (scores <= 0.1)].sum()
    assert near > 10 * far
    # the hardest candidates (above the positive) are rarely chosen
    assert counts[scores > 0.8].sum() < 0.1 * counts.sum()


def test_output_in_retrieval_order_unique_and_sized(make_pool):
    pool = make_pool(np.random.default_rng(1).random(30), positive_score=0.9,
                     ranks=np.random.default_rng(2).permutation(30) + 1)
    chosen = SimANSStrategy().select(pool, 8, pair_rng(0, 0))
    assert len(chosen) == 8 and len(set(chosen.tolist())) == 8
    assert np.all(np.diff(pool.ranks[chosen]) > 0)


def test_underflowing_weights_still_fill_k(make_pool):
    # BM25-like scales: exp(-50 * 30^2) underflows to 0, sampling must still return k items
    pool = make_pool([40.0, 5.0, 3.0, 1.0], positive_score=35.0)
    chosen = SimANSStrategy(a=50.0, b=0.05).select(pool, 3, pair_rng(0, 0))
    assert len(chosen) == 3
    assert 0 in chosen.tolist()  # 40 is by far the closest to s_pos - b, so it is always drawn


def test_fewer_than_k_and_empty(make_pool):
    pool = make_pool([0.5, 0.7], positive_score=0.8, ranks=[4, 1])
    assert SimANSStrategy().select(pool, 5, pair_rng(0, 0)).tolist() == [1, 0]
    assert SimANSStrategy().select(make_pool([]), 5, pair_rng(0, 0)).tolist() == []


def test_deterministic_for_seed(make_pool):
    pool = make_pool(np.linspace(1, 0, 50), positive_score=0.9)
    runs = [SimANSStrategy().select(pool, 5, pair_rng(11, 3)).tolist() for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    others = {tuple(SimANSStrategy().select(pool, 5, pair_rng(11, i)).tolist()) for i in range(10)}
    assert len(others) > 1


def test_a_single_draw_is_proportional_to_the_weights(make_pool):
    # Gumbel-top-k: argmax(log w_i + G_i) picks i with probability w_i / sum(w). Weights 1 and ten of e^-3
    # (a = 3, b = 0: gaps 0 and 1): the first is drawn 1 / (1 + 10 e^-3) = 66.8% of the time (subtracting the
    # Gumbel noise instead would draw it 86%)
    pool = make_pool([1.0] + [0.0] * 10, positive_score=1.0)
    strategy = SimANSStrategy(a=3.0, b=0.0)
    share = np.mean([strategy.select(pool, 1, pair_rng(0, i)).tolist() == [0] for i in range(2000)])
    assert share == pytest.approx(1 / (1 + 10 * np.exp(-3)), abs=0.05)  # 5 sigma of a binomial(2000, 0.67)


def test_a_nan_weight_is_drawn_last(make_pool):
    pool = make_pool([np.nan, 0.7, 0.6, 0.5], positive_score=0.8)
    for i in range(20):
        assert 0 not in SimANSStrategy().select(pool, 3, pair_rng(0, i)).tolist()
