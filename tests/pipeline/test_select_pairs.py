from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from negmine.config import FilterConfig, SelectConfig
from negmine.io.records import Corpus, Dataset, Pair, Qrels, Queries
from negmine.pipeline.candidates import CandidateSet
from negmine.pipeline.select_pairs import (
    SKIP_INCONSISTENT, SKIP_NO_BM25_WORDS, SKIP_NONE, SKIP_TOO_FEW, SelectionStats, _choose_pool, _skip_reason,
    build_context, eligible_count, fallback_query_ids, pair_pool, select_pairs, window_rows,
)
from negmine.retrieve.candidates import Candidates

IDS = ["p1", "p1dup", "p2", "qcopy", "n1", "n2", "n3", "n4", "t1", "n5"]
TEXTS = ["melatonin helps sleep", "Melatonin helps SLEEP.", "caffeine delays sleep", "what helps sleep",
         "coffee beans", "battery cells", "river banks", "violin strings", "twin positive", "garden soil"]
ROW = {doc: i for i, doc in enumerate(IDS)}
QUERY_ORDER = ["q2", "q1", "qt"]  # candidate rows, deliberately not the qrels order
SCORES = {  # query -> {doc: score}; every other (query, doc) scores 0
    "q1": {"n1": 0.9, "p1dup": 0.85, "qcopy": 0.8, "t1": 0.75, "p1": 0.7, "n2": 0.6, "n3": 0.5, "p2": 0.4, "n4": 0.3},
    "q2": {"n2": 0.9, "n4": 0.5, "n5": 0.4, "n1": 0.2},
    "qt": {"n1": 0.8, "t1": 0.7, "p1": 0.6, "n3": 0.1},
}


def dataset() -> Dataset:
    queries = Queries(["q1", "qt", "q2"], ["what helps sleep", "What helps sleep?", "battery power"])
    qrels = Qrels({"q1": {"p1": 1, "p2": 1, "n5": 0}, "qt": {"t1": 1}, "q2": {"n2": 1}})
    return Dataset(Corpus(IDS, TEXTS), queries, qrels)


def score_matrix() -> np.ndarray:
    matrix = np.zeros((len(QUERY_ORDER), len(IDS)), dtype=np.float32)
    for q, scores in SCORES.items():
        for doc, score in scores.items():
            matrix[QUERY_ORDER.index(q), ROW[doc]] = score
    return matrix


def candidates(pools: dict[str, list[str]], order=QUERY_ORDER, depth=10) -> Candidates:
    """Rows in ``order``, each the given documents best first with their scores, padded to ``depth``."""
    matrix = score_matrix()
    indices = np.full((len(order), depth), -1, dtype=np.int64)
    scores = np.full((len(order), depth), -np.inf, dtype=np.float32)
    for i, q in enumerate(order):
        rows = [ROW[d] for d in pools.get(q, [])]
        indices[i, : len(rows)] = rows
        scores[i, : len(rows)] = matrix[QUERY_ORDER.index(q), rows]
    return Candidates(indices, scores)


def candidate_set() -> CandidateSet:
    matrix = score_matrix()
    pools = {q: sorted(s, key=s.get, reverse=True) for q, s in SCORES.items()}
    return CandidateSet(list(QUERY_ORDER), candidates(pools), lambda q, d: matrix[np.asarray(q), np.asarray(d)])


def context(margin_from="pair"):
    return build_context(dataset(), candidate_set(), margin_from)


def with_fallback(ctx, pools: dict[str, list[str]]):
    order = list(pools)
    return replace(ctx, fallback=candidates(pools, order), fallback_row={q: i for i, q in enumerate(order)})


NO_FILTERS = FilterConfig(sd_margin=None)


def run(ctx, pairs, filters=NO_FILTERS, select=SelectConfig(num_negatives=2), hook=None):
    stats = SelectionStats()
    rows = list(select_pairs(ctx, pairs, filters, select, stats, hook, show_progress=False))
    return rows, stats


# build_context


