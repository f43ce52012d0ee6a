"""CachedMultipleNegativesRankingLoss (GradCache, Gao et al. 2021) with false-negative masking.

Big contrastive batches in small memory: embeddings are computed without graphs in mini-batches, the
loss is back-propagated to the embeddings, then each mini-batch is re-embedded with gradients. Subclass
of sentence-transformers' ``CachedMultipleNegativesRankingLoss``; only the loss over the cached
embeddings changes when masking, debiasing, an additive margin or focal weighting is on (same loss as
:mod:`negmine.train.losses.mnrl`).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim
from torch import Tensor

from negmine.train.losses.directions import BatchView
from negmine.train.losses.distill import Distillation, distill_loss, split_teacher
from negmine.train.losses.focal import focal_weights
from negmine.train.losses.mnrl import (MaskedLossSettings, MaskStats, masks_with_labels, own_loss, row_losses,
                                       st_hardness)


class MaskedCachedMultipleNegativesRankingLoss(MaskedLossSettings, CachedMultipleNegativesRankingLoss):
    """GradCache MNRL whose softmax ignores known/flagged/margin-violating false negatives (and is debiased with a
    ``debias_prior``, has its positives lowered by an ``additive_margin`` and its rows focal-weighted with a
    ``focal_gamma``, as :class:`~negmine.train.losses.mnrl.MaskedMultipleNegativesRankingLoss`)."""

    def __init__(self, model, scale: float = 20.0, similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
                 mini_batch_size: int = 32, fn_mask: bool = True, fn_margin: float | None = None,
                 hardness: str = "none", hardness_strength: float = 0.0,
                 directions: tuple[str, ...] = ("query_to_doc",), partition_mode: str = "joint",
                 distill: Distillation | None = None, debias_prior: float = 0.0, additive_margin: float = 0.0,
                 focal_gamma: float = 0.0) -> None:
        super().__init__(model, scale=scale, similarity_fct=similarity_fct, mini_batch_size=mini_batch_size,
                         directions=directions, partition_mode=partition_mode, **st_hardness(hardness, hardness_strength))
        self.set_masking(fn_mask=fn_mask, fn_margin=fn_margin, hardness=hardness, hardness_strength=hardness_strength,
                         directions=directions, distill=distill, debias_prior=debias_prior,
                         additive_margin=additive_margin, focal_gamma=focal_gamma)

    def calculate_loss(self, reps: list[list[Tensor]], labels: Tensor | None = None, *,
                       with_backward: bool = False) -> Tensor:
        """The masked contrastive loss over the cached embeddings (focal-weighted with ``focal_gamma``), plus the
        weighted distillation term (never focal-weighted) when ``distill`` is set (over the whole batch at once:
        ``B * (1 + N)`` scores), each back-propagated to the embeddings with ``with_backward``."""
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
        """The contrastive loss mini-batch by mini-batch, each back-propagated with ``with_backward``; with a
        ``focal_gamma`` each mini-batch's rows are weighted by the focal weights of the whole batch
        (:meth:`batch_focal_weights`)."""
        if not own_loss(self, labels):
            return super().calculate_loss(reps, labels, with_backward=with_backward)
        queries = torch.cat(reps[0])
        docs = torch.cat([torch.cat(column) for column in reps[1:]])
        batch_size = len(queries)
        weights = self.batch_focal_weights(queries, docs, labels, len(reps) - 2) if self.focal_gamma else None
        losses = []
        for begin in range(0, batch_size, self.mini_batch_size):
            rows = torch.arange(begin, min(begin + self.mini_batch_size, batch_size), device=queries.device)
            view = BatchView(queries, docs, rows, labels, len(reps) - 2, use_labels=masks_with_labels(self, labels))
            rows_loss = row_losses(self, view, self.similarity_fct(queries[rows], docs))
            if weights is not None:
                rows_loss = weights[rows] * rows_loss
            loss = rows_loss.sum() / batch_size
            if with_backward:
                loss.backward()
                loss = loss.detach()
            losses.append(loss)
        return sum(losses)

    def batch_focal_weights(self, queries: Tensor, docs: Tensor, labels: Tensor | None, num_negatives: int) -> Tensor:
        """The focal weights (:func:`negmine.train.losses.focal.focal_weights`) of all the batch's rows, from one pass
        without gradients over the cached embeddings, mini-batch by mini-batch as the loss then runs; its masked
        candidates are not counted (the loss's own pass counts them)."""
        detached = []
        with torch.no_grad(), uncounted(self):
            for begin in range(0, len(queries), self.mini_batch_size):
                rows = torch.arange(begin, min(begin + self.mini_batch_size, len(queries)), device=queries.device)
                view = BatchView(queries, docs, rows, labels, num_negatives, use_labels=masks_with_labels(self, labels))
                detached.append(row_losses(self, view, self.similarity_fct(queries[rows], docs)))
        return focal_weights(torch.cat(detached), self.focal_gamma)


class _NoCounts(MaskStats):
    """A :class:`MaskStats` that counts nothing: its :meth:`add` reads no mask (a count is a host sync on a GPU)."""

    def add(self, mask: Tensor, excluded: Tensor | None = None, positives: int | None = None) -> None:
        pass


@contextmanager
def uncounted(loss: MaskedLossSettings) -> Iterator[None]:
    """``loss``'s masked candidates left uncounted inside the block (:class:`_NoCounts` meanwhile: a throwaway
    :class:`MaskStats` summed every mask on the host, one sync a mask and direction on a GPU, an error on meta)."""
    kept, loss.mask_stats = loss.mask_stats, _NoCounts()
    try:
        yield
    finally:
        loss.mask_stats = kept
