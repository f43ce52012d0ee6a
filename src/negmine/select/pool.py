"""The per-pair candidate pool that filters and strategies operate on."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Pool(NamedTuple):
    """Candidates for one (query, positive) pair after exclusions, in retrieval order.

    ``ranks`` are 1-based ranks in the query's retrieved list (positives and duplicates counted),
    ``scores`` the selection scores (same scale as ``positive_score``). ``false_negatives`` holds the corpus
    rows a judge removed from the pool as likely false negatives (``--denoise``): they are written to the
    row's ``false_negative_ids`` so training can still mask them in-batch. ``spread`` pins the sd margin's
    unit once judges have removed candidates: the spread of the pool they judged, so a removal does not
    move the margin for the candidates left (None: the spread of ``scores``, see :meth:`score_sd`).
    ``margin_score`` is the score the positive-aware margins are measured from when it is not the pair's own
    positive's (``FilterConfig.margin_from="lowest-positive"``: the query's lowest-scoring positive).
    ``judge_scores`` (float64, parallel to ``indices``, NaN where not judged) and ``judge_positive_score`` are the
    relevance judge's scores of ``--denoise`` (:mod:`negmine.audit.judge_scores`), carried to the row; None
    without such a judge.
    """

    indices: np.ndarray  # int64 corpus rows
    scores: np.ndarray  # float32
    ranks: np.ndarray  # int64, 1-based
    positive_score: float
    false_negatives: tuple[int, ...] = ()
    spread: float | None = None
    margin_score: float | None = None
    judge_scores: np.ndarray | None = None
    judge_positive_score: float | None = None

    def take(self, positions: np.ndarray) -> "Pool":
        return Pool(
            self.indices[positions], self.scores[positions], self.ranks[positions], self.positive_score,
            self.false_negatives, self.spread, self.margin_score,
            None if self.judge_scores is None else self.judge_scores[positions], self.judge_positive_score,
        )

    def with_false_negatives(self, rows: np.ndarray, spread: float | None = None) -> "Pool":
        """This pool with ``rows`` added to :attr:`false_negatives` and, if given, ``spread`` pinned
        (NamedTuple ``_replace`` cannot be used: ``__len__`` counts candidates, not fields)."""
        flagged = self.false_negatives + tuple(int(r) for r in rows)
        return Pool(self.indices, self.scores, self.ranks, self.positive_score, flagged,
                    self.spread if spread is None else spread, self.margin_score, self.judge_scores,
                    self.judge_positive_score)

    def with_judge_scores(self, scores: np.ndarray, positive: float | None) -> "Pool":
        """This pool with the relevance judge's ``scores`` (parallel to :attr:`indices`, NaN: not judged) and its
        score of the positive."""
        return Pool(self.indices, self.scores, self.ranks, self.positive_score, self.false_negatives, self.spread,
                    self.margin_score, np.asarray(scores, dtype=np.float64), positive)

    def margin_reference(self) -> float:
        """The score the margins are measured from: :attr:`margin_score` if set, else the positive's."""
        return self.positive_score if self.margin_score is None else self.margin_score

    def score_sd(self) -> float:
        """The sd margin's unit: :attr:`spread` if pinned, else the standard deviation (ddof 0) of ``scores``."""
        return score_spread(self.scores) if self.spread is None else self.spread

    def __len__(self) -> int:
        return int(self.indices.shape[0])


def score_spread(scores: np.ndarray) -> float:
    """Standard deviation (ddof 0, float64) of a pool's scores; 0 for an empty pool.

    The unit of the sd margin; written to every mined row as ``candidate_score_sd`` so an audit can re-check
    the margin from the file."""
    return float(np.asarray(scores, dtype=np.float64).std()) if len(scores) else 0.0
