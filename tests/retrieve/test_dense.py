from __future__ import annotations

import numpy as np
import pytest

from negmine.retrieve.candidates import PAD_INDEX
from negmine.retrieve.dense import blas_batch, dense_search, gather_scores


def _normed(n, dim, seed):
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute_force(q, d, depth):
    scores = q @ d.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    return order, np.take_along_axis(scores, order, axis=1)


@pytest.mark.parametrize("block_size,query_batch_size", [(65536, 4096), (97, 13), (10, 1), (1000, 25)])
def test_equals_brute_force_across_blocks(block_size, query_batch_size):
    q, d = _normed(60, 24, 0), _normed(1000, 24, 1)
    result = dense_search(q, d, 15, block_size=block_size, query_batch_size=query_batch_size)
    idx, sc = _brute_force(q, d, 15)
    np.testing.assert_array_equal(result.indices, idx)
    np.testing.assert_allclose(result.scores, sc, atol=1e-5)
    assert result.indices.dtype == np.int64 and result.scores.dtype == np.float32


def test_depth_beyond_corpus_is_padded():
    q, d = _normed(3, 8, 2), _normed(5, 8, 3)
    result = dense_search(q, d, 8, block_size=2)
    assert result.indices.shape == (3, 8)
    assert (result.indices[:, 5:] == PAD_INDEX).all() and np.isneginf(result.scores[:, 5:]).all()
    assert sorted(result.indices[0, :5].tolist()) == [0, 1, 2, 3, 4]
    rows, scores = result.row(1)
    assert len(rows) == 5 and np.all(np.diff(scores) <= 0)


def test_memmap_corpus(tmp_path):
    q, d = _normed(20, 16, 4), _normed(300, 16, 5)
    path = tmp_path / "docs.npy"
    np.save(path, d)
    result = dense_search(q, np.load(path, mmap_mode="r"), 10, block_size=64)
    np.testing.assert_array_equal(result.indices, _brute_force(q, d, 10)[0])


def test_ties_go_to_the_lower_index_within_and_across_blocks():
    # small integers: every dot product is exact, so duplicated documents tie exactly
    base = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0]], dtype=np.float32)
    docs = base[[0, 1, 2, 0, 2, 1, 0, 2, 0, 2, 1, 0]]
    queries = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 0]] * 10, dtype=np.float32)  # > 20: BLAS path
    for block_size in (12, 5, 3, 1):
        result = dense_search(queries, docs, 6, block_size=block_size, query_batch_size=7)
        assert result.indices[0].tolist() == [0, 2, 3, 4, 6, 7], block_size
        assert result.indices[1].tolist() == [2, 4, 7, 9, 0, 1], block_size
        assert result.indices[2].tolist() == [1, 2, 4, 5, 7, 9], block_size  # base 1 and base 2 tie
    single = dense_search(queries[:1], docs, 6, block_size=5)  # small batches take FAISS's non-BLAS path
    assert single.indices[0].tolist() == [0, 2, 3, 4, 6, 7]


def test_scores_do_not_depend_on_block_or_query_batch_sizes_on_the_blas_path():
    """100 queries of 384 dimensions are padded to FAISS's BLAS threshold, whose matrix product gave 44-384 of
    the 1,500 top-15 scores other last bits with another block size (so --shard-size changed mined scores)."""
    q, d = _normed(100, 384, 0), _normed(1000, 384, 1)
    whole = dense_search(q, d, 15)
    for block_size, query_batch_size in [(1000, 7), (13, 4096), (77, 50), (500, 100)]:
        part = dense_search(q, d, 15, block_size=block_size, query_batch_size=query_batch_size)
        assert np.array_equal(part.indices, whole.indices) and np.array_equal(part.scores, whole.scores)
    rows = np.repeat(np.arange(100), 15)
    assert np.array_equal(gather_scores(q, d, rows, whole.indices.ravel()), whole.scores.ravel())  # as a positive's


def test_documents_within_rounding_of_the_kth_score_are_all_seen(monkeypatch):
    """The k-th score is taken from re-scored candidates only once FAISS's last proposal is below it by more than
    rounding can explain; documents 1e-7 apart at the boundary make it ask for more."""
    import faiss

    q = np.zeros((1, 8), np.float32)
    q[0, 0] = 1
    d = np.zeros((40, 8), np.float32)
    d[:, 0] = 0.5 + np.float32(1e-7) * (np.arange(40) % 3)  # three near-tied levels, spread over the block
    d[:, 1] = np.sqrt(1 - d[:, 0] ** 2)
    calls = []
    real_knn = faiss.knn
    monkeypatch.setattr(faiss, "knn", lambda x, y, k, **kw: calls.append(k) or real_knn(x, y, k, **kw))
    found = dense_search(q, d, 5)
    assert calls[0] == 6 and calls[-1] == 40  # widened until every candidate was in
    want = np.lexsort((np.arange(40), -gather_scores(q, d, np.zeros(40, np.int64), np.arange(40)).astype(np.float64)))[:5]
    assert found.indices[0].tolist() == want.tolist()