def test_context_maps_query_ids_to_candidate_rows_and_pools_positives_of_text_twins():
    ctx = context()
    assert ctx.query_row == {"q2": 0, "q1": 1, "qt": 2}
    assert sorted(ctx.positive_rows["q1"]) == sorted(ctx.positive_rows["qt"]) == [ROW["p1"], ROW["p2"], ROW["t1"]]
    assert ctx.positive_rows["q2"] == [ROW["n2"]]
    assert ctx.lowest_positive is False and ctx.fallback is None and ctx.fallback_row == {}
    assert context("lowest-positive").lowest_positive is True


# pair_pool


def test_pool_drops_every_positive_their_duplicates_and_the_query_text_keeping_order_and_ranks():
    pool = pair_pool(context(), Pair("q1", "p1"))
    # p1dup (duplicate of p1), qcopy (the query's text), t1 (the text twin's positive), p1 and p2 are gone
    assert [IDS[i] for i in pool.indices] == ["n1", "n2", "n3", "n4"]
    assert pool.ranks.tolist() == [1, 6, 7, 9], "ranks count the excluded candidates"
    assert pool.scores.tolist() == pytest.approx([0.9, 0.6, 0.5, 0.3])
    assert pool.scores.dtype == np.float32 and pool.indices.dtype == np.int64
    assert pool.positive_score == pytest.approx(0.7) and pool.margin_score is None


def test_a_text_held_under_several_ids_is_a_candidate_once_at_its_best_rank():
    ids = ["pos", "soil1", "soil2", "tea", "soil3"]
    texts = ["melatonin helps sleep", "Garden soil", "garden   SOIL.", "green tea", "garden soil"]
    data = Dataset(Corpus(ids, texts), Queries(["q"], ["what helps sleep"]), Qrels({"q": {"pos": 1}}))
    cands = Candidates(np.array([[1, 2, 3, 4]], np.int64), np.array([[0.9, 0.8, 0.7, 0.6]], np.float32))
    cset = CandidateSet(["q"], cands, lambda q, d: np.full(len(d), 0.95, np.float32))
    pool = pair_pool(build_context(data, cset), Pair("q", "pos"))
    assert [ids[i] for i in pool.indices] == ["soil1", "tea"] and pool.ranks.tolist() == [1, 3]


def test_each_pair_of_a_query_gets_its_own_positive_score_and_the_same_candidates():
    ctx = context()
    p1, p2 = pair_pool(ctx, Pair("q1", "p1")), pair_pool(ctx, Pair("q1", "p2"))
    assert p2.positive_score == pytest.approx(0.4)
    assert p1.indices.tolist() == p2.indices.tolist()


def test_a_positive_outside_the_candidates_is_scored_by_the_scorer():
    pool = pair_pool(context(), Pair("q2", "n2"))
    assert pool.positive_score == pytest.approx(0.9)
    assert [IDS[i] for i in pool.indices] == ["n4", "n5", "n1"] and pool.ranks.tolist() == [2, 3, 4]


def test_lowest_positive_margin_is_the_lowest_score_of_every_positive_of_the_query_and_its_twins():
    ctx = context("lowest-positive")
    # q1's positives p1 0.7, p2 0.4 and its twin's t1 0.75
    assert pair_pool(ctx, Pair("q1", "p1")).margin_score == pytest.approx(0.4)
    assert pair_pool(ctx, Pair("q1", "p2")).margin_score == pytest.approx(0.4)
    assert pair_pool(ctx, Pair("qt", "t1")).margin_score == pytest.approx(0.0), "qt scores p2 0"
    assert pair_pool(ctx, Pair("q1", "p1")).positive_score == pytest.approx(0.7), "the pair's own score stays"


def test_fallback_pool_comes_from_the_querys_fallback_row_with_the_same_exclusions():
    ctx = with_fallback(context(), {"qt": ["n5", "p1"], "q1": ["n5", "p1dup", "n4", "p2"]})
    pool = pair_pool(ctx, Pair("q1", "p1"), fallback=True)
    assert [IDS[i] for i in pool.indices] == ["n5", "n4"] and pool.ranks.tolist() == [1, 3]
    assert pool.positive_score == pytest.approx(0.7), "the positive is scored on the main query row"


