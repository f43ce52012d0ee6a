import numpy as np
import pytest

from negmine.retrieve.ann import (
    CALIBRATION_QUERIES,
    MIN_ANN_ROWS,
    PQ_MIN_TRAIN,
    TRAIN_PER_LIST,
    ann_search,
    breadth_steps,
    build_index,
    calibration_steps,
    coarse_centroids,
    exact_rescore,
    factory_string,
    hnsw_build_is_deterministic,
    list_coverage,
    n_lists,
    proposals,
    sample_recall,
    start_breadth,
    training_rows,
    visited_share,
)
from negmine.retrieve.candidates import PAD_INDEX, Candidates
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
    found = ann_search(queries, docs, 30, index, nprobe=16, offset=7).candidates
    exact = dense_search(queries, docs, 30, offset=7)
    recall = np.mean([len(set(a) & set(b)) / 30 for a, b in zip(found.indices, exact.indices)])
    assert recall > 0.9, f"{index}: recall@30 {recall:.2f}"
    rows = found.indices - 7
    assert np.allclose(found.scores, np.einsum("qkd,qd->qk", docs[rows], queries), atol=1e-5)
    assert np.all(np.diff(found.scores, axis=1) <= 0)
    assert np.array_equal(found.indices[:, 0], exact.indices[:, 0])  # each query's own near-copy comes first


def test_small_shard_is_searched_exactly():
    queries, docs = clustered(500, 5)
    found = ann_search(queries, docs, 8, "hnsw").candidates
    exact = dense_search(queries, docs, 8)
    assert np.array_equal(found.indices, exact.indices) and np.array_equal(found.scores, exact.scores)


def test_depth_beyond_shard_pads():
    queries, docs = clustered(30, 2)
    found = ann_search(queries, docs, 40, "ivf").candidates
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
        found = ann_search(queries, docs, 30, "ivfpq", nprobe=64, refine=refine).candidates
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
    whole = ann_search(queries, docs, 30, "ivfpq", refine=8).candidates
    batches = []
    real_rescore = ann.exact_rescore
    monkeypatch.setattr(ann, "PROPOSAL_BYTES", 16 * 240 * 7)  # 7 queries' proposals (30 x 8) at a time
    monkeypatch.setattr(ann, "exact_rescore", lambda q, b, l: batches.append(len(q)) or real_rescore(q, b, l))
    split = ann_search(queries, docs, 30, "ivfpq", refine=8).candidates
    assert max(batches) == 7 and sum(batches) == 40
    assert np.array_equal(whole.indices, split.indices) and np.array_equal(whole.scores, split.scores)


@pytest.fixture
def keep_ann(monkeypatch):
    """Calibrated searches stay ANN at any breadth (the shards here are small: the cost rule would go exact)."""
    import negmine.retrieve.ann as ann

    monkeypatch.setattr(ann, "EXACT_SHARE", float("inf"))


