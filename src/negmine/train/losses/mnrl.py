"""MultipleNegativesRankingLoss (InfoNCE with in-batch + mined hard negatives) with false-negative masking.

Subclass of sentence-transformers' ``MultipleNegativesRankingLoss``: without masking (or without the
negmine label column) it is exactly the parent loss; with masking, candidates chosen by
:func:`negmine.train.losses.masking.false_negative_mask` are removed from the softmax denominator.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import torch
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim
from torch import Tensor

from negmine.train.losses.directions import BatchView, extra_direction_logits, multi_direction_loss
from negmine.train.losses.distill import Distillation, DistillParts, distill_loss, split_teacher
from negmine.train.losses.hardness import HARDNESS_MODES, hardness_penalty
from negmine.train.losses.masking import false_negative_mask, masked_logits


class MaskStats:
    """Running count of masked candidates (reported in the training summary).

    The counts go into the trainer's log entries (:meth:`log_entry`), which every checkpoint saves, so a resumed
    run continues them (:meth:`restore`) and reports the whole run's fraction. ``rows`` (the query rows masked; not
    logged, so it counts this part of a resumed run only) tells a step's candidate negatives from its candidates
    (:mod:`negmine.train.mask_warning`): each row's own positive is a candidate and is never masked."""

    LOG_KEYS = ("fn_masked", "fn_mask_candidates")

    def __init__(self) -> None:
        self.masked = 0
        self.candidates = 0
        self.rows = 0

    def add(self, mask: Tensor) -> None:
        self.masked += int(mask.sum())
        self.candidates += mask.numel()
        self.rows += mask.shape[0]

    def fraction(self) -> float:
        return self.masked / self.candidates if self.candidates else 0.0

    def log_entry(self) -> dict[str, int]:
        """The counts so far, as keys of a trainer log entry."""
        return dict(zip(self.LOG_KEYS, (self.masked, self.candidates)))

    def restore(self, log_history: Sequence[Mapping[str, Any]]) -> None:
        """Continue from the counts of the last log entry that has them (zero when none has)."""
        last = next((entry for entry in reversed(log_history) if self.LOG_KEYS[0] in entry), {})
        self.masked, self.candidates = (int(last.get(key, 0)) for key in self.LOG_KEYS)


class MaskedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss):
    """MNRL whose softmax ignores known/flagged/margin-violating false negatives (``fn_mask``).

    ``hardness`` (a :data:`~negmine.train.losses.hardness.HARDNESS_MODES` key) weights harder negatives
    by ``hardness_strength`` (see :mod:`negmine.train.losses.hardness`); ``directions`` and ``partition_mode``
    add GTE's reverse and same-side terms, masked alike (see :mod:`negmine.train.losses.directions`).
    """

    def __init__(self, model, scale: float = 20.0, similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
                 fn_mask: bool = True, fn_margin: float | None = None, hardness: str = "none",
                 hardness_strength: float = 0.0, directions: tuple[str, ...] = ("query_to_doc",),
                 partition_mode: str = "joint", distill: Distillation | None = None) -> None:
        super().__init__(model, scale=scale, similarity_fct=similarity_fct, directions=directions,
                         partition_mode=partition_mode, **st_hardness(hardness, hardness_strength))
        self.fn_mask = fn_mask
        self.fn_margin = fn_margin
        self.hardness = hardness
        self.hardness_strength = hardness_strength
        self.distill = distill
        self.mask_stats = MaskStats()
        self.distill_parts = DistillParts() if distill is not None else None

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """The masked contrastive loss, plus the weighted distillation term when ``distill`` is set (the labels
        then end with the teacher's scores: :mod:`negmine.train.losses.distill`)."""
        labels, teacher = split_teacher(labels, len(embeddings) - 2, self.distill is not None)
        loss = self.contrastive_loss(embeddings, labels)
        if teacher is None:
            return loss
        docs = torch.cat(embeddings[1:], dim=0)
        term = distill_loss(embeddings[0], docs, labels, teacher, self.scale, self.distill, self.similarity_fct)
        weighted = self.distill.weight * term
        self.distill_parts.add(loss, weighted)
        return loss + weighted

    def contrastive_loss(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        if not self.fn_mask or labels is None or labels.ndim != 2:
            return super().compute_loss_from_embeddings(embeddings, labels)
        queries = embeddings[0]
        docs = torch.cat(embeddings[1:], dim=0)
        rows = torch.arange(queries.size(0), device=queries.device)
        sim = self.similarity_fct(queries, docs)
        mask = false_negative_mask(sim, labels, rows, len(embeddings) - 2, self.fn_margin)
        self.mask_stats.add(mask)
        penalty = hardness_penalty(sim, rows, len(queries), self.hardness, self.hardness_strength)
        view = BatchView(queries, docs, rows, labels, len(embeddings) - 2, use_labels=True)
        extra = extra_direction_logits(view, self.directions, self.similarity_fct, self.scale)
        return multi_direction_loss(masked_logits(sim, mask, self.scale, penalty), rows, extra,
                                    self.partition_mode).mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "fn_mask": self.fn_mask, "fn_margin": self.fn_margin,
                **distill_config(self.distill)}


def distill_config(distill: Distillation | None) -> dict[str, Any]:
    """The distillation settings for the model card's loss configuration (none when off)."""
    if distill is None:
        return {}
    return {"distill": distill.method, "distill_weight": distill.weight, "distill_temperature": distill.temperature}


def st_hardness(hardness: str, strength: float) -> dict[str, Any]:
    """The sentence-transformers loss arguments for negmine's ``hardness`` mode (used when masking is off)."""
    mode = HARDNESS_MODES[hardness]
    return {"hardness_mode": mode, "hardness_strength": strength if mode else 0.0}
