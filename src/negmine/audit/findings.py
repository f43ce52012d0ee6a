"""Combine the judges' verdicts on one item into findings: false negatives, a noisy positive, a confidence.

- False negative: candidate flagged by at least ``min_votes`` judges.
- Noisy positive, per scorer s (the mining model, every teacher, the cross-encoder), over all judged
  candidates: the positive ranks below ``positive_top_k`` (consistency filtering as in CoRNStack, Suresh
  et al. 2025: a pair is kept only if the positive is retrieved near the top for its own query), or
  scores below more than ``positive_below_share`` of them. Noisy when at least ``positive_min_sources``
  scorers say so. (Candidates are not excluded for being false negatives: with only the mining model as
  evidence, "the candidate is relevant" and "the label is wrong" cannot be told apart, and both are
  reported.)
- Confidence: the mean over scorers of the share of candidates the positive outscores (a pairwise
  ranking accuracy in [0, 1]; 1 when there is no candidate to compare).

A candidate that is a labelled positive of the query (its id among ``item.positives``: a file not mined by negmine
can hold a sibling positive among a row's negatives) is no finding: no judge's flag counts for it (the
near-duplicate judge flagged every such one, as a copy of a positive) and the noisy-positive checks leave it out
(siblings scored above the row's positive made that row noisy, and dropped it). The policies remove it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from negmine.audit.items import AuditItem
from negmine.audit.judges.base import Judgement
from negmine.config import JudgeConfig
from negmine.errors import counted

MODEL = "model"


@dataclass(frozen=True)
class PairFindings:
    item: AuditItem
    judgements: tuple[Judgement, ...]
    votes: np.ndarray  # int64 per candidate
    false_negative: np.ndarray  # bool per candidate
    positive_ranks: dict[str, int]
    positive_below: dict[str, float]
    noisy_reasons: tuple[str, ...]
    noisy_positive: bool
    confidence: float

    def reasons(self, i: int) -> list[str]:
        """Every judge's reason for flagging candidate ``i``."""
        return [f"{j.judge}: {j.reasons[i]}" for j in self.judgements if j.flags[i]]


def scorers(item: AuditItem, judgements: Sequence[Judgement]) -> dict[str, tuple[float, np.ndarray]]:
    """The mining model plus every relevance scorer the judges ran."""
    out = {MODEL: (float(item.positive_score), np.asarray(item.scores, dtype=np.float64))}
    for j in judgements:
        out.update(j.relevance)
    return out


def scorer_count(config: JudgeConfig, names: Sequence[str]) -> int:
    """How many scorers :func:`scorers` gives with the judges ``names``: the mining model, each teacher, the
    cross-encoder."""
    return 1 + (len(config.teachers) if "teacher" in names else 0) + int("cross-encoder" in names)


def check_min_sources(config: JudgeConfig, names: Sequence[str]) -> None:
    """``positive_min_sources`` above the number of scorers would silently flag no positive at all."""
    from negmine.config_path import field_path, path_option
    from negmine.errors import ConfigError

    n = scorer_count(config, names)
    if config.positive_min_sources > n:
        which = ["the mining model", *(["each teacher"] if "teacher" in names else []),
                 *(["the cross-encoder"] if "cross-encoder" in names else [])]
        raise ConfigError(
            f"{field_path('positive_min_sources')} {config.positive_min_sources} is more than the {n} scorer(s) of these judges "
            f"({', '.join(which)}), so no positive could be flagged noisy; use {path_option('positive_min_sources')} "
            f"between 1 and {n}, or add scorers: {path_option('teachers', '--teacher')} / "
            f"{path_option('cross_encoder')}"
        )


def labelled_candidates(item: AuditItem) -> np.ndarray:
    """Bool per candidate: its id is a labelled positive of the item's query (``item.positives``)."""
    ids = {doc_id for doc_id, _ in item.positives}
    return np.fromiter((doc_id in ids for doc_id in item.candidate_ids), dtype=bool, count=len(item))


def _unflagged(judgement: Judgement, mask: np.ndarray) -> Judgement:
    """``judgement`` with no flag (and no reason) on the candidates in ``mask``."""
    flags = np.asarray(judgement.flags, dtype=bool)
    if not (flags & mask).any():
        return judgement
    reasons = tuple("" if m else r for r, m in zip(judgement.reasons, mask.tolist()))
    return replace(judgement, flags=flags & ~mask, reasons=reasons)


def find(item: AuditItem, judgements: Sequence[Judgement], config: JudgeConfig) -> PairFindings:
    labelled = labelled_candidates(item)  # no finding, nor a candidate the positive is ranked among
    if labelled.any():
        judgements = [_unflagged(j, labelled) for j in judgements]
    votes = np.zeros(len(item), dtype=np.int64)
    for j in judgements:
        votes += np.asarray(j.flags, dtype=bool)
    false_negative = votes >= config.min_votes
    ranks, below, reasons = {}, {}, []
    for name, (pos, cand) in scorers(item, judgements).items():
        others = np.asarray(cand, dtype=np.float64)[~labelled]
        above = int(np.count_nonzero(others > pos))
        ranks[name] = 1 + above
        below[name] = above / others.size if others.size else 0.0
        reason = _noisy_reason(name, ranks[name], above, others.size, config)
        if reason:
            reasons.append(reason)
    confidence = float(np.mean([1.0 - b for b in below.values()]))
    noisy = len(reasons) >= config.positive_min_sources
    return PairFindings(item, tuple(judgements), votes, false_negative, ranks, below, tuple(reasons), noisy, confidence)


def _noisy_reason(name: str, rank: int, above: int, total: int, config: JudgeConfig) -> str:
    if rank > config.top_k():
        return f"{name}: positive ranks {rank} among its {total + 1} candidates, outside the top {config.top_k()}"
    if total and above / total > config.positive_below_share:
        return f"{name}: positive scores below {above} of {counted(total, 'negative')}"
    return ""
