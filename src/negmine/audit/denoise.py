"""``negmine mine --denoise``: judges remove likely false negatives from each pool before selection.

For each pair, the ``depth`` best candidates that would survive the positive-aware filters are judged
(cost is bounded by ``depth`` per pair, whatever the pool size); candidates the judges flag are removed
from the pool (the pool keeps the spread it had, so the sd margin does not move for the others), and
the strategy refills to N negatives from the candidates below them. With ``fill=N`` (what
``negmine mine`` passes for a best-first strategy such as ``top``, unless ``--denoise-full-depth``) judging
goes in retrieval order and stops once N judged candidates survive: candidates below them cannot change a
best-first choice, so the same negatives come out for fewer judge calls (each verdict depends only on its
own candidate, the positive and the whole pool's spread), but false negatives below the last chosen one
are not looked for. Every removal is
counted under :data:`REMOVED_KEY`, described in :attr:`DenoiseHook.records` (the flags file) and kept in
``Pool.false_negatives``, so the pair's row lists it in ``false_negative_ids`` (the audit's ``drop`` policy):
training then masks it wherever it shows up in a batch.

With a relevance judge (``scorer``: a cross-encoder, or a single teacher; :mod:`negmine.audit.judge_scores`) the
scores it gave the positive and each judged candidate travel with the pool (:attr:`Pool.judge_scores`);
:meth:`DenoiseHook.complete` scores the chosen negatives it did not judge, so each row has them all.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np

from negmine.audit.findings import find
from negmine.audit.items import AuditItem
from negmine.audit.judges.base import Judge
from negmine.audit.policy import flag_records
from negmine.config import JudgeConfig
from negmine.io.records import Dataset, Pair
from negmine.select.order import by_rank
from negmine.select.pool import Pool

REMOVED_KEY = "denoise_false_negative"

Eligible = Callable[[Pool], np.ndarray]
"""``eligible(pool)`` -> bool mask of the candidates the filters would keep."""


class DenoiseHook:
    def __init__(
        self,
        judges: Sequence[Judge],
        config: JudgeConfig,
        dataset: Dataset,
        depth: int,
        eligible: Eligible,
        removed: Counter,
        fill: int | None = None,
        scorer: str | None = None,
        positives: dict[str, list[int]] | None = None,
    ) -> None:
        self.judges = list(judges)
        self.config = config
        self.dataset = dataset
        self.depth = depth
        self.eligible = eligible
        self.removed = removed
        self.fill = fill
        self.scorer = scorer
        self.records: list[dict] = []
        self.judged = 0
        self.scored_after_selection = 0  # pairs :meth:`complete` asked the relevance judge for
        # the dataset's positives_by_query_text: the caller's (mining computes it once), else built at the first pair
        self._positives: dict[str, list[int]] | None = positives

    def positive_rows(self, pair: Pair) -> list[int]:
        """Corpus rows of every positive of the pair's query and of its text twins (queries with the same
        normalised text), the pair's own first: judges compare candidates with all of them."""
        if self._positives is None:
            from negmine.select.exclude import positives_by_query_text

            self._positives = positives_by_query_text(self.dataset)
        own = self.dataset.corpus.index[pair.positive_id]
        return [own] + list(dict.fromkeys(r for r in self._positives[pair.query_id] if r != own))

    def __call__(self, pair: Pair, pool: Pool) -> Pool:
        positions = np.flatnonzero(self.eligible(pool))[: self.depth]
        scored = _Scored(len(pool)) if self.scorer is not None else None
        if self.fill is None:
            drop = self._flagged(pair, pool, positions, scored)
        else:  # the same candidates, in the order a best-first strategy takes them
            drop = self._flagged_until_filled(pair, pool, by_rank(pool, positions), scored)
        if scored is not None:
            pool = pool.with_judge_scores(scored.scores, scored.positive)
        if drop.size == 0:
            return pool
        self.removed[REMOVED_KEY] += int(drop.size)
        keep = np.ones(len(pool), dtype=bool)
        keep[drop] = False
        return pool.take(np.flatnonzero(keep)).with_false_negatives(pool.indices[drop], pool.score_sd())

    def complete(self, pair: Pair, chosen: Pool) -> Pool:
        """``chosen`` (the pair's selected negatives) with a relevance judge score for each and for the positive:
        those the judges computed, and the missing ones asked of the same judge now (:mod:`negmine.audit.judge_scores`);
        ``chosen`` as it is without a relevance judge."""
        if self.scorer is None:
            return chosen
        from negmine.audit.judge_scores import relevance_judge

        scores = (np.full(len(chosen), np.nan) if chosen.judge_scores is None
                  else np.array(chosen.judge_scores, dtype=np.float64))
        positive, missing = chosen.judge_positive_score, np.flatnonzero(np.isnan(scores))
        if positive is None or missing.size:
            corpus = self.dataset.corpus
            texts = [corpus.texts[int(r)] for r in chosen.indices[missing]]
            if positive is None:
                texts.append(corpus.text(pair.positive_id))
            got = relevance_judge(self.judges, self.scorer).relevance(
                self.dataset.queries.text(pair.query_id), texts, self.scorer)
            self.scored_after_selection += len(texts)
            scores[missing] = got[: missing.size]
            positive = float(got[-1]) if positive is None else positive
        return chosen.with_judge_scores(scores, positive)

    def _flagged_until_filled(self, pair: Pair, pool: Pool, order: np.ndarray, scored: _Scored | None) -> np.ndarray:
        """Judge ``order`` a slice at a time, each as long as the survivors still missing, until ``fill``
        candidates survive or ``order`` runs out; the positions flagged, in judging order."""
        drops, start, missing = [], 0, self.fill
        while missing > 0 and start < order.size:
            chunk = order[start : start + missing]
            drops.append(self._flagged(pair, pool, chunk, scored))
            start += chunk.size
            missing -= chunk.size - drops[-1].size
        return np.concatenate(drops) if drops else np.zeros(0, dtype=np.int64)

    def _flagged(self, pair: Pair, pool: Pool, positions: np.ndarray, scored: _Scored | None = None) -> np.ndarray:
        """Judge the candidates at ``positions``; record the flags (and, into ``scored``, the relevance judge's
        scores); return the flagged positions."""
        if positions.size == 0:
            return np.zeros(0, dtype=np.int64)
        item = self.item(pair, pool.take(positions), pool.score_sd())
        judgements = [judge.judge([item])[0] for judge in self.judges]
        if scored is not None:
            scored.add(positions, judgements, self.scorer)
        findings = find(item, judgements, self.config)
        self.judged += len(item)
        self.records.extend(r for r in flag_records(findings, "drop", None))
        return positions[findings.false_negative]

    def item(self, pair: Pair, pool: Pool, score_sd: float | None = None) -> AuditItem:
        corpus, queries = self.dataset.corpus, self.dataset.queries
        positive_rows = self.positive_rows(pair)
        rows = pool.indices.astype(np.int64)
        return AuditItem(
            query_id=pair.query_id,
            query=queries.text(pair.query_id),
            positive_id=pair.positive_id,
            positive=corpus.text(pair.positive_id),
            positive_score=float(pool.positive_score),
            candidate_ids=tuple(corpus.ids[int(r)] for r in rows),
            candidates=tuple(corpus.texts[int(r)] for r in rows),
            scores=pool.scores.astype(np.float64),
            ranks=pool.ranks,
            positives=tuple((corpus.ids[r], corpus.texts[r]) for r in positive_rows),
            score_sd=score_sd,
            margin_score=pool.margin_score,
            rows=rows,
            positive_rows=np.asarray(positive_rows, dtype=np.int64),
        )


class _Scored:
    """The relevance judge's scores of one pool as the judging goes: per candidate (NaN: not judged) and the
    positive's, the first one computed (the pair cache gives every later call the same)."""

    def __init__(self, size: int) -> None:
        self.scores = np.full(size, np.nan)
        self.positive: float | None = None

    def add(self, positions: np.ndarray, judgements, key: str) -> None:
        positive, candidates = next(j.relevance[key] for j in judgements if key in j.relevance)
        self.scores[positions] = candidates
        if self.positive is None:
            self.positive = float(positive)
