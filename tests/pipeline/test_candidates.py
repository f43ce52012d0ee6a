"""Unit tests of the candidate pools a mining job builds (dense, bm25, hybrid, fallback) and their scorers.

The end-to-end fallback behaviour is tested in test_fallback.py, sharded BM25 resume in test_mine.py."""

from __future__ import annotations

import re

import numpy as np
import pytest

from negmine.config import EncoderConfig, EngineConfig, RetrieveConfig
from negmine.pipeline.candidates import (
    Embeddings, bm25_results_dir, bm25_scorer, build_candidates, dense_scorer, fallback_pools, rescore,
)
from negmine.retrieve import fusion
from negmine.retrieve.bm25_sharded import bm25_index
from negmine.retrieve.candidates import Candidates
from negmine.testing.hash_embedder import HashEmbedder

DOCS = ["sleep night rest", "coffee cup bean", "battery charge cell", "sleep dream bed", "coffee espresso roast",
        "river water flow", "night owl sleep", "cell phone charge", "bean soup recipe", "quiet night river"]
QUERIES = ["sleep at night", "coffee bean roast", "charge the battery cell"]
QUERY_IDS = ["qa", "qb", "qc"]
DIM = 64


@pytest.fixture
def configs(tmp_path):
    encoder = EncoderConfig(show_progress=False, use_cache=False, cache_dir=tmp_path / "cache")
    return encoder, EngineConfig(work_dir=tmp_path / "work", workers=1)


@pytest.fixture
def build(configs):
    """``build(method, depth, **retrieve_options)`` -> CandidateSet; every lease is released at teardown."""
    encoder, engine = configs
    built = []

    def make(method="dense", depth=4, embedder=None, **options):
        embedder = embedder if embedder is not None or method == "bm25" else HashEmbedder(DIM)
        cands = build_candidates(list(QUERY_IDS), QUERIES, DOCS, RetrieveConfig(method=method, depth=depth, **options),
                                 encoder, embedder, None, engine_config=engine)
        built.append(cands)
        return cands

    yield make
    for cands in built:
        if cands.lease is not None:
            cands.lease.release()


def cosines() -> np.ndarray:
    emb = HashEmbedder(DIM)
    return emb.encode(QUERIES) @ emb.encode(DOCS).T


def bm25_candidates(queries=QUERIES, depth=4) -> Candidates:
    return bm25_index(DOCS).search(list(queries), depth)


def assert_top_depth(cands: Candidates, full: np.ndarray) -> None:
    """Every row holds ``depth`` documents best first, none outscored by a document left out."""
    for q in range(len(full)):
        rows, scores = cands.row(q)
        assert len(rows) == cands.depth and len(set(rows.tolist())) == len(rows)
        np.testing.assert_allclose(scores, full[q, rows], atol=1e-6)
        assert np.all(np.diff(scores) <= 1e-7), "best first"
        left_out = np.setdiff1d(np.arange(full.shape[1]), rows)
        assert full[q, left_out].max() <= scores.min() + 1e-6


# build_candidates


def test_dense_pools_are_the_top_depth_cosines_and_the_scorer_agrees(build, configs):
    cands = build("dense", depth=4)
    full = cosines()
    assert cands.query_ids == QUERY_IDS and cands.candidates.depth == 4
    assert_top_depth(cands.candidates, full)
    q_rows, d_rows = np.array([0, 2, 1, 0]), np.array([9, 0, 4, 3])
    np.testing.assert_allclose(cands.score(q_rows, d_rows), full[q_rows, d_rows], atol=1e-6)
    assert cands.embeddings.queries.shape == (3, DIM) and cands.embeddings.documents.shape == (10, DIM)
    assert (cands.encoded, cands.cached) == (len(DOCS) + len(QUERIES), 0)
    assert cands.run_dir.parent == configs[1].work_dir and cands.engine_info["engine"] == "local"


def test_depth_is_capped_at_the_corpus_size(build):
    for method in ("dense", "bm25", "hybrid"):
        cands = build(method, depth=50)
        assert cands.candidates.depth == len(DOCS), method


def test_the_finished_dense_run_folder_goes_with_its_lease(build):
    cands = build("dense")
    assert cands.run_dir.is_dir()
    assert cands.lease.remove_if_last() and not cands.run_dir.exists()


