"""Debiased InfoNCE (Chuang et al. 2020, "Debiased Contrastive Learning", NeurIPS) with negmine's hardness weighting.

Qrels are partial: some in-batch and mined negatives of a query are relevant documents nobody labelled, and
false-negative masking (:mod:`negmine.train.losses.masking`) removes only the known and flagged ones. Debiasing
corrects the softmax denominator for an expected share ``tau+`` (the class prior, ``TrainConfig.debias_prior``) of
positives among the negatives, without knowing which they are. For query row ``i`` with positive logit
``s_pos = scale * s(q_i, p_i)``, ``P = exp(s_pos)``, and its ``N`` unmasked negative columns ``c`` with logits
``l_c`` (``scale * s(q_i, d_c)`` plus the hardness bonus, :mod:`negmine.train.losses.hardness`):

    g_i = max( ( (1/N) * sum_c exp(l_c) - tau+ * P ) / (1 - tau+),  exp(-scale) )
    loss_i = -log( P / (P + N * g_i) )

This is DCL's debiased objective ``L^{N,M}_Debiased`` with ``M = 1`` positive sample and temperature
``t = 1 / scale`` (Section 3 of the paper: from ``p = tau+ p+ + (1 - tau+) p-``, the negatives' mean estimates
``E_p``, the positive ``E_p+``, so ``(E_p - tau+ E_p+) / (1 - tau+)`` estimates the mean over true negatives
``E_p-``, floored at ``exp(-1 / t)``, the smallest ``exp(scale * cosine)``). Robinson et al. 2021 ("Contrastive
Learning with Hard Negative Samples", ICLR, HCL) pair the same estimator with hardness weights on the negatives'
mean (their reference code: ``Ng = (-tau_plus * N * pos + reweight_neg) / (1 - tau_plus)``, clamped at
``N * e^{-1/t}``), as here. One difference: HCL divides its weights by their mean over the row's negatives, so the
weighted mean stays on the scale of ``P``; negmine's weights ``exp(alpha * sg(cosine))`` (Lan et al. 2025) are not
normalised (with ``tau+ = 0`` the loss must stay the current one), so under hardness weighting ``tau+ * P`` removes
a smaller share of the weighted mean than ``tau+`` says (by about the positive's own weight, ``exp(alpha * s_pos /
scale)``). Without hardness weighting it is DCL's estimator exactly; with ``tau+ = 0`` it is the masked,
hardness-weighted InfoNCE of :func:`negmine.train.losses.directions.multi_direction_loss` (as long as the negatives'
mean stays above the floor, which takes every negative logit below ``-scale``).

A row at the floor (``tau+ * P`` at or above the negatives' mean: the positive outscores its average negative by
``log(1 / tau+)`` logits) has a loss near 0 and next to no gradient. The mean runs over every unmasked column, the
batch's other positives and negatives included, so ``tau+`` claims ``tau+ * N`` unlabelled positives per row
(``N = 127`` at batch 32 with 3 mined negatives): see docs/training.md for the share of rows at the floor.

Computed in log space (logsumexp, and ``log(exp(a) - exp(b)) = a + log1mexp(b - a)`` when ``a > b``, else the floor),
in float32 at least, so large logits cannot overflow. Masked columns count neither in ``N`` nor in the sum; a row
with no negative left has loss 0, as the masked InfoNCE gives it. The query -> document direction only: GTE's extra
directions (:mod:`negmine.train.losses.directions`) are refused with a prior
(:func:`negmine.config.refuse_debias_with_directions`).

With an additive margin ``M`` (:mod:`negmine.train.losses.additive_margin`) the positive's term is
``P = exp(s_pos - scale * M)`` in the loss, while ``g_i`` keeps ``tau+ * exp(s_pos)``: that term estimates the
unlabelled positives sampled as negatives, whose logits, as every negative's, carry no margin.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor



def log1mexp(x: Tensor) -> Tensor:
    """``log(1 - exp(x))`` for ``x < 0``, accurate at both ends (Mächler 2012): ``log(-expm1(x))`` near 0,
    ``log1p(-exp(x))`` below ``-log 2``; each branch gets inputs it is finite on, so neither sends NaN gradients."""
    cut = -math.log(2.0)
    near = torch.log(-torch.expm1(torch.clamp(x, min=cut)))
    far = torch.log1p(-torch.exp(torch.clamp(x, max=cut)))
    return torch.where(x > cut, near, far)


def log_debiased_mean(log_mean_negatives: Tensor, positive_logit: Tensor, prior: float, scale: float) -> Tensor:
    """``log g``: ``log(max((exp(a) - prior * exp(b)) / (1 - prior), exp(-scale)))`` for ``a`` the log-mean of the
    negatives' terms and ``b`` the positive logit; the floor wherever ``prior * exp(b) >= exp(a)``."""
    b = positive_logit + (math.log(prior) if prior > 0 else -math.inf)
    above = log_mean_negatives > b
    gap = torch.where(above, b - log_mean_negatives, torch.full_like(b, -1.0))  # < 0 wherever it is used
    difference = torch.where(above, log_mean_negatives + log1mexp(gap), torch.full_like(b, -math.inf))
    return torch.clamp(difference - math.log1p(-prior), min=-scale)


def debiased_loss(logits: Tensor, mask: Tensor, positive_columns: Tensor, prior: float, scale: float,
                  margin: float = 0.0) -> Tensor:
    """Per-row debiased loss (module docstring). ``logits`` ``(R, C)`` are the scaled, hardness-weighted logits with
    masked columns at -inf (:func:`negmine.train.losses.masking.masked_logits`; a positive column has no bonus),
    ``mask`` the false-negative mask, ``positive_columns`` each row's positive column. ``margin`` (logit units,
    ``scale * M``: :mod:`negmine.train.losses.additive_margin`) lowers the positive's term ``P``, not the positive
    logit the estimate of unlabelled positives among the negatives subtracts (``tau+ * exp(s_pos)``)."""
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    local = torch.arange(len(positive_columns), device=logits.device)
    s_pos = logits[local, positive_columns]
    negatives = ~mask
    negatives[local, positive_columns] = False
    count = negatives.sum(dim=1)
    has_negatives = count > 0
    columns = negatives | ~has_negatives.unsqueeze(1)  # a row with none: any finite columns, its term is dropped
    log_n = torch.log(count.clamp(min=1).to(logits.dtype))
    log_mean = torch.logsumexp(logits.masked_fill(~columns, -math.inf), dim=1) - log_n
    log_g = log_debiased_mean(log_mean, s_pos, prior, scale)
    negative_term = torch.where(has_negatives, log_n + log_g, torch.full_like(log_g, -math.inf))
    s_term = s_pos - margin if margin else s_pos
    return torch.logaddexp(s_term, negative_term) - s_term
