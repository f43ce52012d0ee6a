"""Focal row weighting (Lin et al. 2017, "Focal Loss for Dense Object Detection") of negmine's InfoNCE rows.

Each query row ``r`` of a batch keeps its contrastive loss ``l_r`` as :func:`negmine.train.losses.mnrl.row_losses`
computes it (masked, hardness-weighted, with any extra directions and additive margin); focal loss scales it by how
badly the row is solved. With ``gamma = TrainConfig.focal_gamma``:

    p_r = exp(-l_r)                       (query -> document alone: the softmax probability of the row's positive)
    w_r = (1 - p_r) ** gamma              on detached values (stop-gradient: the weight is a constant of the step)
    w_r <- w_r / mean(w over all B rows)  (the weights average 1 over the batch: the step size stays as it was;
                                           every loss 0 -> every weight 1)
    loss = mean_r (w_r * l_r)

Lin et al. write ``FL(p) = -(1 - p) ** gamma * log(p)``; with ``l_r = -log(p_r)`` this is ``(1 - p_r) ** gamma *
l_r``, here with the weight detached and normalised over the batch. Rows the model already ranks well (``p_r`` near
1) weigh less, badly ranked rows more; ``gamma = 0`` gives every row weight 1 (negmine's losses do not call this
module then: their code path is the plain mean's). The normalisation runs over the whole batch also in the cached
(GradCache) loss, which takes all rows' detached losses first and weights each mini-batch's rows with them.
``1 - p_r`` is computed as ``-expm1(-l_r)``, equal to it but without the cancellation of ``1 - exp(-l_r)`` at small
``l_r``, and the weights as ``exp(gamma * log(1 - p_r) - max_r(...))`` before the normalisation, the same ratios
without the underflow of ``(1 - p_r) ** gamma`` at a large ``gamma``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def focal_weights(row_losses: Tensor, gamma: float) -> Tensor:
    """The normalised focal weight ``(1 - exp(-l_r)) ** gamma / mean`` of each row of the batch's ``row_losses``
    ``(B,)``, detached (no gradient flows through a weight); every weight 1 when all of them are 0 (every loss 0),
    and with ``gamma`` 0. Computed in log space, shifted by the batch's largest log weight: the weights themselves
    underflowed to 0 together in float32 once the batch's largest loss was small for its ``gamma`` (below 0.0055
    at 20, 0.032 at 30, 0.19 at 60), and the all-zero rule made them equal, the opposite of what a large ``gamma``
    asks for. A row with loss 0 has log weight -inf: weight 0, unless every row has. No value goes to the host
    (GPU, meta device)."""
    losses = row_losses.detach()
    if gamma == 0 or losses.numel() == 0:  # 0 ** 0 = 1; the max of no row is undefined
        return torch.ones_like(losses)
    log_weights = gamma * torch.log((-torch.expm1(-losses)).clamp_min(0.0))
    top = log_weights.max()
    weights = torch.exp(torch.where(torch.isneginf(top), torch.zeros_like(log_weights), log_weights - top))
    return weights / weights.mean()  # the top row's weight is 1 before this: the mean is at least 1 / B


def focal_mean(row_losses: Tensor, gamma: float) -> Tensor:
    """The focal-weighted mean ``mean_r(w_r * l_r)`` of a whole batch's ``row_losses`` (:func:`focal_weights`)."""
    return (focal_weights(row_losses, gamma) * row_losses).mean()
