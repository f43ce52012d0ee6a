"""Hardness weighting of negatives in InfoNCE (Lan et al. 2025, LLaVE, Eq. 5; used by EmbeddingGemma).

Each chosen negative logit gets a stop-gradient bonus before the softmax:

    logit(q_i, d_c) = scale * s(q_i, d_c) + alpha * sg(s(q_i, d_c))      for chosen negative columns c

so a negative the model already rates close to the query weighs more in the denominator, and its gradient
grows by ``exp(alpha * s)`` relative to easy ones. The positive column is never weighted. This is the
same term sentence-transformers' ``MultipleNegativesRankingLoss(hardness_mode=..., hardness_strength=...)``
adds; negmine computes it here as well so it combines with false-negative masking (a masked column stays
out of the softmax whatever its weight).

Modes (``TrainConfig.hardness``): ``hard-negatives`` (each query's own mined negatives only),
``in-batch`` (other queries' positives and negatives only), ``all`` (both), ``none``.
"""

from __future__ import annotations

import torch
from torch import Tensor

HARDNESS_MODES: dict[str, str | None] = {
    "none": None,
    "hard-negatives": "hard_negatives",
    "in-batch": "in_batch_negatives",
    "all": "all_negatives",
}
"""negmine mode name -> sentence-transformers ``hardness_mode``."""


def hardness_columns(mode: str, rows: Tensor, batch_size: int, num_columns: int) -> Tensor:
    """Boolean ``(R, C)``: the candidate columns of query rows ``rows`` that ``mode`` weights.

    Columns are ``[positives (B), negative_1 of every row (B), ..., negative_N (B)]``, so row ``r``'s own
    documents are the columns ``k * B + r``.
    """
    own = torch.zeros(len(rows), num_columns, dtype=torch.bool, device=rows.device)
    local = torch.arange(len(rows), device=rows.device)
    for k in range(num_columns // batch_size):
        own[local, k * batch_size + rows] = True
    if mode == "hard-negatives":
        chosen = own.clone()
        chosen[:, :batch_size] = False
        return chosen
    if mode == "in-batch":
        return ~own
    if mode == "all":
        chosen = torch.ones_like(own)
        chosen[local, rows] = False
        return chosen
    return torch.zeros_like(own)


def hardness_penalty(sim: Tensor, rows: Tensor, batch_size: int, mode: str, strength: float) -> Tensor:
    """``strength * sg(sim)`` on the columns ``mode`` weights, 0 elsewhere (added to the scaled logits)."""
    if mode == "none" or strength == 0.0:
        return torch.zeros_like(sim)
    chosen = hardness_columns(mode, rows, batch_size, sim.shape[1])
    return strength * sim.detach() * chosen
