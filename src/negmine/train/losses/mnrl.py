"""MultipleNegativesRankingLoss (InfoNCE with in-batch + mined hard negatives) with false-negative masking.

Subclass of sentence-transformers' ``MultipleNegativesRankingLoss``: without masking (or without the
negmine label column), without debiasing, without an additive margin and without focal weighting it is exactly the
parent loss; with masking, candidates chosen by :func:`negmine.train.losses.masking.false_negative_mask` are removed
from the softmax denominator; with a ``debias_prior`` the denominator is debiased (:mod:`negmine.train.losses.debias`);
with an ``additive_margin`` the positive's logit is lowered (:mod:`negmine.train.losses.additive_margin`); with a
``focal_gamma`` the rows' losses are averaged with focal weights (:mod:`negmine.train.losses.focal`).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import torch
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim
from torch import Tensor

from negmine.config import refuse_debias_with_directions, refuse_focal_with_debias
from negmine.train.losses.additive_margin import lower_positives
from negmine.train.losses.debias import debiased_loss
from negmine.train.losses.directions import BatchView, MarginMasks, extra_direction_logits, multi_direction_loss
from negmine.train.losses.distill import Distillation, DistillParts, distill_loss, split_teacher
from negmine.train.losses.focal import focal_mean
from negmine.train.losses.hardness import HARDNESS_MODES, hardness_penalty
from negmine.train.losses.masking import false_negative_mask, margin_mask, margin_threshold, masked_logits


class MaskStats:
    """Running count of masked candidates (reported in the training summary).

    Every direction of the loss is counted: query -> document and each extra one
    (:mod:`negmine.train.losses.directions`), whose entries that are no candidate (the row's own query or documents)
    are left out. The counts go into the trainer's log entries (:meth:`log_entry`), which every checkpoint saves, so
    a resumed run continues them (:meth:`restore`) and reports the whole run's fraction. ``rows`` (the candidates that
    are a row's own positive: one per query row in query -> document and in ``doc_to_query``, none in the same-side
    directions; not logged, so it counts this part of a resumed run only) tells a step's candidate negatives from its
    candidates (:mod:`negmine.train.mask_warning`): a row's own positive is never masked."""

    LOG_KEYS = ("fn_masked", "fn_mask_candidates")

    def __init__(self) -> None:
        self.masked = 0
        self.candidates = 0
        self.rows = 0

    def add(self, mask: Tensor, excluded: Tensor | None = None, positives: int | None = None) -> None:
        """Count ``mask`` ``(R, C)``'s masked entries among its candidates: every entry but the ``excluded`` ones
        (none by default); ``positives`` of the candidates are a row's own positive (default one per row)."""
        self.masked += int(mask.sum())
        self.candidates += mask.numel() - (int(excluded.sum()) if excluded is not None else 0)
        self.rows += mask.shape[0] if positives is None else positives

    def fraction(self) -> float:
        return self.masked / self.candidates if self.candidates else 0.0

    def log_entry(self) -> dict[str, int]:
        """The counts so far, as keys of a trainer log entry."""
        return dict(zip(self.LOG_KEYS, (self.masked, self.candidates)))

    def restore(self, log_history: Sequence[Mapping[str, Any]]) -> None:
        """Continue from the counts of the last log entry that has them (zero when none has)."""
        last = next((entry for entry in reversed(log_history) if self.LOG_KEYS[0] in entry), {})
        self.masked, self.candidates = (int(last.get(key, 0)) for key in self.LOG_KEYS)