# window_rows, eligible_count


def test_window_rows_are_the_candidate_rows_of_the_pairs_queries_once_sorted_without_padding():
    ctx = context()
    every = [Pair("q1", "p1"), Pair("q1", "p2"), Pair("qt", "t1"), Pair("q2", "n2")]
    expected = sorted({ROW[d] for scores in SCORES.values() for d in scores})
    assert window_rows(ctx, every).tolist() == expected and ROW["n5"] in expected
    assert window_rows(ctx, [Pair("q2", "n2")]).tolist() == sorted(ROW[d] for d in SCORES["q2"])
    extra = with_fallback(replace(ctx, cands=replace(ctx.cands, candidates=candidates({"q1": ["n1"]}))),
                          {"q1": ["n5", "n1"]})
    assert window_rows(extra, [Pair("q1", "p1")]).tolist() == [ROW["n1"], ROW["n5"]]
    assert window_rows(extra, [Pair("qt", "t1")]).tolist() == [], "qt has no candidates and no fallback pool"


def test_eligible_count_applies_the_filters_and_the_rank_window():
    pool = pair_pool(context(), Pair("q1", "p1"))  # scores 0.9, 0.6, 0.5, 0.3 at ranks 1, 6, 7, 9
    assert eligible_count(pool, NO_FILTERS, SelectConfig()) == 4
    assert eligible_count(pool, FilterConfig(sd_margin=None, absolute_margin=0.15), SelectConfig()) == 2
    assert eligible_count(pool, NO_FILTERS, SelectConfig(rank_min=2, rank_max=7)) == 2
    assert eligible_count(pool, NO_FILTERS, SelectConfig(strategy="range")) == 0, "range's default window is 10-100"


# fallback choice


def test_fallback_queries_are_the_short_ones_in_candidate_row_order():
    ctx = context()
    pairs = [Pair("qt", "t1"), Pair("q1", "p1"), Pair("q2", "n2")]
    # pools after exclusions: q1 4 candidates, q2 3, qt 2 (n1, n3)
    assert fallback_query_ids(ctx, pairs, NO_FILTERS, SelectConfig(num_negatives=3)) == ["qt"]
    assert fallback_query_ids(ctx, pairs, NO_FILTERS, SelectConfig(num_negatives=4)) == ["q2", "qt"]
    assert fallback_query_ids(ctx, pairs, NO_FILTERS, SelectConfig(num_negatives=5)) == ["q2", "q1", "qt"]
    assert fallback_query_ids(ctx, pairs, NO_FILTERS, SelectConfig(num_negatives=2)) == []
    assert fallback_query_ids(ctx, [], NO_FILTERS, SelectConfig(num_negatives=9)) == []


def test_the_own_pool_is_kept_unless_it_is_short_and_the_fallback_leaves_more():
    ctx = with_fallback(context(), {"qt": ["n5", "n4", "n2", "t1"], "q2": ["n4"]})
    three = SelectConfig(num_negatives=3)
    own = _choose_pool(ctx, Pair("q1", "p1"), NO_FILTERS, three)  # no fallback row for q1
    assert (own.tried_fallback, own.from_fallback) == (False, False) and len(own.pool) == 4
    full = _choose_pool(ctx, Pair("qt", "t1"), NO_FILTERS, SelectConfig(num_negatives=2))  # 2 of 2: not short
    assert (full.tried_fallback, full.from_fallback) == (False, False) and [IDS[i] for i in full.pool.indices] == [
        "n1", "n3"]
    taken = _choose_pool(ctx, Pair("qt", "t1"), NO_FILTERS, three)  # 2 short of 3; fallback leaves 3
    assert (taken.tried_fallback, taken.from_fallback) == (True, True)
    assert [IDS[i] for i in taken.pool.indices] == ["n5", "n4", "n2"]
    kept = _choose_pool(ctx, Pair("q2", "n2"), NO_FILTERS, SelectConfig(num_negatives=4))  # fallback leaves 1 < 3
    assert (kept.tried_fallback, kept.from_fallback) == (True, False)
    assert [IDS[i] for i in kept.pool.indices] == ["n4", "n5", "n1"]


