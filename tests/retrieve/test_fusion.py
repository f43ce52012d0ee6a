from __future__ import annotations

import numpy as np
import pytest

from negmine.retrieve.candidates import Candidates
from negmine.retrieve.fusion import min_max, rrf, weighted


def _pool(rows, depth):
    """Candidates from per-query lists of (doc, score), best first, padded to ``depth``."""
    idx = np.full((len(rows), depth), -1, np.int64)
    sc = np.full((len(rows), depth), -np.inf, np.float32)
    for i, row in enumerate(rows):
        for j, (doc, score) in enumerate(row):
            idx[i, j], sc[i, j] = doc, score
    return Candidates(idx, sc)


def _random_pools(seed, n_queries=6, n_docs=30, min_size=1):
    rng = np.random.default_rng(seed)
    pools = []
    for depth in (8, 12, 5):
        rows = []
        for _ in range(n_queries):
            n = int(rng.integers(min_size, depth + 1))
            docs = rng.choice(n_docs, size=n, replace=False)
            scores = np.sort(rng.uniform(-1, 3, size=n))[::-1]
            rows.append(list(zip(docs.tolist(), scores.tolist())))
        pools.append(_pool(rows, depth))
    return pools


def _ranx_run(pool):
    from ranx import Run

    return Run({f"q{i}": {f"d{d}": float(s) for d, s in zip(*pool.row(i))} for i in range(len(pool.indices))})


def _ranx_ranking(fused, n_queries, depth):
    """ranx results per query ordered (score desc, doc index asc), cut to ``depth``."""
    out = []
    for i in range(n_queries):
        items = [(int(d[1:]), s) for d, s in fused.to_dict().get(f"q{i}", {}).items()]
        items.sort(key=lambda kv: (-kv[1], kv[0]))
        out.append(items[:depth])
    return out


def _assert_same(result, expected):
    for i, items in enumerate(expected):
        rows, scores = result.row(i)
        assert rows.tolist() == [d for d, _ in items], i
        np.testing.assert_allclose(scores, [s for _, s in items], rtol=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_rrf_matches_ranx(seed):
    from ranx import fuse

    pools = _random_pools(seed)
    fused = fuse([_ranx_run(p) for p in pools], norm=None, method="rrf", params={"k": 60})
    _assert_same(rrf(pools, depth=10, k=60), _ranx_ranking(fused, 6, 10))


def test_weighted_matches_ranx_wsum():
    from ranx import fuse

    pools = _random_pools(2, min_size=2)[:2]  # ranx maps a one-candidate pool to 0, negmine to 1
    fused = fuse([_ranx_run(p) for p in pools], norm="min-max", method="wsum", params={"weights": [0.7, 0.3]})
    _assert_same(weighted(pools, [0.7, 0.3], depth=15), _ranx_ranking(fused, 6, 15))


def test_rrf_small_example_by_hand():
    a = _pool([[(3, 0.9), (1, 0.5), (2, 0.1)]], 3)
    b = _pool([[(1, 5.0), (4, 2.0)]], 3)
    result = rrf([a, b], depth=5, k=60)
    assert result.indices.tolist() == [[1, 3, 4, 2, -1]]
    np.testing.assert_allclose(result.scores[0, :4], [1 / 62 + 1 / 61, 1 / 61, 1 / 62, 1 / 63], rtol=1e-6)
    assert np.isneginf(result.scores[0, 4])


def test_ties_broken_by_lower_index():
    a = _pool([[(7, 1.0)]], 1)
    b = _pool([[(2, 9.0)]], 1)
    assert rrf([a, b], depth=2).indices.tolist() == [[2, 7]]
    assert weighted([a, b], [0.5, 0.5], depth=2).indices.tolist() == [[2, 7]]


def test_weighted_missing_counts_zero_and_constant_pool_counts_one():
    a = _pool([[(0, 4.0), (1, 2.0), (2, 0.0)]], 3)
    b = _pool([[(2, 7.0)]], 3)  # a single candidate: normalised to 1
    result = weighted([a, b], [0.25, 0.75], depth=3)
    assert result.indices.tolist() == [[2, 0, 1]]
    np.testing.assert_allclose(result.scores[0], [0.75, 0.25, 0.125])


def test_a_pool_of_weight_0_adds_no_documents_so_weight_1_reproduces_the_other_pool():
    dense = _pool([[(5, 0.9), (3, 0.7), (8, 0.2)]], 3)
    bm25 = _pool([[(1, 12.0), (3, 9.0), (2, 4.0)]], 3)  # doc 1 and 2 only in BM25, lower ids than dense's 8
    assert weighted([dense, bm25], [1.0, 0.0], depth=3).indices.tolist() == [[5, 3, 8]]
    assert weighted([dense, bm25], [0.0, 1.0], depth=3).indices.tolist() == [[1, 3, 2]]


def test_empty_rows_stay_padded():
    empty = _pool([[]], 3)
    result = rrf([empty, empty], depth=3)
    assert result.indices.tolist() == [[-1, -1, -1]] and np.isneginf(result.scores).all()


def test_min_max():
    np.testing.assert_allclose(min_max(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(min_max(np.array([5.0, 5.0])), [1.0, 1.0])


def test_errors():
    a, b = _pool([[(0, 1.0)]], 1), _pool([[(0, 1.0)], [(1, 1.0)]], 1)
    with pytest.raises(ValueError, match=r"different numbers of queries: \[1, 2\]"):
        rrf([a, b], depth=1)
    with pytest.raises(ValueError, match="at least one candidate pool"):
        rrf([], depth=1)
    with pytest.raises(ValueError, match="1 weights for 2 pools"):
        weighted([a, a], [1.0], depth=1)
    with pytest.raises(ValueError, match="not all 0"):
        weighted([a, a], [0.0, 0.0], depth=1)
