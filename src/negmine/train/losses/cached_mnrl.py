"""CachedMultipleNegativesRankingLoss (GradCache, Gao et al. 2021) with false-negative masking.

Big contrastive batches in small memory: embeddings are computed without graphs in mini-batches, the
loss is back-propagated to the embeddings, then each mini-batch is re-embedded with gradients. Subclass
of sentence-transformers' ``CachedMultipleNegativesRankingLoss``; only the loss over the cached
embeddings changes when masking is on (same mask as :mod:`negmine.train.losses.mnrl`).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim
from torch import Tensor

from negmine.train.losses.directions import BatchView, extra_direction_logits, multi_direction_loss
from negmine.train.losses.distill import Distillation, DistillParts, distill_loss, split_teacher
from negmine.train.losses.hardness import hardness_penalty
from negmine.train.losses.masking import false_negative_mask, masked_logits
from negmine.train.losses.mnrl import MaskStats, distill_config, st_hardness


class MaskedCachedMultipleNegativesRankingLoss(CachedMultipleNegativesRankingLoss):
    """GradCache MNRL whose softmax ignores known/flagged/margin-violating false negatives."""

    def __init__(self, model, scale: float = 20.0, similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
                 mini_batch_size: int = 32, fn_mask: bool = True, fn_margin: float | None = None,
                 hardness: str = "none", hardness_strength: float = 0.0,
                 directions: tuple[str, ...] = ("query_to_doc",), partition_mode: str = "joint",
                 distill: Distillation | None = None) -> None:
        super().__init__(model, scale=scale, similarity_fct=similarity_fct, mini_batch_size=mini_batch_size,
                         directions=directions, partition_mode=partition_mode, **st_hardness(hardness, hardness_strength))
        self.fn_mask = fn_mask
        self.fn_margin = fn_margin
        self.hardness = hardness
        self.hardness_strength = hardness_strength
        self.distill = distill
        self.mask_stats = MaskStats()
        self.distill_parts = DistillParts() if distill is not None else None

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
        if not self.fn_mask or labels is None or labels.ndim != 2:
            return super().calculate_loss(reps, labels, with_backward=with_backward)
        queries = torch.cat(reps[0])
        docs = torch.cat([torch.cat(column) for column in reps[1:]])
        batch_size = len(queries)
        losses = []
        for begin in range(0, batch_size, self.mini_batch_size):
            rows = torch.arange(begin, min(begin + self.mini_batch_size, batch_size), device=queries.device)
            sim = self.similarity_fct(queries[rows], docs)
            mask = false_negative_mask(sim, labels, rows, len(reps) - 2, self.fn_margin)
            self.mask_stats.add(mask)
            penalty = hardness_penalty(sim, rows, batch_size, self.hardness, self.hardness_strength)
            view = BatchView(queries, docs, rows, labels, len(reps) - 2, use_labels=True)
            extra = extra_direction_logits(view, self.directions, self.similarity_fct, self.scale)
            loss = multi_direction_loss(masked_logits(sim, mask, self.scale, penalty), rows, extra,
                                        self.partition_mode).sum() / batch_size
            if with_backward:
                loss.backward()
                loss = loss.detach()
            losses.append(loss)
        return sum(losses)

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "fn_mask": self.fn_mask, "fn_margin": self.fn_margin,
                **distill_config(self.distill)}