def test_a_fallback_with_as_many_candidates_is_not_taken():
    ctx = with_fallback(context(), {"qt": ["n4", "n5"]})
    choice = _choose_pool(ctx, Pair("qt", "t1"), NO_FILTERS, SelectConfig(num_negatives=3))
    assert (choice.tried_fallback, choice.from_fallback) == (True, False)
    assert [IDS[i] for i in choice.pool.indices] == ["n1", "n3"]


# select_pairs


def test_rows_hold_the_chosen_negatives_with_ids_texts_scores_ranks_and_the_pool_spread():
    rows, stats = run(context(), [Pair("q1", "p1")])
    (row,) = rows
    assert (row["query_id"], row["query"], row["positive_id"], row["positive"]) == (
        "q1", "what helps sleep", "p1", "melatonin helps sleep")
    assert row["negative_ids"] == ["n1", "n2"] and row["negatives"] == ["coffee beans", "battery cells"]
    assert row["negative_scores"] == pytest.approx([0.9, 0.6]) and row["negative_ranks"] == [1, 6]
    assert row["positive_score"] == pytest.approx(0.7)
    assert row["candidate_score_sd"] == pytest.approx(np.std([0.9, 0.6, 0.5, 0.3]), abs=1e-6), "sd of the whole pool"
    assert "false_negative_ids" not in row and "margin_score" not in row
    assert (stats.pairs_in, stats.pairs_out) == (1, 1) and stats.skipped == Counter()
    assert stats.positive_scores == pytest.approx([0.7]) and stats.negative_scores == pytest.approx([0.9, 0.6])


def test_rows_come_in_pair_order_and_each_skip_is_counted_under_one_reason():
    pairs = [Pair("q2", "n2"), Pair("qt", "t1"), Pair("q1", "p2"), Pair("q1", "p1")]
    filters = FilterConfig(sd_margin=None, max_score=0.55)  # q1: 0.9 and 0.6 go; qt: n1 goes; q2: none
    rows, stats = run(context(), pairs, filters, SelectConfig(num_negatives=2))
    # q2 keeps n4 0.5, n5 0.4; qt only n3; q1 (p2, positive 0.4) n3, n4; q1 (p1) n3, n4
    assert [(r["query_id"], r["positive_id"], r["negative_ids"]) for r in rows] == [
        ("q2", "n2", ["n4", "n5"]), ("q1", "p2", ["n3", "n4"]), ("q1", "p1", ["n3", "n4"])]
    assert (stats.pairs_in, stats.pairs_out) == (4, 3) and stats.skipped == Counter({SKIP_TOO_FEW: 1})
    assert stats.removed["max_score"] == 0 + 1 + 2 + 2
    assert stats.positive_scores == pytest.approx([0.9, 0.4, 0.7])
    nothing = FilterConfig(sd_margin=None, min_score=0.95)
    rows, stats = run(context(), pairs, nothing)
    assert rows == [] and stats.skipped == Counter({SKIP_NONE: 4}) and stats.pairs_out == 0
    assert stats.positive_scores == [] and stats.negative_scores == []


def test_keep_partial_keeps_a_pair_with_some_negatives_but_never_one_with_none():
    pairs = [Pair("qt", "t1"), Pair("q2", "n2")]
    rows, stats = run(context(), pairs, FilterConfig(sd_margin=None, max_score=0.45),
                      SelectConfig(num_negatives=2, keep_partial=True))
    assert [(r["query_id"], r["negative_ids"]) for r in rows] == [("qt", ["n3"]), ("q2", ["n5", "n1"])]
    rows, stats = run(context(), pairs, FilterConfig(sd_margin=None, min_score=0.95),
                      SelectConfig(num_negatives=2, keep_partial=True))
    assert rows == [] and stats.skipped == Counter({SKIP_NONE: 2})