def test_gather_scores():
    q, d = _normed(10, 8, 6), _normed(50, 8, 7)
    qr, dr = np.array([0, 3, 3, 9]), np.array([49, 0, 7, 7])
    np.testing.assert_allclose(gather_scores(q, d, qr, dr), np.sum(q[qr] * d[dr], axis=1), atol=1e-6)
    assert gather_scores(q, d, np.array([], np.int64), np.array([], np.int64)).shape == (0,)


def test_gather_scores_agrees_with_search():
    q, d = _normed(5, 8, 8), _normed(40, 8, 9)
    result = dense_search(q, d, 4)
    rows = np.repeat(np.arange(5), 4)
    np.testing.assert_allclose(gather_scores(q, d, rows, result.indices.ravel()), result.scores.ravel(), atol=1e-6)


class _RecordingRows:
    """A (n, dim) float32 matrix of equal rows that records how many bytes each row gather asks for (the gathered
    rows are a broadcast view, so the test allocates nothing)."""

    def __init__(self, n: int, dim: int) -> None:
        self.n, self.dim, self.row, self.gathered = n, dim, _normed(1, dim, 0)[0], []
        self.shape, self.ndim = (n, dim), 2

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, rows):
        rows = np.asarray(rows)
        self.gathered.append(rows.size * self.dim * 4)
        return np.broadcast_to(self.row, (rows.size, self.dim))


def test_gather_scores_gathers_a_bounded_number_of_bytes_whatever_the_dimension():
    """Chunks are sized in bytes, not pairs: at 1,024 dimensions a chunk of 65,536 pairs gathered 256 MiB of
    query and document vectors each; now at most 64 MiB of both together."""
    queries, docs = _RecordingRows(100, 1024), _RecordingRows(5000, 1024)
    n = 40_000
    rows = np.arange(n, dtype=np.int64)
    out = gather_scores(queries, docs, rows % 100, rows % 5000)
    np.testing.assert_allclose(out, np.full(n, 1.0), atol=1e-5)
    assert sum(docs.gathered) == n * 1024 * 4  # every pair gathered once
    assert max(q + d for q, d in zip(queries.gathered, docs.gathered)) <= 64 << 20


def test_input_errors():
    q, d = _normed(2, 8, 0), _normed(4, 6, 1)
    with pytest.raises(ValueError, match="query dim 8 != corpus dim 6"):
        dense_search(q, d, 2)
    with pytest.raises(ValueError, match="depth must be a positive integer, got 0"):
        dense_search(q, _normed(4, 8, 1), 0)
    with pytest.raises(IndexError, match=r"document row out of range \[0, 4\)"):
        gather_scores(q, _normed(4, 8, 1), np.array([0]), np.array([4]))
    with pytest.raises(ValueError, match="2 query rows for 1 document rows"):
        gather_scores(q, _normed(4, 8, 1), np.array([0, 1]), np.array([0]))


def test_blas_batch_pads_a_batch_just_short_of_the_threshold(monkeypatch):
    import faiss

    monkeypatch.setattr(faiss.cvar, "distance_compute_blas_threshold", 24 * 40)  # 40 queries of 24 dims
    q = _normed(12, 24, 3)
    padded = blas_batch(q)
    assert padded.shape == (40, 24) and np.array_equal(padded[:12], q) and not padded[12:].any()
    assert blas_batch(_normed(9, 24, 3)).shape == (9, 24)  # under a quarter of the threshold: not worth it
    assert blas_batch(_normed(40, 24, 3)).shape == (40, 24)  # at the threshold already


def test_padded_batches_give_the_results_of_unpadded_ones(monkeypatch):
    import faiss

    q, d = _normed(60, 24, 0), _normed(1000, 24, 1)
    plain = dense_search(q, d, 15, query_batch_size=20)
    monkeypatch.setattr(faiss.cvar, "distance_compute_blas_threshold", 24 * 50)  # batches of 20 now padded to 50
    calls = []
    real_knn = faiss.knn
    monkeypatch.setattr(faiss, "knn", lambda x, *a, **k: calls.append(len(x)) or real_knn(x, *a, **k))
    padded = dense_search(q, d, 15, query_batch_size=20)
    assert calls and set(calls) == {50}
    np.testing.assert_array_equal(padded.indices, plain.indices)
    np.testing.assert_allclose(padded.scores, plain.scores, atol=1e-6)