def unclustered(n_docs: int, n_queries: int, dim: int = 16, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Uniform unit vectors: no cluster structure, so IVF needs many lists for a good recall."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_docs + n_queries, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x[n_docs:], x[:n_docs]


def recall_of(found, exact) -> float:
    return float(np.mean([len(set(a) & set(b)) / exact.indices.shape[1] for a, b in zip(found.indices, exact.indices)]))


def test_hnsw_build_is_deterministic_from_faiss_1_15_1():
    assert [hnsw_build_is_deterministic(v) for v in ["1.8.0", "1.9.0.post1", "1.15.0", "1.15.1", "1.16.0", "2.0"]] == [
        False, False, False, True, True, True]


@pytest.mark.parametrize(("version", "index", "one_thread"), [
    ("1.15.0", "hnsw", True), ("1.15.1", "hnsw", False), ("1.8.0", "ivf", False)])
def test_hnsw_graph_is_built_on_one_thread_when_faiss_would_build_another_one_each_run(monkeypatch, version, index, one_thread):
    """FAISS before 1.15.1 inserts HNSW nodes from several threads in an unspecified order: another graph,
    so other candidates, on each run (measured on 1.8.0-1.15.0); IVF adds are deterministic on any thread count."""
    import faiss

    threads = faiss.omp_get_max_threads()
    calls = []
    monkeypatch.setattr(faiss, "__version__", version)
    monkeypatch.setattr(faiss, "omp_set_num_threads", lambda n: calls.append(n))
    _, docs = unclustered(2_000, 0, 16)
    built = build_index(docs, index, 64)
    assert built.ntotal == len(docs)
    assert calls == ([1, threads] if one_thread else [])


def test_breadth_steps_double_up_to_every_list_or_point():
    assert breadth_steps("ivf", 16, 10_000) == [16, 32, 64, 100]  # 100 lists: the last step scans them all
    assert breadth_steps("ivf", 500, 10_000) == [100]
    assert breadth_steps("hnsw", 64, 300) == [64, 128, 256, 300]
    assert start_breadth("hnsw", 100, 16) == 200 and start_breadth("hnsw", 10, 16) == 64
    assert start_breadth("ivf", 100, 16) == 16


def test_sample_recall_counts_scores_up_to_the_exact_kth_with_ties_and_padding():
    exact = np.array([[0.9, 0.8, 0.7, -np.inf], [0.5, 0.5, -np.inf, -np.inf]], dtype=np.float32)
    found = np.array([[0.9, 0.7, 0.6, 0.1], [0.5, 0.4, -np.inf, -np.inf]], dtype=np.float32)
    assert sample_recall(found, exact) == pytest.approx((2 / 3 + 1 / 2) / 2)
    tied = np.array([[0.7, 0.7, 0.7]], dtype=np.float32)  # other documents of the same tie: all correct
    assert sample_recall(tied, np.array([[0.7, 0.7, 0.7]], dtype=np.float32)) == 1.0
    assert sample_recall(np.array([[0.7 - 1e-7]]), np.array([[0.7]])) == 1.0  # rounding of two exact scorers
    assert sample_recall(found[:0], exact[:0]) == 1.0


def test_calibration_steps_double_ivfpq_refine_with_nprobe_within_the_rescore_cap():
    assert calibration_steps("ivf", 16, 8, 10, 10_000, 64) == [(16, 1), (32, 1), (64, 1), (100, 1)]
    assert calibration_steps("ivfpq", 16, 8, 10, 10_000, 64) == [(16, 8), (32, 16), (64, 32), (100, 64)]
    assert calibration_steps("ivfpq", 64, 8, 1000, 10_000, 64)[-1] == (100, 10)  # 10 x depth 1000: the whole shard
    big = calibration_steps("ivfpq", 16, 8, 100, 1_000_000, 384)
    fits = (64 << 20) // (100 * 384 * 4)  # one query's proposals gathered for re-scoring stay within 64 MB
    assert big[-1] == (1000, fits) and [r for _, r in big[:6]] == [8, 16, 32, 64, 128, 256]


@pytest.mark.parametrize(("index", "dim"), [("ivf", 16), ("ivfpq", 16), ("hnsw", 64)])
def test_target_recall_raises_the_breadth_until_the_sample_reaches_it(index, dim, keep_ann):
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 400, dim)
    exact = dense_search(queries, docs, 10)
    fixed = ann_search(queries, docs, 10, index, nprobe=1, refine=4)
    tuned = ann_search(queries, docs, 10, index, nprobe=1, refine=4, target_recall=0.95)
    assert fixed.sample_recall is None and fixed.breadth == start_breadth(index, 10, 1)
    assert (tuned.breadth, tuned.refine) > (fixed.breadth, fixed.refine), tuned[1:]
    assert tuned.sample_recall >= 0.95, tuned[1:]
    assert recall_of(tuned.candidates, exact) >= 0.93 > recall_of(fixed.candidates, exact)
    again = ann_search(queries, docs, 10, index, nprobe=1, refine=4, target_recall=0.95)
    assert again[1:] == tuned[1:] and np.array_equal(again.candidates.indices, tuned.candidates.indices)


