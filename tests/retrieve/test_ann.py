import numpy as np
import pytest

from negmine.retrieve.ann import (
    MIN_ANN_ROWS,
    PQ_MIN_TRAIN,
    TRAIN_PER_LIST,
    ann_search,
    exact_rescore,
    factory_string,
    proposals,
    training_rows,
)
from negmine.retrieve.candidates import PAD_INDEX
from negmine.retrieve.dense import dense_search


def clustered(n_docs: int, n_queries: int, dim: int = 32, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around 40 centres; queries are noisy copies of the first documents."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    docs = centres[rng.integers(0, 40, n_docs)] + 0.3 * rng.standard_normal((n_docs, dim)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = docs[:n_queries] + 0.05 * rng.standard_normal((n_queries, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return queries.astype(np.float32), docs.astype(np.float32)


@pytest.mark.parametrize(
    ("index", "n", "dim", "want"),
    [
        ("ivf", 10_000, 384, "IVF100,Flat"),
        ("ivf", 1_000_000, 384, "IVF1000,Flat"),
        ("hnsw", 10_000, 384, "HNSW32"),
        ("ivfpq", 10_000, 384, "IVF100,PQ48"),  # 8 dimensions per sub-quantiser
        ("ivfpq", 10_000, 100, "IVF100,PQ10"),  # 100 / 8 is not whole: the largest divisor below it
    ],
)
def test_factory_string(index, n, dim, want):
    assert factory_string(index, n, dim) == want


def test_factory_string_small_shard_keeps_39_points_per_list():
    assert factory_string("ivf", 390, 32) == "IVF10,Flat"  # sqrt(390) = 19 lists would train on < 39 each


def test_factory_string_unknown_index_lists_allowed():
    with pytest.raises(ValueError, match=r"unknown ANN index 'lsh'; allowed: ivf, hnsw, ivfpq"):
        factory_string("lsh", 10_000, 32)


def test_training_rows_sizes_and_determinism():
    block = np.arange(40_000 * 2, dtype=np.float32).reshape(40_000, 2)
    ivf = training_rows(block, "ivf")
    assert len(ivf) == TRAIN_PER_LIST * 200  # nlist = sqrt(40000)
    assert np.array_equal(ivf, training_rows(block, "ivf"))
    assert ivf[0, 0] == 0 and ivf[-1, 0] == block[-1, 0]  # evenly spaced over the whole shard
    small = block[:12_000]
    assert len(training_rows(small, "ivfpq")) == max(TRAIN_PER_LIST * 109, PQ_MIN_TRAIN)
    assert training_rows(block[:1000], "ivf") is not None and len(training_rows(block[:1000], "ivf")) == 1000


def test_exact_rescore_pads_with_minus_inf():
    queries = np.eye(2, 3, dtype=np.float32)
    block = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 3]], dtype=np.float32)
    local = np.array([[0, 1, -1], [1, 2, 0]])
    got = exact_rescore(queries, block, local)
    assert got.tolist() == [[1.0, 0.0, -np.inf], [2.0, 0.0, 0.0]]


@pytest.mark.parametrize("index", ["ivf", "hnsw", "ivfpq"])
def test_ann_search_rescored_exactly_with_good_recall(index):
    queries, docs = clustered(MIN_ANN_ROWS + 2_000, 40)
    found = ann_search(queries, docs, 30, index, nprobe=16, offset=7)
    exact = dense_search(queries, docs, 30, offset=7)
    recall = np.mean([len(set(a) & set(b)) / 30 for a, b in zip(found.indices, exact.indices)])
    assert recall > 0.9, f"{index}: recall@30 {recall:.2f}"
    rows = found.indices - 7
    assert np.allclose(found.scores, np.einsum("qkd,qd->qk", docs[rows], queries), atol=1e-5)
    assert np.all(np.diff(found.scores, axis=1) <= 0)
    assert np.array_equal(found.indices[:, 0], exact.indices[:, 0])  # each query's own near-copy comes first


def test_small_shard_is_searched_exactly():
    queries, docs = clustered(500, 5)
    found = ann_search(queries, docs, 8, "hnsw")
    exact = dense_search(queries, docs, 8)
    assert np.array_equal(found.indices, exact.indices) and np.array_equal(found.scores, exact.scores)


def test_depth_beyond_shard_pads():
    queries, docs = clustered(30, 2)
    found = ann_search(queries, docs, 40, "ivf")
    assert found.indices.shape == (2, 40)
    assert np.all(found.indices[:, 30:] == PAD_INDEX) and np.all(np.isneginf(found.scores[:, 30:]))


def test_proposals_oversample_only_the_compressed_index():
    assert proposals("ivfpq", 100, 8, 1_000_000) == 800
    assert proposals("ivfpq", 100, 8, 500) == 500
    assert proposals("ivf", 100, 8, 1_000_000) == proposals("hnsw", 100, 8, 1_000_000) == 100


def test_ivfpq_refine_recovers_the_recall_compression_loses():
    queries, docs = clustered(MIN_ANN_ROWS + 2_000, 40, dim=64)
    exact = dense_search(queries, docs, 30)

    def recall(refine):
        found = ann_search(queries, docs, 30, "ivfpq", nprobe=64, refine=refine)
        assert found.indices.shape == (40, 30)
        assert np.allclose(found.scores, np.einsum("qkd,qd->qk", docs[found.indices], queries), atol=1e-5)
        return np.mean([len(set(a) & set(b)) / 30 for a, b in zip(found.indices, exact.indices)])

    plain, refined = recall(1), recall(8)
    assert plain < 0.8 and refined > 0.95, (plain, refined)


def test_rescore_batches_bound_the_gathered_vectors(monkeypatch):
    import negmine.retrieve.ann as ann

    monkeypatch.setattr(ann, "RESCORE_BYTES", 3 * 4 * 4 * 2)  # two queries' candidates (k 3, dim 4) at a time
    rng = np.random.default_rng(0)
    block, queries = rng.random((20, 4), dtype=np.float32), rng.random((5, 4), dtype=np.float32)
    local = rng.integers(-1, 20, (5, 3))
    want = np.where(local >= 0, np.einsum("qkd,qd->qk", block[np.maximum(local, 0)], queries), -np.inf)
    assert np.allclose(exact_rescore(queries, block, local), want)


def test_many_proposals_search_in_smaller_query_batches(monkeypatch):
    import negmine.retrieve.ann as ann

    queries, docs = clustered(MIN_ANN_ROWS + 2_000, 40, dim=64)
    whole = ann_search(queries, docs, 30, "ivfpq", refine=8)
    batches = []
    real_rescore = ann.exact_rescore
    monkeypatch.setattr(ann, "PROPOSAL_BYTES", 16 * 240 * 7)  # 7 queries' proposals (30 x 8) at a time
    monkeypatch.setattr(ann, "exact_rescore", lambda q, b, l: batches.append(len(q)) or real_rescore(q, b, l))
    split = ann_search(queries, docs, 30, "ivfpq", refine=8)
    assert max(batches) == 7 and sum(batches) == 40
    assert np.array_equal(whole.indices, split.indices) and np.array_equal(whole.scores, split.scores)