def test_a_pair_whose_positive_ranks_too_low_is_skipped_before_any_filter():
    pairs = [Pair("q1", "p1"), Pair("q1", "p2"), Pair("q2", "n2")]
    rows, stats = run(context(), pairs, FilterConfig(sd_margin=None, max_positive_rank=2, max_score=0.1))
    # q1/p1 (0.7) has 1 candidate above it: rank 2; q1/p2 (0.4) has 3: rank 4; q2/n2 (0.9) rank 1
    assert rows == []
    assert stats.skipped == Counter({SKIP_INCONSISTENT: 1, SKIP_NONE: 2})
    assert stats.removed["max_score"] == 4 + 3, "the inconsistent pair's candidates are not counted as filtered"


def test_a_query_without_a_bm25_word_is_skipped_only_when_bm25_alone_gave_the_candidates():
    ctx = context()
    pairs = [Pair("q1", "p1"), Pair("q2", "n2"), Pair("qt", "t1")]
    bm25 = replace(ctx, cands=replace(ctx.cands, bm25_alone=True, no_bm25_words=frozenset({"q2"})))
    rows, stats = run(bm25, pairs)
    assert [r["query_id"] for r in rows] == ["q1", "qt"]
    assert stats.skipped == Counter({SKIP_NO_BM25_WORDS: 1}) and (stats.pairs_in, stats.pairs_out) == (3, 2)
    hybrid = replace(ctx, cands=replace(ctx.cands, no_bm25_words=frozenset({"q2"})))  # dense candidates remain
    rows, stats = run(hybrid, pairs)
    assert [r["query_id"] for r in rows] == ["q1", "q2", "qt"] and stats.skipped == Counter()


def test_the_hook_sees_each_pool_after_exclusions_and_its_false_negatives_reach_the_row():
    seen = []

    def drop_best(pair, pool):
        seen.append((pair, [IDS[i] for i in pool.indices]))
        return pool.take(np.arange(1, len(pool))).with_false_negatives(pool.indices[:1], 0.25)

    rows, _ = run(context(), [Pair("q1", "p1")], hook=drop_best)
    assert seen == [(Pair("q1", "p1"), ["n1", "n2", "n3", "n4"])]
    assert rows[0]["negative_ids"] == ["n2", "n3"] and rows[0]["false_negative_ids"] == ["n1"]
    assert rows[0]["candidate_score_sd"] == pytest.approx(0.25), "the spread the hook pinned"


def test_lowest_positive_rows_record_the_margin_score():
    rows, _ = run(context("lowest-positive"), [Pair("q1", "p1")])
    assert rows[0]["margin_score"] == pytest.approx(0.4) and rows[0]["positive_score"] == pytest.approx(0.7)


def test_fallback_pairs_are_counted_as_tried_and_as_taken():
    ctx = with_fallback(context(), {"qt": ["n5", "n4", "n2"], "q2": ["n4"]})
    rows, stats = run(ctx, [Pair("qt", "t1"), Pair("q2", "n2"), Pair("q1", "p1")], select=SelectConfig(num_negatives=3))
    assert [(r["query_id"], r["negative_ids"]) for r in rows] == [
        ("qt", ["n5", "n4", "n2"]), ("q2", ["n4", "n5", "n1"]), ("q1", ["n1", "n2", "n3"])]
    assert (stats.tried_fallback, stats.from_fallback) == (1, 1), "q2 has a fallback row but is not short of 3"
    partial = SelectConfig(num_negatives=4, keep_partial=True)
    rows, stats = run(ctx, [Pair("qt", "t1"), Pair("q2", "n2")], select=partial)
    assert (stats.tried_fallback, stats.from_fallback) == (2, 1)