def test_ivfpq_calibration_raises_refine_with_nprobe(keep_ann):
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 400)  # PQ2 on 16-d vectors: coarse compressed distances
    tuned = ann_search(queries, docs, 10, "ivfpq", nprobe=1, refine=4, target_recall=0.95)
    sample = queries[np.linspace(0, len(queries) - 1, CALIBRATION_QUERIES).astype(np.int64)]
    covered = list_coverage(coarse_centroids(docs, "ivfpq"), sample, docs, dense_search(sample, docs, 20), 10)
    steps = calibration_steps("ivfpq", 1, 4, 10, len(docs), 16, covered, 0.95)
    assert (tuned.breadth, tuned.refine) in steps[1:] and tuned.refine > 4 and tuned.sample_recall >= 0.95
    assert covered(tuned.breadth) >= 0.95 > covered(tuned.breadth // 2)  # the lists the target needs, no fewer


def test_calibration_steps_skip_uncovered_breadths_and_raise_ivfpq_refine_alone_when_lists_hold_enough():
    covered = {16: 0.5, 32: 0.85, 64: 0.97, 128: 1.0, 100: 1.0}.get  # 100 lists in a 10,000-vector shard
    assert calibration_steps("ivf", 16, 1, 10, 10_000, 64, covered, 0.9) == [(64, 1), (100, 1)]
    assert calibration_steps("ivfpq", 16, 8, 10, 10_000, 64, covered, 0.9) == [
        (64, 8), (64, 16), (64, 32), (64, 64), (64, 128), (64, 256), (64, 512), (64, 1000), (100, 1000)]
    tight = {16: 0.91, 32: 0.93, 64: 0.96, 100: 1.0}.get  # below (1 + 0.9) / 2: the lists limit recall too
    assert calibration_steps("ivfpq", 16, 8, 10, 10_000, 64, tight, 0.9)[:4] == [(16, 8), (32, 16), (64, 32), (64, 64)]
    nothing = {16: 0.0, 32: 0.0, 64: 0.0, 100: 0.0}.get  # a target above what even every list holds: the last step
    assert calibration_steps("ivf", 16, 1, 10, 10_000, 64, nothing, 0.9) == [(100, 1)]


def test_target_recall_stops_at_the_first_breadth_that_reaches_it(keep_ann):
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 400)
    tuned = ann_search(queries, docs, 10, "ivf", nprobe=1, target_recall=0.8)
    steps = breadth_steps("ivf", 1, len(docs))
    assert tuned.breadth in steps[1:]
    sample = queries[np.linspace(0, len(queries) - 1, CALIBRATION_QUERIES).astype(np.int64)]
    exact = dense_search(sample, docs, 10).scores

    def recall_at(breadth):
        return sample_recall(ann_search(sample, docs, 10, "ivf", nprobe=breadth).candidates.scores, exact)

    before = steps[steps.index(tuned.breadth) - 1]
    assert recall_at(before) < 0.8 <= recall_at(tuned.breadth)
    assert recall_at(tuned.breadth) == pytest.approx(tuned.sample_recall)
    full = ann_search(queries, docs, 10, "ivf", nprobe=1, target_recall=1.0)
    assert full.sample_recall == 1.0 and full.breadth <= steps[-1]


def test_few_queries_with_a_target_are_searched_exactly():
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, CALIBRATION_QUERIES)
    found = ann_search(queries, docs, 10, "ivf", nprobe=1, target_recall=0.9)
    exact = dense_search(queries, docs, 10)
    assert found.breadth == 0 and found.sample_recall == 1.0
    assert np.array_equal(found.candidates.indices, exact.indices)


def test_ivfpq_skips_polysemous_training():
    import faiss

    _, docs = clustered(MIN_ANN_ROWS + 2_000, 1, dim=32)
    built = faiss.downcast_index(build_index(docs, "ivfpq", 4))
    assert isinstance(built, faiss.IndexIVFPQ) and not built.do_polysemous_training and built.nprobe == 4


def test_visited_share_per_index():
    assert visited_share("ivf", 16, 1, 10, 1_000_000) == 16 / 1000
    assert visited_share("ivfpq", 16, 8, 100, 1_000_000) == pytest.approx(16 / 1000 + 800 / 1_000_000)
    assert visited_share("hnsw", 64, 1, 10, 1_000_000) == 64 * 64 / 1_000_000


def test_calibration_that_visits_much_of_the_shard_searches_it_exactly():
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 400)  # IVF needs about half the lists here
    found = ann_search(queries, docs, 10, "ivf", nprobe=1, target_recall=0.95)
    exact = dense_search(queries, docs, 10)
    assert (found.breadth, found.refine, found.sample_recall) == (0, 0, 1.0)
    assert np.array_equal(found.candidates.indices, exact.indices)


def test_calibration_that_stays_cheap_keeps_the_index():
    queries, docs = clustered(MIN_ANN_ROWS + 2_000, 400)  # tight clusters: a few lists hold the top 10
    found = ann_search(queries, docs, 10, "ivf", nprobe=1, target_recall=0.9)
    assert found.breadth >= 1 and visited_share("ivf", found.breadth, 1, 10, len(docs)) <= 1 / 16, found[1:]
    assert found.sample_recall >= 0.9


