"""Per-pair selection: exclusions -> positive-aware filters -> strategy, one (query, positive) pair at a time.

Each pair gets its own random generator derived from (seed, the pair's ids), so output does not depend on
processing order, sharding or the order of the qrels rows. Every pair that yields no row is counted under exactly one reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple

import numpy as np

from negmine.config import FilterConfig, SelectConfig
from negmine.io.records import Dataset, Pair
from negmine.pipeline.candidates import CandidateSet
from negmine.retrieve.candidates import Candidates
from negmine.select.exclude import positives_by_query_text
from negmine.select.pool import Pool

PoolHook = Callable[[Pair, Pool], Pool]
"""Optional step between exclusions and filters (e.g. denoising judges); returns the pool to keep."""

SKIP_NONE = "no candidate left after exclusions and filters"
SKIP_TOO_FEW = "fewer candidates than --num-negatives left after filters (use --keep-partial to keep them)"
SKIP_INCONSISTENT = "positive ranks below --max-positive-rank among its query's candidates (consistency filter)"
SKIP_NO_BM25_WORDS = ("query has no BM25 word (no word of two or more letters or digits that the corpus has), so "
                      "BM25 retrieves nothing for it (use --retriever dense or hybrid)")


@dataclass
class SelectionStats:
    pairs_in: int = 0
    pairs_out: int = 0
    skipped: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    positive_scores: list[float] = field(default_factory=list)
    negative_scores: list[float] = field(default_factory=list)
    from_fallback: int = 0  # pairs selected from their query's fallback pool (RetrieveConfig.fallback)
    tried_fallback: int = 0  # pairs whose own pool was short and whose query has a fallback pool, mined or skipped


@dataclass(frozen=True)
class PairContext:
    """Everything selection needs about the corpus, computed once per job."""

    dataset: Dataset
    cands: CandidateSet
    exclusion: object  # negmine.select.exclude.ExclusionIndex
    query_row: dict[str, int]
    positive_rows: dict[str, list[int]]
    fallback: Candidates | None = None  # RetrieveConfig.fallback pools, row fallback_row[query id]
    fallback_row: dict[str, int] = field(default_factory=dict)
    lowest_positive: bool = False  # FilterConfig.margin_from == "lowest-positive"


def build_context(dataset: Dataset, cands: CandidateSet, margin_from: str = "pair",
                  hashes: np.ndarray | None = None, positives: dict[str, list[int]] | None = None) -> PairContext:
    """``hashes``: the corpus's :func:`~negmine.select.exclude.corpus_hashes`, ``positives``: the queries'
    :func:`~negmine.select.exclude.positives_by_query_text`, when the caller has them (mining's corpus-size check
    does), so neither is computed twice."""
    from negmine.select.exclude import ExclusionIndex

    exclusion = ExclusionIndex.build(dataset.corpus.texts) if hashes is None else ExclusionIndex.from_hashes(hashes)
    query_row = {q: i for i, q in enumerate(cands.query_ids)}
    positives = positives_by_query_text(dataset) if positives is None else positives
    return PairContext(dataset, cands, exclusion, query_row, positives,
                       lowest_positive=margin_from == "lowest-positive")


def pair_pool(ctx: PairContext, pair: Pair, fallback: bool = False) -> Pool:
    """The pair's candidates minus every positive of the query (and of its text twins), their duplicates,
    the query text itself and every copy of a text ranked below its first; from its query's fallback pool when
    ``fallback``."""
    corpus = ctx.dataset.corpus
    qrow = ctx.query_row[pair.query_id]
    candidates, row = (ctx.fallback, ctx.fallback_row[pair.query_id]) if fallback else (ctx.cands.candidates, qrow)
    indices, scores = candidates.row(row)
    ranks = np.arange(1, len(indices) + 1, dtype=np.int64)
    excluded = ctx.exclusion.excluded_rows(ctx.positive_rows[pair.query_id], ctx.dataset.queries.text(pair.query_id))
    keep = ~np.isin(indices, np.fromiter(excluded, dtype=np.int64, count=len(excluded)))
    keep[np.flatnonzero(keep)[~first_of_each_text(ctx.exclusion.hashes, indices[keep])]] = False
    pos_row = corpus.index[pair.positive_id]
    pos_score = float(ctx.cands.score(np.asarray([qrow]), np.asarray([pos_row], dtype=np.int64))[0])
    margin = _lowest_positive_score(ctx, qrow, pair.query_id) if ctx.lowest_positive else None
    return Pool(indices[keep], scores[keep].astype(np.float32), ranks[keep], pos_score, margin_score=margin)


def first_of_each_text(hashes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mask over ``rows`` (corpus rows in retrieval order): True for the first row of each normalised text
    (:func:`negmine.select.exclude.normalize_text` hash), False for later copies of a text already seen. A corpus
    holding one text under several ids otherwise gave a row the same negative several times (40 copies of a
    text: all 5 negatives of a row were that one text), as the reference's de-duplicated corpus never does."""
    _, first = np.unique(hashes[rows], return_index=True)
    mask = np.zeros(len(rows), dtype=bool)
    mask[first] = True
    return mask


