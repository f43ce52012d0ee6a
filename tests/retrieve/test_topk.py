from __future__ import annotations

import numpy as np

from negmine.retrieve.topk import merge_topk, pad_to, sort_rows, topk_vector


def test_sort_rows_score_desc_index_asc_padding_last():
    idx = np.array([[7, -1, 3, 5, 1]])
    sc = np.array([[0.5, -np.inf, 0.9, 0.5, 0.5]], dtype=np.float32)
    out_idx, out_sc = sort_rows(idx, sc)
    assert out_idx.tolist() == [[3, 1, 5, 7, -1]]
    assert out_sc[0, :4].tolist() == [np.float32(0.9), 0.5, 0.5, 0.5] and np.isneginf(out_sc[0, 4])


def test_merge_keeps_best_and_pads():
    idx, sc = merge_topk(np.array([[4]]), np.array([[0.2]], np.float32), np.array([[9, 2]]), np.array([[0.2, 0.7]], np.float32), 4)
    assert idx.tolist() == [[2, 4, 9, -1]]
    assert idx.dtype == np.int64 and sc.dtype == np.float32


def test_pad_to_noop_when_wide_enough():
    idx, sc = pad_to(np.array([[1, 2]]), np.array([[0.1, 0.0]]), 2)
    assert idx.tolist() == [[1, 2]] and sc.dtype == np.float32


def test_topk_vector_ties_keep_lowest_indices():
    scores = np.array([1.0, 3.0, 2.0, 2.0, 3.0, 2.0, 0.0])
    idx, sc = topk_vector(scores, 4)
    assert idx.tolist() == [1, 4, 2, 3]
    assert sc.tolist() == [3.0, 3.0, 2.0, 2.0]


def test_topk_vector_matches_full_sort_on_random_ties():
    rng = np.random.default_rng(0)
    for _ in range(50):
        scores = rng.integers(0, 5, size=40).astype(np.float32)
        k = int(rng.integers(1, 45))
        idx, _ = topk_vector(scores, k)
        expected = np.lexsort((np.arange(40), -scores))[:k]
        assert idx.tolist() == expected.tolist()