def test_centroids_given_to_the_build_give_the_same_index_as_its_own_training():
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 50, dim=32)
    for index in ("ivf", "ivfpq"):
        own, given = build_index(docs, index, 8), build_index(docs, index, 8, coarse_centroids(docs, index))
        assert [a.tolist() for a in own.search(queries, 10)] == [a.tolist() for a in given.search(queries, 10)]


@pytest.mark.parametrize("index", ["ivf", "ivfpq"])
def test_list_coverage_is_ivf_recall_and_bounds_ivfpq_recall(index, keep_ann):
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 200, dim=16)
    exact = dense_search(queries, docs, 10)
    covered = list_coverage(coarse_centroids(docs, index), queries, docs, dense_search(queries, docs, 20), 10)
    assert covered(0) == 0.0 and covered(n_lists(len(docs))) == 1.0
    for breadth in (1, 4, 16):
        found = ann_search(queries, docs, 10, index, nprobe=breadth, refine=2).candidates
        recall = sample_recall(found.scores, exact.scores)
        if index == "ivf":  # list scans are exact: what the lists hold is what the search finds
            assert covered(breadth) == pytest.approx(recall, abs=1e-9), breadth
        else:  # compressed distances lose some of what the probed lists hold
            assert covered(breadth) >= recall and covered(breadth) < 1.0, breadth
    assert covered(1) < covered(4) < covered(16)


def test_list_coverage_ignores_padding():
    centroids = np.eye(2, dtype=np.float32)
    block = np.array([[1, 0], [0, 1]], dtype=np.float32)
    sample = np.array([[1, 0.1]], dtype=np.float32)  # nearest list: 0, then 1
    padded = Candidates(np.array([[1, -1]]), np.array([[0.1, -np.inf]], dtype=np.float32))  # one real, in list 1
    covered = list_coverage(centroids, sample, block, padded, 2)
    assert (covered(1), covered(2)) == (0.0, 1.0)
    assert list_coverage(centroids, sample, block, Candidates(padded.indices[:, 1:], padded.scores[:, 1:]), 2)(1) == 1.0


def test_list_coverage_counts_any_document_of_a_tie_at_the_kth_score():
    centroids = np.eye(2, dtype=np.float32)
    block = np.array([[0.5, 0.1], [0.1, 0.5]], dtype=np.float32)  # the same score for the query, lists 0 and 1
    sample = np.array([[1, 1]], dtype=np.float32)
    exact = dense_search(sample, block, 2)
    assert exact.scores[0, 0] == exact.scores[0, 1]
    top1 = list_coverage(centroids, sample, block, exact, 1)
    assert top1(1) == 1.0  # exact search kept row 0; the nearest list holds the tied row either way
    assert list_coverage(centroids, sample, block, exact, 2)(1) == 0.5
    assert top1(0) == 0.0
    three = np.vstack([block, [[0.3, 0.3]]]).astype(np.float32)  # a third document of the same tie
    cut = list_coverage(centroids, sample, three, dense_search(sample, three, 2), 1)  # the tie outruns 2 columns
    assert cut(0) == 1.0  # unknown lists: counted as covered, so the measured recall decides


def test_uncovered_target_goes_exact_without_building_the_index(monkeypatch):
    import negmine.retrieve.ann as ann

    monkeypatch.setattr(ann, "build_index", lambda *a, **k: pytest.fail("an index was built"))
    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 400)
    for index in ("ivf", "ivfpq"):
        found = ann_search(queries, docs, 10, index, nprobe=1, target_recall=0.95)
        assert (found.breadth, found.refine, found.sample_recall) == (0, 0, 1.0)


def test_nearest_lists_in_bounded_chunks_match_one_search(monkeypatch):
    import faiss

    import negmine.retrieve.ann as ann

    _, docs = clustered(2_000, 1, dim=16)
    quantizer = faiss.IndexFlatIP(16)
    quantizer.add(docs[:40])
    rows = np.arange(5, 1_905, 3)
    whole = ann.nearest_lists(quantizer, docs, rows)
    assert np.array_equal(whole, quantizer.search(docs[rows], 1)[1][:, 0])
    monkeypatch.setattr(ann, "RESCORE_BYTES", 4 * 16 * 50)  # 50 vectors at a time
    searched = []
    real_search = quantizer.search
    monkeypatch.setattr(quantizer, "search", lambda x, k: searched.append(len(x)) or real_search(x, k))
    assert np.array_equal(ann.nearest_lists(quantizer, docs, rows), whole) and max(searched) == 50
    assert len(ann.nearest_lists(quantizer, docs, rows[:0])) == 0