def test_bm25_pools_need_no_embedder_and_are_scored_on_the_bm25_scale(build, configs):
    cands = build("bm25", depth=4)
    expected = bm25_candidates()
    np.testing.assert_array_equal(cands.candidates.indices, expected.indices)
    np.testing.assert_array_equal(cands.candidates.scores, expected.scores)
    rows, cols = np.nonzero(cands.candidates.indices >= 0)
    np.testing.assert_allclose(cands.score(rows, cands.candidates.indices[rows, cols]),
                               cands.candidates.scores[rows, cols], rtol=1e-6)
    assert cands.embeddings is None and (cands.encoded, cands.cached) == (0, 0) and cands.engine_info is None
    assert cands.run_dir == bm25_results_dir(configs[1].work_dir, QUERIES, DOCS, 4)


def test_hybrid_pools_are_in_rrf_order_with_dense_scores(build):
    dense = build("dense", depth=4).candidates
    cands = build("hybrid", depth=4)
    expected = fusion.rrf([dense, bm25_candidates()], 4, k=60)
    assert expected.indices.tolist() != dense.indices.tolist(), "the fixture's fused order differs from the dense one"
    np.testing.assert_array_equal(cands.candidates.indices, expected.indices)
    full = cosines()
    for q in range(len(QUERIES)):
        rows, scores = cands.candidates.row(q)
        np.testing.assert_allclose(scores, full[q, rows], atol=1e-6)
    assert cands.embeddings is not None
    assert (cands.encoded, cands.cached, cands.resumed) == (0, 0, len(DOCS) + len(QUERIES)), \
        "the dense run above left its stores to reuse"


def test_weighted_hybrid_pools_follow_the_dense_weight(build):
    dense = build("dense", depth=4).candidates
    only_dense = build("hybrid", depth=4, fusion="weighted", dense_weight=1.0).candidates
    np.testing.assert_array_equal(only_dense.indices, dense.indices)
    np.testing.assert_allclose(only_dense.scores, dense.scores, atol=1e-6)
    only_bm25 = build("hybrid", depth=4, fusion="weighted", dense_weight=0.0).candidates
    bm25 = bm25_candidates()
    np.testing.assert_array_equal(only_bm25.indices, bm25.indices)
    full = cosines()
    rows, cols = np.nonzero(bm25.indices >= 0)
    np.testing.assert_allclose(only_bm25.scores[rows, cols], full[rows, bm25.indices[rows, cols]], atol=1e-6)
    assert np.all(np.isneginf(only_bm25.scores[bm25.indices < 0])), "padding stays -inf"


def test_hybrid_keeps_its_bm25_shards_in_the_dense_run_folder(build, configs):
    cands = build("hybrid", depth=4, bm25_shard_size=3)
    (shards,) = list(cands.run_dir.glob("bm25-*"))
    assert list(shards.glob("*.npz")), "sharded BM25 results kept for resume"
    assert not list(configs[1].work_dir.glob("bm25-*")), "nothing left beside the run folder"
    assert cands.lease.remove_if_last() and not cands.run_dir.exists()


def test_fusion_uses_the_configured_rule_and_its_parameter():
    from negmine.pipeline.candidates import _fuse

    # A tops the dense pool only, E the BM25 pool only; B is third and fourth: a small k favours A and E
    a, x, b, y, e, z, w = range(7)
    dense = Candidates(np.array([[a, x, b, y]], np.int64), np.array([[0.9, 0.8, 0.7, 0.1]], np.float32))
    bm25 = Candidates(np.array([[e, z, w, b]], np.int64), np.array([[12.0, 3.0, 2.5, 2.0]], np.float32))
    small, large = (_fuse(dense, bm25, RetrieveConfig(fusion="rrf", rrf_k=k), 4) for k in (1, 60))
    assert small.indices.tolist() == fusion.rrf([dense, bm25], 4, k=1).indices.tolist()
    assert large.indices.tolist() == fusion.rrf([dense, bm25], 4, k=60).indices.tolist()
    assert small.indices[0, 0] != b and large.indices[0, 0] == b
    for weight in (0.2, 0.9):
        got = _fuse(dense, bm25, RetrieveConfig(fusion="weighted", dense_weight=weight), 3)
        want = fusion.weighted([dense, bm25], [weight, 1.0 - weight], 3)
        assert got.indices.tolist() == want.indices.tolist() and got.scores.tolist() == want.scores.tolist()
    assert _fuse(dense, bm25, RetrieveConfig(fusion="weighted", dense_weight=0.2), 1).indices.tolist() == [[e]]
    assert _fuse(dense, bm25, RetrieveConfig(fusion="weighted", dense_weight=0.9), 1).indices.tolist() == [[a]]


# rescore and the scorers