class MaskedLossSettings:
    """What the masked MNRL losses, :class:`MaskedMultipleNegativesRankingLoss` and the cached one
    (:class:`~negmine.train.losses.cached_mnrl.MaskedCachedMultipleNegativesRankingLoss`), add to their
    sentence-transformers parent: the settings :func:`row_losses` reads, the running counts, and their model card
    configuration. Put before the parent class, so :meth:`get_config_dict` extends the parent's."""

    def set_masking(self, *, fn_mask: bool, fn_margin: float | None, hardness: str, hardness_strength: float,
                    directions: tuple[str, ...], distill: Distillation | None, debias_prior: float,
                    additive_margin: float, focal_gamma: float) -> None:
        """Set the settings (after the parent's ``__init__``); a ``debias_prior`` with a direction besides query ->
        document is refused (:func:`negmine.config.refuse_debias_with_directions`), and with a ``focal_gamma``
        (:func:`negmine.config.refuse_focal_with_debias`)."""
        refuse_debias_with_directions(debias_prior, directions)
        refuse_focal_with_debias(focal_gamma, debias_prior)
        self.debias_prior = debias_prior
        self.additive_margin = additive_margin
        self.focal_gamma = focal_gamma
        self.fn_mask = fn_mask
        self.fn_margin = fn_margin
        self.hardness = hardness
        self.hardness_strength = hardness_strength
        self.distill = distill
        self.mask_stats = MaskStats()
        self.distill_parts = DistillParts() if distill is not None else None

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "fn_mask": self.fn_mask, "fn_margin": self.fn_margin,  # type: ignore[misc]
                **debias_config(self.debias_prior), **margin_config(self.additive_margin),
                **focal_config(self.focal_gamma), **distill_config(self.distill)}


class MaskedMultipleNegativesRankingLoss(MaskedLossSettings, MultipleNegativesRankingLoss):
    """MNRL whose softmax ignores known/flagged/margin-violating false negatives (``fn_mask``).

    ``hardness`` (a :data:`~negmine.train.losses.hardness.HARDNESS_MODES` key) weights harder negatives
    by ``hardness_strength`` (see :mod:`negmine.train.losses.hardness`); ``directions`` and ``partition_mode``
    add GTE's reverse and same-side terms, masked alike (see :mod:`negmine.train.losses.directions`);
    ``debias_prior`` (> 0, query -> document only) debiases the softmax denominator for that expected share of
    unlabelled positives among the negatives (see :mod:`negmine.train.losses.debias`); ``additive_margin`` (> 0,
    cosine units) lowers the positive's logit by ``scale * additive_margin`` in each direction that holds it (see
    :mod:`negmine.train.losses.additive_margin`); ``focal_gamma`` (> 0, not with debiasing) weights each row's
    contrastive loss by its detached focal weight, normalised over the batch (see :mod:`negmine.train.losses.focal`).
    """

    def __init__(self, model, scale: float = 20.0, similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
                 fn_mask: bool = True, fn_margin: float | None = None, hardness: str = "none",
                 hardness_strength: float = 0.0, directions: tuple[str, ...] = ("query_to_doc",),
                 partition_mode: str = "joint", distill: Distillation | None = None, debias_prior: float = 0.0,
                 additive_margin: float = 0.0, focal_gamma: float = 0.0) -> None:
        super().__init__(model, scale=scale, similarity_fct=similarity_fct, directions=directions,
                         partition_mode=partition_mode, **st_hardness(hardness, hardness_strength))
        self.set_masking(fn_mask=fn_mask, fn_margin=fn_margin, hardness=hardness, hardness_strength=hardness_strength,
                         directions=directions, distill=distill, debias_prior=debias_prior,
                         additive_margin=additive_margin, focal_gamma=focal_gamma)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        """The masked contrastive loss (focal-weighted with ``focal_gamma``), plus the weighted distillation term when
        ``distill`` is set (the labels then end with the teacher's scores: :mod:`negmine.train.losses.distill`; never
        focal-weighted)."""
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
        if not own_loss(self, labels):
            return super().compute_loss_from_embeddings(embeddings, labels)
        queries = embeddings[0]
        docs = torch.cat(embeddings[1:], dim=0)
        rows = torch.arange(queries.size(0), device=queries.device)
        view = BatchView(queries, docs, rows, labels, len(embeddings) - 2, use_labels=masks_with_labels(self, labels))
        losses = row_losses(self, view, self.similarity_fct(queries, docs))
        return focal_mean(losses, self.focal_gamma) if self.focal_gamma else losses.mean()