def _lowest_positive_score(ctx: PairContext, qrow: int, query_id: str) -> float:
    """The lowest score among every positive of the query (text twins' included)."""
    rows = np.asarray(ctx.positive_rows[query_id], dtype=np.int64)
    return float(np.min(ctx.cands.score(np.full(len(rows), qrow, dtype=np.int64), rows)))


def eligible_count(pool: Pool, filters: FilterConfig, select: SelectConfig) -> int:
    """How many of ``pool``'s candidates pass the positive-aware filters and the rank window."""
    from negmine.select.filters import apply_filters
    from negmine.select.strategy import window

    return len(apply_filters(pool, filters, *window(select)).pool)


def fallback_query_ids(ctx: PairContext, pairs: list[Pair], filters: FilterConfig, select: SelectConfig) -> list[str]:
    """Queries (in candidate-row order) with a pair whose pool leaves fewer than ``num_negatives`` candidates
    after exclusions and filters: the queries a fallback pool is built for."""
    short = {p.query_id for p in pairs if eligible_count(pair_pool(ctx, p), filters, select) < select.num_negatives}
    return sorted(short, key=ctx.query_row.__getitem__)


class PoolChoice(NamedTuple):
    pool: Pool
    tried_fallback: bool  # the own pool was short and the query has a fallback pool
    from_fallback: bool  # ... and the fallback pool, leaving more candidates, was taken


def _choose_pool(ctx: PairContext, pair: Pair, filters: FilterConfig, select: SelectConfig) -> PoolChoice:
    """The pair's own pool, or its fallback pool when the own one is short and the fallback has more."""
    pool = pair_pool(ctx, pair)
    if pair.query_id not in ctx.fallback_row:
        return PoolChoice(pool, False, False)
    have = eligible_count(pool, filters, select)
    if have >= select.num_negatives:
        return PoolChoice(pool, False, False)
    other = pair_pool(ctx, pair, fallback=True)
    if eligible_count(other, filters, select) > have:
        return PoolChoice(other, True, True)
    return PoolChoice(pool, True, False)


def select_pairs(
    ctx: PairContext,
    pairs: list[Pair],
    filters: FilterConfig,
    select: SelectConfig,
    stats: SelectionStats,
    hook: PoolHook | None = None,
    show_progress: bool = True,
    prefetch: Callable[[list[Pair]], None] | None = None,
    window: int | None = None,
) -> Iterator[dict]:
    """Yield native rows for the pairs that get enough negatives; record why the others were skipped.

    Pairs go in windows of ``window`` (None: all at once); ``prefetch(window_pairs)`` runs before each, so a
    hook can do its per-row work (near-duplicate signatures) for one window at a time in bounded memory."""
    from negmine.progress import progress_bar

    choose = _pair_selector(ctx, filters, select, stats, hook)
    pairs = list(pairs)
    step = max(1, window or len(pairs))
    if prefetch is not None and pairs:  # before the bar opens: its first item took the whole prefetch, whose own
        prefetch(pairs[:step])          # bar shows it ('select 1/2743 [00:03<2:55:38]' for an 8 s selection)
    with progress_bar(total=len(pairs), desc="select", show=show_progress) as bar:
        for start in range(0, len(pairs), step):
            batch = pairs[start : start + step]
            if prefetch is not None and start:
                prefetch(batch)
            for pair in batch:
                row = choose(pair)
                bar.update()
                if row is not None:
                    yield row


