"""CachedMultipleNegativesRankingLoss (GradCache, Gao et al. 2021) with false-negative masking.

Big contrastive batches in small memory: embeddings are computed without graphs in mini-batches, the
loss is back-propagated to the embeddings, then each mini-batch is re-embedded with gradients. Subclass
of sentence-transformers' ``CachedMultipleNegativesRankingLoss``; only the loss over the cached
embeddings changes when masking, debiasing or an additive margin is on (same loss as :mod:`negmine.train.losses.mnrl`).
"""

from __future__ import annotations

from typing import Callable

import torch
from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim
from torch import Tensor

from negmine.train.losses.directions import BatchView
from negmine.train.losses.distill import Distillation, distill_loss, split_teacher
from negmine.train.losses.mnrl import MaskedLossSettings, masks_with_labels, own_loss, row_losses, st_hardness


class MaskedCachedMultipleNegativesRankingLoss(MaskedLossSettings, CachedMultipleNegativesRankingLoss):
    """GradCache MNRL whose softmax ignores known/flagged/margin-violating false negatives (and is debiased with a
    ``debias_prior`` and has its positives lowered by an ``additive_margin``, as
    :class:`~negmine.train.losses.mnrl.MaskedMultipleNegativesRankingLoss`)."""

    def __init__(self, model, scale: float = 20.0, similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
                 mini_batch_size: int = 32, fn_mask: bool = True, fn_margin: float | None = None,
                 hardness: str = "none", hardness_strength: float = 0.0,
                 directions: tuple[str, ...] = ("query_to_doc",), partition_mode: str = "joint",
                 distill: Distillation | None = None, debias_prior: float = 0.0, additive_margin: float = 0.0) -> None:
        super().__init__(model, scale=scale, similarity_fct=similarity_fct, mini_batch_size=mini_batch_size,
                         directions=directions, partition_mode=partition_mode, **st_hardness(hardness, hardness_strength))
        self.set_masking(fn_mask=fn_mask, fn_margin=fn_margin, hardness=hardness, hardness_strength=hardness_strength,
                         directions=directions, distill=distill, debias_prior=debias_prior,
                         additive_margin=additive_margin)

    def calculate_loss(self, reps: list[list[Tensor]], labels: Tensor | None = None, *,
                       with_backward: bool = False) -> Tensor:
        """The masked contrastive loss over the cached embeddings, plus the weighted distillation term when
        ``distill`` is set (over the whole batch at once: ``B * (1 + N)`` scores), each back-propagated to the
        embeddings with ``with_backward``."""
        labels, teacher = split_teacher(labels, len(reps) - 2, self.distill is not None)
        loss = self.contrastive_loss(reps, labels, with_backward=with_backward)
        if teacher is None:
            return loss
        queries, docs = torch.cat(reps[0]), torch.cat([torch.cat(column) for column in reps[1:]])
        term = self.distill.weight * distill_loss(queries, docs, labels, teacher, self.scale, self.distill,
                                                  self.similarity_fct)
        if with_backward:
            term.backward()
            term = term.detach()
        self.distill_parts.add(loss, term)
        return loss + term

    def contrastive_loss(self, reps: list[list[Tensor]], labels: Tensor | None = None, *,
                         with_backward: bool = False) -> Tensor:
        if not own_loss(self, labels):
            return super().calculate_loss(reps, labels, with_backward=with_backward)
        queries = torch.cat(reps[0])
        docs = torch.cat([torch.cat(column) for column in reps[1:]])
        batch_size = len(queries)
        losses = []
        for begin in range(0, batch_size, self.mini_batch_size):
            rows = torch.arange(begin, min(begin + self.mini_batch_size, batch_size), device=queries.device)
            view = BatchView(queries, docs, rows, labels, len(reps) - 2, use_labels=masks_with_labels(self, labels))
            loss = row_losses(self, view, self.similarity_fct(queries[rows], docs)).sum() / batch_size
            if with_backward:
                loss.backward()
                loss = loss.detach()
            losses.append(loss)
        return sum(losses)