def own_loss(loss, labels: Tensor | None) -> bool:
    """Whether ``loss`` computes this batch's contrastive loss itself (:func:`row_losses`) rather than with its
    sentence-transformers parent: when it masks, debiases, has an additive margin or weights its rows (focal), none of
    which the parent has."""
    return bool(loss.debias_prior or loss.additive_margin or loss.focal_gamma or masks_with_labels(loss, labels))


def masks_with_labels(loss, labels: Tensor | None) -> bool:
    """Whether ``loss`` masks false negatives in this batch: masking on, and the batch has negmine's label rows."""
    return loss.fn_mask and labels is not None and labels.ndim == 2


def candidate_mask(loss, view: BatchView, sim: Tensor) -> Tensor:
    """The false-negative mask of ``view``'s rows (counted in ``loss.mask_stats``); none masked when the loss does not
    mask this batch (:func:`masks_with_labels`: a debiased loss, or one with an additive margin or focal weighting,
    then runs on every candidate)."""
    if view.parts is None:
        return torch.zeros_like(sim, dtype=torch.bool)
    mask = false_negative_mask(sim, view.labels, view.rows, view.num_negatives, loss.fn_margin)
    loss.mask_stats.add(mask)
    return mask


def direction_masking(loss, view: BatchView, sim: Tensor) -> tuple[MarginMasks | None, MaskStats | None]:
    """What the extra directions mask with, as the query -> document mask of :func:`candidate_mask`: what the score
    margin masked there (None without ``fn_margin``) and the counts to add to (None: not masking)."""
    if view.parts is None:
        return None, None
    if loss.fn_margin is None:
        return None, loss.mask_stats
    threshold = margin_threshold(sim, view.rows, loss.fn_margin)
    return MarginMasks(loss.fn_margin, threshold, margin_mask(sim, view.rows, loss.fn_margin)), loss.mask_stats


def row_losses(loss, view: BatchView, sim: Tensor) -> Tensor:
    """Per-row loss of ``view``'s rows (``sim`` their similarities to every candidate) for the masked MNRL ``loss``
    (cached or not): masked, hardness-weighted, the positives lowered by the additive margin, then debiased or with
    the extra directions."""
    mask = candidate_mask(loss, view, sim)
    penalty = hardness_penalty(sim, view.rows, view.batch_size, loss.hardness, loss.hardness_strength)
    logits = masked_logits(sim, mask, loss.scale, penalty)
    margin = loss.scale * loss.additive_margin
    if loss.debias_prior:
        return debiased_loss(logits, mask, view.rows, loss.debias_prior, loss.scale, margin)
    extra = extra_direction_logits(view, loss.directions, loss.similarity_fct, loss.scale, margin,
                                   *direction_masking(loss, view, sim))
    return multi_direction_loss(lower_positives(logits, view.rows, margin), view.rows, extra, loss.partition_mode)


def debias_config(prior: float) -> dict[str, Any]:
    """The debiasing prior for the model card's loss configuration (none when off)."""
    return {"debias_prior": prior} if prior else {}


def margin_config(margin: float) -> dict[str, Any]:
    """The additive margin for the model card's loss configuration (none when off)."""
    return {"additive_margin": margin} if margin else {}


def focal_config(gamma: float) -> dict[str, Any]:
    """The focal weighting's gamma for the model card's loss configuration (none when off)."""
    return {"focal_gamma": gamma} if gamma else {}


def distill_config(distill: Distillation | None) -> dict[str, Any]:
    """The distillation settings for the model card's loss configuration (none when off)."""
    if distill is None:
        return {}
    return {"distill": distill.method, "distill_weight": distill.weight, "distill_temperature": distill.temperature}


def st_hardness(hardness: str, strength: float) -> dict[str, Any]:
    """The sentence-transformers loss arguments for negmine's ``hardness`` mode (used when masking is off)."""
    mode = HARDNESS_MODES[hardness]
    return {"hardness_mode": mode, "hardness_strength": strength if mode else 0.0}