def _pair_selector(
    ctx: PairContext, filters: FilterConfig, select: SelectConfig, stats: SelectionStats, hook: PoolHook | None
) -> Callable[[Pair], dict | None]:
    """``choose(pair)``: the pair's native row, or None (the reason counted in ``stats``)."""
    from negmine.export.native import make_row
    from negmine.select.consistency import is_consistent
    from negmine.select.filters import apply_filters
    from negmine.select.strategy import make_strategy, pair_key, pair_rng, window

    strategy = make_strategy(select)
    rank_min, rank_max = window(select)
    k = select.num_negatives
    complete = getattr(hook, "complete", None)  # the denoising judge's scores of the chosen pool (MineHooks)

    def choose(pair: Pair) -> dict | None:
        stats.pairs_in += 1
        if ctx.cands.bm25_alone and pair.query_id in ctx.cands.no_bm25_words:
            stats.skipped[SKIP_NO_BM25_WORDS] += 1
            return None
        pool, tried, fell_back = _choose_pool(ctx, pair, filters, select)
        stats.tried_fallback += tried
        if hook is not None:
            pool = hook(pair, pool)
        if not is_consistent(pool, filters.max_positive_rank):
            stats.skipped[SKIP_INCONSISTENT] += 1
            return None
        result = apply_filters(pool, filters, rank_min, rank_max)
        stats.removed.update(result.removed)
        chosen = result.pool.take(strategy.select(result.pool, k, pair_rng(select.seed, pair_key(*pair))))
        reason = _skip_reason(len(chosen), k, select.keep_partial)
        if reason:
            stats.skipped[reason] += 1
            return None
        stats.pairs_out += 1
        stats.from_fallback += fell_back
        stats.positive_scores.append(pool.positive_score)
        stats.negative_scores.extend(float(s) for s in chosen.scores)
        if complete is not None:
            chosen = complete(pair, chosen)
        return _row(ctx, pair, chosen, pool.score_sd(), make_row)

    return choose


def window_rows(ctx: PairContext, pairs: list[Pair]) -> np.ndarray:
    """The corpus rows the pools of ``pairs`` can hold (their queries' candidates and fallback pools), sorted."""
    queries = list(dict.fromkeys(p.query_id for p in pairs))
    blocks = [ctx.cands.candidates.indices[[ctx.query_row[q] for q in queries]]]
    if ctx.fallback is not None:
        rows = [ctx.fallback_row[q] for q in queries if q in ctx.fallback_row]
        blocks.append(ctx.fallback.indices[rows])
    found = np.unique(np.concatenate([b.ravel() for b in blocks]))
    return found[found >= 0]


def _skip_reason(found: int, wanted: int, keep_partial: bool) -> str | None:
    if found == 0:
        return SKIP_NONE
    if found < wanted and not keep_partial:
        return SKIP_TOO_FEW
    return None


def _row(ctx: PairContext, pair: Pair, chosen: Pool, spread: float, make_row) -> dict:
    corpus, queries = ctx.dataset.corpus, ctx.dataset.queries
    neg_ids = [corpus.ids[int(i)] for i in chosen.indices]
    return make_row(
        query_id=pair.query_id,
        query=queries.text(pair.query_id),
        positive_id=pair.positive_id,
        positive=corpus.text(pair.positive_id),
        positive_score=chosen.positive_score,
        negative_ids=neg_ids,
        negatives=[corpus.texts[int(i)] for i in chosen.indices],
        negative_scores=[float(s) for s in chosen.scores],
        negative_ranks=[int(r) for r in chosen.ranks],
        candidate_score_sd=spread,
        margin_score=chosen.margin_score,
        false_negative_ids=[corpus.ids[r] for r in chosen.false_negatives] or None,
        judge_positive_score=chosen.judge_positive_score if chosen.judge_scores is not None else None,
        judge_negative_scores=None if chosen.judge_scores is None else chosen.judge_scores.tolist(),
    )
