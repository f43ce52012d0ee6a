from __future__ import annotations

import numpy as np

from negmine.retrieve.candidates import PAD_INDEX, Candidates


def padded() -> Candidates:
    """Query 0: a full row; query 1: two candidates then padding; query 2: padding only."""
    indices = np.array([[4, 0, 9], [7, 2, -1], [-1, -1, -1]], dtype=np.int64)
    scores = np.array([[0.9, 0.5, 0.1], [3.0, -2.0, -np.inf], [-np.inf] * 3], dtype=np.float32)
    return Candidates(indices, scores)


def test_padding_index_is_minus_one():
    assert PAD_INDEX == -1


def test_depth_is_the_row_width_whatever_the_padding():
    assert padded().depth == 3
    assert Candidates(np.empty((0, 5), np.int64), np.empty((0, 5), np.float32)).depth == 5
    assert isinstance(padded().depth, int)


def test_row_keeps_the_retrieval_order_and_drops_only_padding():
    cands = padded()
    idx, sc = cands.row(0)
    assert idx.tolist() == [4, 0, 9] and sc.tolist() == [np.float32(0.9), 0.5, np.float32(0.1)]
    idx, sc = cands.row(1)
    assert idx.tolist() == [7, 2] and sc.tolist() == [3.0, -2.0]
    assert idx.dtype == np.int64 and sc.dtype == np.float32


def test_row_of_a_query_without_candidates_is_empty():
    idx, sc = padded().row(2)
    assert idx.shape == sc.shape == (0,)
    assert idx.dtype == np.int64 and sc.dtype == np.float32


def test_document_zero_is_a_candidate_not_padding():
    cands = Candidates(np.array([[0, -1]], np.int64), np.array([[-5.0, -np.inf]], np.float32))
    idx, sc = cands.row(0)
    assert idx.tolist() == [0] and sc.tolist() == [-5.0]


def test_a_candidate_pool_unpacks_as_indices_and_scores():
    indices, scores = padded()
    assert indices.shape == scores.shape == (3, 3)
