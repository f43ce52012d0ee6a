"""False-negative masking for InfoNCE / MultipleNegativesRankingLoss.

For query ``q_i`` with positive ``p_i`` and candidate documents ``d_c`` (every positive and hard negative
in the batch), MNRL minimises ``-log softmax(scale * s(q_i, .))[p_i]`` (van den Oord et al. 2018;
Henderson et al. 2017). A candidate that is actually relevant to ``q_i`` (a false negative) pushes a
relevant document away. Masked candidates are dropped from the softmax denominator (their logit is
set to -inf), so they neither contribute to the loss nor receive gradient. A candidate is masked when

1. it is a known positive of ``q_i`` (all of the query's positives in the file, the audit's
   ``extra_positive_ids`` / ``false_negative_ids``; pooled over queries with the same text), including any
   document with the same text up to case, spacing and NFKC (mining's normalisation) - this covers sibling
   positives of multi-positive queries that land in the same batch;
2. it is one of ``q_i``'s own hard negatives that the audit flagged (``negative_flags``);
3. only when a margin is given (off by default): ``s(q_i, d_c) > s(q_i, p_i) + margin`` under the
   current model (GISTEmbed-style margin masking, Solatorio 2024, with the model itself as guide and the
   threshold *above* the positive: mined
   negatives were already kept below the positive's score, so a candidate the model rates clearly above
   the labelled positive is more likely unlabelled-relevant than hard; a threshold at or below the
   positive would discard exactly the hardest true negatives, which carry the training signal).

``q_i``'s own positive column is never masked. With extra directions, rule 1 masks there too (in ``query_to_query``
a query ``q_j`` with ``q_i``'s text, or sharing a known positive with ``q_i``: either knows the other's positive), and
rule 3 in ``doc_to_query`` and ``doc_to_doc``, not in ``query_to_query`` (:mod:`negmine.train.losses.directions` says
how, and why).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from negmine.train.labels import PAD_KEY, split_label


def candidate_keys(doc_keys: Tensor) -> Tensor:
    """Text keys of the candidate columns in the order losses concatenate them.

    ``doc_keys`` is ``(B, 1 + N)`` (positive, negative_1..N per row); the candidates are
    ``[positives (B), negative_1 of every row (B), ..., negative_N (B)]``.
    """
    return doc_keys.T.reshape(-1)


def known_positive_mask(col_keys: Tensor, known: Tensor) -> Tensor:
    """``(R, C)``: candidate ``c`` has the text of one of row ``r``'s known positives (``known`` is ``(R, P)``)."""
    valid = known != PAD_KEY
    hits = col_keys.view(1, -1, 1) == known.unsqueeze(1)
    return (hits & valid.unsqueeze(1)).any(dim=-1)


def flagged_negative_mask(flags: Tensor, rows: Tensor, batch_size: int, num_columns: int) -> Tensor:
    """``(R, C)``: row ``r``'s own hard negative ``k`` (column ``(k + 1) * B + r``) was flagged by the audit."""
    mask = torch.zeros(len(rows), num_columns, dtype=torch.bool, device=flags.device)
    local = torch.arange(len(rows), device=flags.device)
    for k in range(flags.shape[1]):
        mask[local, (k + 1) * batch_size + rows] = flags[:, k].bool()
    return mask


def margin_threshold(sim: Tensor, rows: Tensor, margin: float) -> Tensor:
    """``(R, 1)``: ``s(q_r, p_r) + margin``, from the detached query -> document similarities ``sim`` (each row's
    positive at column ``rows[r]``): a candidate scored above it is masked, here and in ``doc_to_query``
    (:mod:`negmine.train.losses.directions`)."""
    positive = sim.detach()[torch.arange(len(rows), device=sim.device), rows]
    return positive.unsqueeze(1) + margin


def margin_mask(sim: Tensor, rows: Tensor, margin: float) -> Tensor:
    """``(R, C)``: ``s(q_r, d_c) > s(q_r, p_r) + margin`` on detached similarities."""
    return sim.detach() > margin_threshold(sim, rows, margin)


def false_negative_mask(sim: Tensor, labels: Tensor, rows: Tensor, num_negatives: int,
                        margin: float | None, use_labels: bool = True) -> Tensor:
    """Boolean ``(R, C)`` mask of candidates to exclude for the query rows ``rows`` of the batch.

    ``sim`` holds ``s(q_r, d_c)`` for those rows against all ``C = B * (1 + N)`` candidates; ``labels``
    is the batch's ``(B, width)`` label tensor (:mod:`negmine.train.labels`).
    """
    batch_size = labels.shape[0]
    parts = split_label(labels, num_negatives)
    mask = torch.zeros_like(sim, dtype=torch.bool)
    if use_labels:
        mask |= known_positive_mask(candidate_keys(parts.doc_keys), parts.known[rows])
        mask |= flagged_negative_mask(parts.flags[rows], rows, batch_size, sim.shape[1])
    if margin is not None:
        mask |= margin_mask(sim, rows, margin)
    mask[torch.arange(len(rows), device=sim.device), rows] = False
    return mask


def masked_ranking_loss(sim: Tensor, positive_columns: Tensor, mask: Tensor, scale: float,
                        penalty: Tensor | None = None) -> Tensor:
    """Per-row ``-log softmax(scale * sim + penalty)[positive]`` with masked columns left out of the denominator.

    ``penalty`` is an optional additive logit term (hardness weighting, :mod:`negmine.train.losses.hardness`).
    """
    return F.cross_entropy(masked_logits(sim, mask, scale, penalty), positive_columns, reduction="none")


def masked_logits(sim: Tensor, mask: Tensor, scale: float, penalty: Tensor | None = None) -> Tensor:
    """``scale * sim + penalty`` with masked columns at -inf (out of the softmax denominator)."""
    scores = sim * scale if penalty is None else sim * scale + penalty
    return scores.masked_fill(mask, float("-inf"))
