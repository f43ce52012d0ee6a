"""Additive margin softmax (Wang et al. 2018, "Additive Margin Softmax for Face Verification") for negmine's InfoNCE.

The positive must beat every negative by a margin ``M`` (cosine units, ``TrainConfig.additive_margin``) before its
loss falls as far as without one: its logit is lowered before the softmax,

    logit_pos = scale * (cos(q_i, p_i) - M),

and every negative's (in-batch and mined, with its hardness bonus, :mod:`negmine.train.losses.hardness`) is left as
it is. Yang et al. 2019 ("Improving Multilingual Sentence Embedding using Bi-directional Dual Encoder with Additive
Margin Softmax", IJCAI; LaBSE, Feng et al. 2022, trains the same way) use it for dual encoders over in-batch
negatives, in both directions. Here it lowers the positive pair's entry in every direction whose softmax holds it
(:data:`POSITIVE_DIRECTIONS`): query -> document (column ``r`` of row ``r``) and ``doc_to_query`` (``s(q_r, p_r)``,
column ``r`` of row ``r`` too); ``query_to_query`` and ``doc_to_doc`` compare one side with itself and hold no
positive (:mod:`negmine.train.losses.directions`). With ``M = 0`` nothing is computed and the loss is today's, bit
for bit.

What the margin leaves alone: the false-negative mask (``fn_margin`` compares the raw cosines,
:func:`negmine.train.losses.masking.margin_mask`), the hardness weights (from the negatives' detached cosines), the
distillation term (the teacher's scores are fitted by the unshifted logits, :mod:`negmine.train.losses.distill`).
With a debiasing prior (:mod:`negmine.train.losses.debias`) the margin lowers the positive's term ``P`` of the
softmax (numerator and denominator) but not the positive's estimate inside the negatives' debiased mean: that
estimate stands for unlabelled positives sampled as negatives, whose logits carry no margin.
"""

from __future__ import annotations

import torch
from torch import Tensor

POSITIVE_DIRECTIONS = ("query_to_doc", "doc_to_query")
"""The directions whose softmax holds each row's positive pair ``(q_r, p_r)``, in both at column ``r``: in query ->
document the candidate columns start with the batch's positives, in ``doc_to_query`` the columns are the batch's
queries."""


def lower_positives(logits: Tensor, positive_columns: Tensor, amount: float) -> Tensor:
    """``logits`` ``(R, C)`` with each row's ``positive_columns`` entry lowered by ``amount`` (``scale * M``, logit
    units), out of place; ``logits`` itself when ``amount`` is 0."""
    if not amount:
        return logits
    local = torch.arange(len(positive_columns), device=logits.device)
    lowered = logits.clone()
    lowered[local, positive_columns] = logits[local, positive_columns] - amount
    return lowered
