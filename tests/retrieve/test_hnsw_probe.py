import numpy as np
import pytest

from negmine.retrieve.ann import CALIBRATION_QUERIES
from negmine.retrieve.dense import dense_search
from negmine.retrieve.hnsw_probe import PROBE_STAGES, graph_misses_target, probe_recalls, stage_rows


def uniform(n_docs: int, n_queries: int, dim: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_docs + n_queries, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x[n_docs:], x[:n_docs]


def test_stages_are_nested_fixed_parts_of_the_shard_that_hold_the_exact_top_k():
    planted = np.array([999, 5, 5, 640])
    stages = stage_rows(1_000, planted)
    assert len(stages) == len(PROBE_STAGES)
    held = np.concatenate(stages)
    assert len(np.unique(held)) == len(held)  # no row added twice
    assert set(planted) <= set(stages[0])
    for i, stride in enumerate(PROBE_STAGES):
        size = len(np.concatenate(stages[: i + 1]))
        assert -(-1_000 // stride) <= size <= -(-1_000 // stride) + len(set(planted)), (stride, size)
    assert all(np.array_equal(a, b) for a, b in zip(stages, stage_rows(1_000, planted)))  # the same on every run


@pytest.fixture(scope="module")
def diffuse():
    """Uniform 384-d vectors, their sample's exact top 10, and the probe's recall of every stage at efSearch 64."""
    queries, docs = uniform(16_384, CALIBRATION_QUERIES, 384)
    exact = dense_search(queries, docs, 20)
    return queries, docs, exact, probe_recalls(docs, queries, exact, 10, 64, target=0.0, settle=2.0)


def test_recall_at_a_fixed_ef_search_falls_as_the_graph_grows(diffuse):
    """What the probe rests on: a larger graph over the same data finds less of the exact top k at one efSearch."""
    *_, recalls = diffuse
    assert len(recalls) == len(PROBE_STAGES)
    assert all(a > b for a, b in zip(recalls, recalls[1:])), recalls


def test_the_probe_stops_at_the_first_stage_below_the_target(diffuse):
    queries, docs, exact, recalls = diffuse
    assert probe_recalls(docs, queries, exact, 10, 64, target=recalls[0], settle=2.0) == recalls[:2]


def test_the_probe_stops_at_the_first_stage_that_settles_the_target(diffuse):
    queries, docs, exact, recalls = diffuse
    assert probe_recalls(docs, queries, exact, 10, 64, target=0.0, settle=recalls[0]) == recalls[:1]


def test_graph_misses_target_only_when_a_stage_does(diffuse):
    queries, docs, exact, recalls = diffuse
    assert graph_misses_target(docs, queries, exact, 10, 64, target=recalls[-1] + 1e-6)
    assert not graph_misses_target(docs, queries, exact, 10, 64, target=recalls[-1])
    small_queries, small = uniform(4_096, CALIBRATION_QUERIES, 64)
    small_exact = dense_search(small_queries, small, 10)
    assert not graph_misses_target(small, small_queries, small_exact, 10, len(small), target=1.0)  # every row
