"""Focal row weighting (Lin et al. 2017, "Focal Loss for Dense Object Detection") of negmine's InfoNCE rows.

Each query row ``r`` of a batch keeps its contrastive loss ``l_r`` as :func:`negmine.train.losses.mnrl.row_losses`
computes it (masked, hardness-weighted, with any extra directions and additive margin); focal loss scales it by how
badly the row is solved. With ``gamma = TrainConfig.focal_gamma``:

    p_r = exp(-l_r)                       (query -> document alone: the softmax probability of the row's positive)
    w_r = (1 - p_r) ** gamma              on detached values (stop-gradient: the weight is a constant of the step)
    w_r <- w_r / mean(w over all B rows)  (the weights average 1 over the batch: the step size stays as it was;
                                           all weights 0 -> every weight 1)
    loss = mean_r (w_r * l_r)

Lin et al. write ``FL(p) = -(1 - p) ** gamma * log(p)``; with ``l_r = -log(p_r)`` this is ``(1 - p_r) ** gamma *
l_r``, here with the weight detached and normalised over the batch. Rows the model already ranks well (``p_r`` near
1) weigh less, badly ranked rows more; ``gamma = 0`` gives every row weight 1 (negmine's losses do not call this
module then: their code path is the plain mean's). The normalisation runs over the whole batch also in the cached
(GradCache) loss, which takes all rows' detached losses first and weights each mini-batch's rows with them.
``1 - p_r`` is computed as ``-expm1(-l_r)``, equal to it but without the cancellation of ``1 - exp(-l_r)`` at small
``l_r``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def focal_weights(row_losses: Tensor, gamma: float) -> Tensor:
    """The normalised focal weight ``(1 - exp(-l_r)) ** gamma / mean`` of each row of the batch's ``row_losses``
    ``(B,)``, detached (no gradient flows through a weight); every weight 1 when all of them are 0."""
    losses = row_losses.detach()
    weights = (-torch.expm1(-losses)).clamp_min(0.0) ** gamma
    mean = weights.mean()
    return torch.where(mean > 0, weights / mean, torch.ones_like(weights))  # no host sync (GPU, meta device)


def focal_mean(row_losses: Tensor, gamma: float) -> Tensor:
    """The focal-weighted mean ``mean_r(w_r * l_r)`` of a whole batch's ``row_losses`` (:func:`focal_weights`)."""
    return (focal_weights(row_losses, gamma) * row_losses).mean()