def test_rescore_keeps_the_order_and_replaces_only_real_candidates():
    cands = Candidates(np.array([[2, 0, -1], [-1, -1, -1], [1, 3, 4]], np.int64),
                       np.array([[9, 8, -np.inf], [-np.inf] * 3, [7, 6, 5]], np.float32))
    calls = []

    def score(q_rows, d_rows):
        calls.append((q_rows.tolist(), d_rows.tolist()))
        return 10.0 * q_rows + d_rows

    out = rescore(cands, score)
    assert out.indices is cands.indices and out.scores.dtype == np.float32
    assert out.scores.tolist() == [[2, 0, -np.inf], [-np.inf] * 3, [21, 23, 24]]
    assert calls == [([0, 0, 2, 2, 2], [2, 0, 1, 3, 4])], "one call, padding left out"
    assert cands.scores[0, 0] == 9, "the input is not changed"


def test_dense_scorer_is_the_dot_product_of_the_rows_given():
    queries = np.array([[1, 0], [0, 1]], np.float32)
    documents = np.array([[0.6, 0.8], [1, 0], [0, -1]], np.float32)
    score = dense_scorer(Embeddings(queries, documents, 0, 0))
    np.testing.assert_allclose(score(np.array([0, 1, 1]), np.array([0, 0, 2])), [0.6, 0.8, -1.0])
    with pytest.raises(IndexError, match=r"document row out of range \[0, 3\)"):
        score(np.array([0]), np.array([3]))


def test_bm25_scorer_scores_each_pair_with_its_querys_text():
    calls = []

    class Index:
        def score(self, text, rows):
            calls.append((text, rows.tolist()))
            return np.array([len(text) + 0.5 * rows[0]], np.float32)

    score = bm25_scorer(Index(), ["ab", "abcd"])
    out = score(np.array([1, 0, 1]), np.array([2, 4, 0]))
    assert out.dtype == np.float32 and out.tolist() == [5.0, 4.0, 4.0]
    assert calls == [("abcd", [2]), ("ab", [4]), ("abcd", [0])]
    assert score(np.array([], np.int64), np.array([], np.int64)).shape == (0,)


def test_bm25_scorer_matches_the_retrieval_scores():
    index = bm25_index(DOCS)
    found = index.search(QUERIES, 3)
    rows, cols = np.nonzero(found.indices >= 0)
    np.testing.assert_allclose(bm25_scorer(index, QUERIES)(rows, found.indices[rows, cols]),
                               found.scores[rows, cols], rtol=1e-6)


# fallback_pools


def test_fallback_pools_fuse_bm25_for_the_given_query_rows_only_and_keep_dense_scores(build, configs):
    cands = build("dense", depth=4)
    encoder, engine = configs
    pools = fallback_pools(cands, [2, 0], QUERIES, DOCS, RetrieveConfig(depth=4), encoder, engine_config=engine).pools
    dense = Candidates(cands.candidates.indices[[2, 0]], cands.candidates.scores[[2, 0]])
    expected = fusion.rrf([dense, bm25_candidates([QUERIES[2], QUERIES[0]])], 4, k=60)
    np.testing.assert_array_equal(pools.indices, expected.indices)
    full = cosines()
    for i, query_row in enumerate([2, 0]):
        rows, scores = pools.row(i)
        np.testing.assert_allclose(scores, full[query_row, rows], atol=1e-6)


def test_fallback_pools_follow_the_fusion_setting(build, configs):
    cands = build("dense", depth=4)
    encoder, engine = configs
    weighted = RetrieveConfig(depth=4, fusion="weighted", dense_weight=0.0)
    pools = fallback_pools(cands, [1], QUERIES, DOCS, weighted, encoder, engine_config=engine).pools
    np.testing.assert_array_equal(pools.indices, bm25_candidates([QUERIES[1]]).indices)


# bm25_results_dir


def test_bm25_results_folder_is_keyed_by_the_texts_and_the_depth(tmp_path):
    path = bm25_results_dir(tmp_path, QUERIES, DOCS, 10)
    assert path.parent == tmp_path and re.fullmatch(r"bm25-[0-9a-f]{32}", path.name)
    assert bm25_results_dir(tmp_path, list(QUERIES), list(DOCS), 10) == path, "same job, same folder"
    others = {
        bm25_results_dir(tmp_path, QUERIES, DOCS, 11),
        bm25_results_dir(tmp_path, QUERIES[:2], DOCS, 10),
        bm25_results_dir(tmp_path, QUERIES, [*DOCS[:-1], "changed"], 10),
        bm25_results_dir(tmp_path, QUERIES, DOCS[::-1], 10),
        bm25_results_dir(tmp_path, DOCS, QUERIES, 10),
    }
    assert len(others) == 5 and path not in others