@pytest.mark.parametrize("index", ["ivf", "hnsw", "ivfpq"])
def test_a_shard_too_small_for_the_narrowest_breadth_goes_exact_before_any_calibration_work(index, monkeypatch):
    """When even the first breadth would visit more than EXACT_SHARE of the shard, the exact search is chosen
    before the calibration sample's exact search, k-means or a graph build (all were done in vain before)."""
    import negmine.retrieve.ann as ann
    import negmine.retrieve.dense as dense

    queries, docs = unclustered(MIN_ANN_ROWS + 2_000, 400)
    refine = 8 if index == "ivfpq" else 1
    assert visited_share(index, start_breadth(index, 10, 16), refine, 10, len(docs)) > 1 / 16
    searched: list[int] = []
    monkeypatch.setattr(dense, "dense_search", lambda q, *a, **k: searched.append(len(q)) or dense_search(q, *a, **k))
    monkeypatch.setattr(ann, "build_index", lambda *a, **k: pytest.fail("an index was built"))
    monkeypatch.setattr(ann, "coarse_centroids", lambda *a, **k: pytest.fail("k-means ran"))
    found = ann_search(queries, docs, 10, index, nprobe=16, refine=refine, target_recall=0.9)
    assert (found.breadth, found.refine, found.sample_recall) == (0, 0, 1.0)
    assert searched == [len(queries)]  # the one exact search of every query, no calibration sample
    exact = dense_search(queries, docs, 10)
    assert np.array_equal(found.candidates.indices, exact.indices)
    assert np.array_equal(found.candidates.scores, exact.scores)


def test_hnsw_out_of_reach_goes_exact_without_building_the_graph(monkeypatch):
    """Uniform 384-d vectors: at efSearch 64, the one a 65,536-row shard affords, an HNSW graph over all of them
    recalls far less than 0.9 of the exact top 10 (0.15 measured on 80,000). The graph was built (about two
    minutes on 2 loaded cores), calibrated and dropped for exact search; a graph over part of the shard tells."""
    import negmine.retrieve.ann as ann

    built: list[int] = []
    monkeypatch.setattr(ann, "build_index", lambda block, *a, **k: built.append(len(block)) or pytest.fail("built"))
    queries, docs = unclustered(65_536, CALIBRATION_QUERIES + 44, dim=384)
    assert visited_share("hnsw", 64, 1, 10, len(docs)) <= 1 / 16 < visited_share("hnsw", 128, 1, 10, len(docs))
    found = ann_search(queries, docs, 10, "hnsw", target_recall=0.9)
    assert built == [] and (found.breadth, found.refine, found.sample_recall) == (0, 0, 1.0)
    exact = dense_search(queries, docs, 10)
    assert np.array_equal(found.candidates.indices, exact.indices)
    assert np.array_equal(found.candidates.scores, exact.scores)


def test_hnsw_in_reach_builds_the_one_graph_it_built_before(monkeypatch):
    """Where a graph over part of the shard reaches the target, the full graph is built once and searched as
    without the probe: the same candidates as that graph built and searched directly."""
    import negmine.retrieve.ann as ann

    monkeypatch.setattr(ann, "EXACT_SHARE", 0.5)  # a small shard that affords efSearch 64 (not 128)
    queries, docs = clustered(MIN_ANN_ROWS + 2_000, 400)
    assert visited_share("hnsw", 64, 1, 10, len(docs)) <= 0.5 < visited_share("hnsw", 128, 1, 10, len(docs))
    built: list[int] = []
    real_build = ann.build_index

    def counted(block, *args, **kwargs):
        built.append(len(block))
        return real_build(block, *args, **kwargs)

    monkeypatch.setattr(ann, "build_index", counted)
    found = ann_search(queries, docs, 10, "hnsw", target_recall=0.9)
    assert built == [len(docs)] and found.breadth == 64 and found.sample_recall >= 0.9, found[1:]
    direct = ann._Searcher(real_build(docs, "hnsw", 64), docs, 10, 4096)(queries, 0, 10)
    assert np.array_equal(found.candidates.indices, direct[0]) and np.array_equal(found.candidates.scores, direct[1])