def test_random_draws_depend_on_the_seed_and_the_pair_index_only():
    ctx = context()
    pairs = [Pair("q1", "p1"), Pair("q1", "p2"), Pair("q2", "n2")]
    select = SelectConfig(strategy="random", num_negatives=2, seed=7)
    first, _ = run(ctx, pairs, select=select)
    again, _ = run(ctx, pairs, select=select)
    assert first == again

    def empty_first(pair, pool):
        return pool.take(np.arange(0)) if pair == pairs[0] else pool

    without_first, stats = run(ctx, pairs, select=select, hook=empty_first)
    assert stats.skipped == Counter({SKIP_NONE: 1})
    assert without_first == first[1:], "a skipped pair does not shift the draws of the pairs after it"
    draws = {tuple(run(ctx, pairs[:1], select=replace(select, seed=s))[0][0]["negative_ids"]) for s in range(20)}
    assert len(draws) > 1, "the seed changes the draw"


def test_skip_reason_none_too_few_or_kept():
    assert _skip_reason(0, 3, keep_partial=False) == SKIP_NONE
    assert _skip_reason(0, 3, keep_partial=True) == SKIP_NONE
    assert _skip_reason(2, 3, keep_partial=False) == SKIP_TOO_FEW
    assert _skip_reason(2, 3, keep_partial=True) is None
    assert _skip_reason(3, 3, keep_partial=False) is None
    assert "--keep-partial" in SKIP_TOO_FEW and "--max-positive-rank" in SKIP_INCONSISTENT


def test_windows_prefetch_their_own_pairs_first_and_change_no_row():
    ctx = context()
    pairs = [Pair("q1", "p1"), Pair("q1", "p2"), Pair("qt", "t1"), Pair("q2", "n2")]
    select = SelectConfig(strategy="random", num_negatives=2, seed=7)  # rows depend on each pair's global index
    whole, _ = run(ctx, pairs, select=select)
    events = []

    def hook(pair, pool):
        events.append(("pair", pair))
        return pool

    stats = SelectionStats()
    windowed = list(select_pairs(ctx, pairs, NO_FILTERS, select, stats, hook, show_progress=False,
                                 prefetch=lambda batch: events.append(("prefetch", tuple(batch))), window=3))
    assert windowed == whole and stats.pairs_in == 4
    assert events == [("prefetch", tuple(pairs[:3])), *[("pair", p) for p in pairs[:3]],
                      ("prefetch", tuple(pairs[3:])), ("pair", pairs[3])]


def test_windows_of_one_pair_and_no_pairs_at_all():
    ctx, select = context(), SelectConfig(num_negatives=2)
    pairs = [Pair("q1", "p1"), Pair("q2", "n2")]
    batches = []
    rows = list(select_pairs(ctx, pairs, NO_FILTERS, select, SelectionStats(), show_progress=False,
                             prefetch=lambda batch: batches.append(list(batch)), window=1))
    assert batches == [[pairs[0]], [pairs[1]]] and len(rows) == 2
    stats = SelectionStats()
    assert list(select_pairs(ctx, [], NO_FILTERS, select, stats, show_progress=False, prefetch=batches.append)) == []
    assert stats.pairs_in == 0 and len(batches) == 2, "no pairs: nothing to select or prefetch"


def test_the_select_bar_opens_after_the_first_prefetch(capsys):
    """The near-dup signatures (prefetch) ran inside the select bar's first item: on 100k synthetic documents it
    read 'select: 0%| 1/2743 [00:03<2:55:38, 3.84s/it]' for an 8 s selection. They now run before it opens."""
    ctx = context()
    pairs = [Pair("q1", "p1"), Pair("q1", "p2"), Pair("qt", "t1"), Pair("q2", "n2")]
    seen, err = [], []

    def prefetch(batch):
        err.append(capsys.readouterr().err)
        seen.append("select" in "".join(err))

    stats = SelectionStats()
    rows = list(select_pairs(ctx, pairs, NO_FILTERS, SelectConfig(num_negatives=2), stats, show_progress=True,
                             prefetch=prefetch, window=3))
    assert rows and seen == [False, True]  # the second window's prefetch runs under the open bar
    assert "select: 100%" in "".join(err) + capsys.readouterr().err
