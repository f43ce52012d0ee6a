"""The unit every judge looks at: one (query, positive) pair with its candidate negatives, as texts and scores."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class AuditItem:
    """A pair and its candidates in retrieval order.

    ``scores``/``positive_score`` are the mining model's scores (same scale); ``score_sd`` is the standard
    deviation of the pair's whole candidate pool under that model (the sd margin's unit; None when unknown,
    e.g. a file not written by ``negmine mine``), which the candidates here may be only the head of. ``positives`` holds
    ``(id, text)`` of every known positive of the query (this pair's first), so near-duplicates of a
    sibling positive are caught too. ``rows``/``positive_rows`` are corpus rows when known (mining).
    ``margin_score`` is the score the mining margins were measured from when it was not ``positive_score``
    (``mine --margin-from lowest-positive``: the query's lowest-scoring positive); None: ``positive_score``.
    """

    query_id: str
    query: str
    positive_id: str
    positive: str
    positive_score: float
    candidate_ids: tuple[str, ...]
    candidates: tuple[str, ...]
    scores: np.ndarray
    ranks: np.ndarray
    positives: tuple[tuple[str, str], ...] = ()
    score_sd: float | None = None
    margin_score: float | None = None
    rows: np.ndarray | None = field(default=None, compare=False)
    positive_rows: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        n = len(self.candidate_ids)
        if not (len(self.candidates) == len(self.scores) == len(self.ranks) == n):
            raise ValueError(f"pair ({self.query_id}, {self.positive_id}): candidate lists differ in length")
        if not self.positives:
            object.__setattr__(self, "positives", ((self.positive_id, self.positive),))

    def __len__(self) -> int:
        return len(self.candidate_ids)

    def margin_reference(self) -> float:
        """The score the positive-aware margins are measured from: :attr:`margin_score`, else the positive's."""
        return self.positive_score if self.margin_score is None else self.margin_score

    def head(self, depth: int | None) -> "AuditItem":
        """The first ``depth`` candidates (all when ``depth`` is None)."""
        if depth is None or depth >= len(self):
            return self
        return replace(
            self,
            candidate_ids=self.candidate_ids[:depth],
            candidates=self.candidates[:depth],
            scores=self.scores[:depth],
            ranks=self.ranks[:depth],
            rows=None if self.rows is None else self.rows[:depth],
        )


def item_from_row(row: Mapping, positives: tuple[tuple[str, str], ...] = ()) -> AuditItem:
    """An item from a native JSONL row (its negatives are the candidates)."""
    return AuditItem(
        query_id=row["query_id"],
        query=row["query"],
        positive_id=row["positive_id"],
        positive=row["positive"],
        positive_score=float(row["positive_score"]),
        candidate_ids=tuple(row["negative_ids"]),
        candidates=tuple(row["negatives"]),
        scores=np.asarray(row["negative_scores"], dtype=np.float64),
        ranks=np.asarray(row["negative_ranks"], dtype=np.int64),
        positives=_own_first(row["positive_id"], row["positive"], positives),
        score_sd=None if row.get("candidate_score_sd") is None else float(row["candidate_score_sd"]),
        margin_score=None if row.get("margin_score") is None else float(row["margin_score"]),
    )


def _own_first(pid: str, text: str, positives: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return ((pid, text),) + tuple(p for p in positives if p[0] != pid)
