"""Distillation from a teacher's scores, added to the contrastive (MNRL) loss (``TrainConfig.distill``).

A row's teacher scores ``t_0`` (its positive) and ``t_1..t_N`` (its hard negatives, in the dataset's column order)
come from the mined file: a relevance judge's (``judge_positive_score``, ``judge_negative_scores``: a cross-encoder's
logits or a teacher bi-encoder's cosines, RocketQA-style denoising) or the mining model's cosines
(``positive_score``, ``negative_scores``). They ride in the batch's label tensor, after negmine's masking columns
(:mod:`negmine.train.labels`), each float64 stored bit for bit in one int64
(:func:`negmine.train.labels.pack_scores`); the losses take
them off (:func:`split_teacher`) before the masking code reads the rest.

Both terms compare logits over the row's own candidates ``c = 0..N`` (the positive and its hard negatives; the
teacher has no score of another row's documents, so in-batch negatives stay with the contrastive loss alone):

- student: ``z_c = scale * cos(q, d_c)``, the logits of the contrastive softmax (student temperature ``1 / scale``);
- teacher: ``y_c = t_c / temperature``.

``kl``: ``sum_c p_c (log p_c - log softmax(z)_c)`` with ``p = softmax(y)``, summed over candidates and averaged over
the rows: sentence-transformers' ``DistillKLDivLoss(similarity_fct=pairwise_cos_sim, student_temperature=1/scale,
teacher_temperature=temperature)`` divided by its ``student_temperature ** 2`` factor, so the term is in nats as MNRL
is (with ``1 / scale = 0.05`` that factor would shrink it 400 times). ``margin-mse``: the mean over (row, negative) of
``((z_0 - z_k) - (y_0 - y_k)) ** 2``: sentence-transformers' ``MarginMSELoss`` with ``scale * pairwise_cos_sim`` as
its similarity and the teacher's scores over ``temperature`` as labels. Both equalities are tested.

Masking: a hard negative the contrastive loss masks (a known positive of the query, a negative the audit flagged,
one above the positive by ``fn_margin``: :func:`negmine.train.losses.masking.false_negative_mask`) is left out of the
term too, as if the row did not have it: the file or the model says it is relevant, so the teacher's score of it is
no target (its mass goes to the row's other candidates in ``kl``; its margin is not fitted in ``margin-mse``). With
``fn_mask`` off nothing is masked, in either term. A row left with its positive alone adds 0.

The two parts of the loss go into each training-loss entry of the trainer's log (:class:`DistillParts`):
``contrastive_loss`` and ``distill_loss`` (the term times ``weight``, what it adds to ``loss``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from negmine.train.losses.masking import false_negative_mask


@dataclass(frozen=True)
class Distillation:
    """What the term computes: ``method`` (``kl`` or ``margin-mse``), its ``weight`` against the contrastive loss,
    the teacher's ``temperature``, and the masking the contrastive loss applies (``fn_mask``, ``fn_margin``)."""

    method: str
    weight: float
    temperature: float
    fn_mask: bool = True
    fn_margin: float | None = None


class DistillParts:
    """The contrastive loss and the weighted distillation term of the loss's calls since the last log entry, for
    the trainer to log beside ``loss`` (:meth:`log_entry`): each the mean over the calls, as ``loss`` is the mean
    over the steps (with ``--matryoshka-dims`` a call is one dim, so the parts are means over the dims)."""

    def __init__(self) -> None:
        self.contrastive = 0.0
        self.distill = 0.0
        self.calls = 0

    def add(self, contrastive: Tensor, distill: Tensor) -> None:
        self.contrastive = self.contrastive + contrastive.detach()  # tensors: no device sync per step
        self.distill = self.distill + distill.detach()
        self.calls += 1

    def log_entry(self) -> dict[str, float]:
        """``{contrastive_loss, distill_loss}`` since the last entry (none when no call was made), then reset."""
        if not self.calls:
            return {}
        entry = {"contrastive_loss": float(self.contrastive) / self.calls, "distill_loss": float(self.distill) / self.calls}
        self.__init__()
        return entry


def split_teacher(labels: Tensor | None, num_negatives: int, scored: bool) -> tuple[Tensor | None, Tensor | None]:
    """``(labels without the teacher's columns, the teacher's scores (B, 1 + N) as float64)``; ``scored`` False:
    ``(labels, None)``."""
    if not scored or labels is None:
        return labels, None
    width = 1 + num_negatives
    return labels[:, :-width], labels[:, -width:].contiguous().view(torch.float64)


def own_columns(batch_size: int, num_negatives: int, device) -> Tensor:
    """``(B, 1 + N)``: the candidate column of each row's positive and hard negatives (``k * B + r``)."""
    rows = torch.arange(batch_size, device=device)
    return torch.stack([k * batch_size + rows for k in range(1 + num_negatives)], dim=1)


def own_mask(sim: Tensor, labels: Tensor, num_negatives: int, config: Distillation) -> Tensor:
    """``(B, 1 + N)``: the row's own candidates the contrastive loss masks (``sim`` is the ``(B, C)`` cosine
    matrix of the batch's queries against every candidate); none with ``fn_mask`` off."""
    batch_size = sim.shape[0]
    columns = own_columns(batch_size, num_negatives, sim.device)
    if not config.fn_mask:
        return torch.zeros_like(columns, dtype=torch.bool)
    rows = torch.arange(batch_size, device=sim.device)
    mask = false_negative_mask(sim, labels, rows, num_negatives, config.fn_margin)
    return mask.gather(1, columns)


def kl_term(student: Tensor, teacher: Tensor, mask: Tensor) -> Tensor:
    """Mean over rows of ``KL(softmax(teacher) || softmax(student))`` over the unmasked candidates."""
    student = student.masked_fill(mask, float("-inf"))
    teacher = teacher.masked_fill(mask, float("-inf"))
    log_q = F.log_softmax(student, dim=1)
    log_p = F.log_softmax(teacher, dim=1)
    # masked candidates: p = 0 and both logs -inf; the where keeps their NaN out of the sum and of the gradient
    gap = torch.where(mask, torch.zeros_like(log_q), log_p - log_q)
    return (log_p.exp() * gap).sum(dim=1).mean()


def margin_mse_term(student: Tensor, teacher: Tensor, mask: Tensor) -> Tensor:
    """Mean over the unmasked (row, negative) pairs of the squared difference of the two positive-minus-negative
    margins (0 when every negative is masked)."""
    errors = ((student[:, :1] - student[:, 1:]) - (teacher[:, :1] - teacher[:, 1:])) ** 2
    keep = ~mask[:, 1:]
    return torch.where(keep, errors, torch.zeros_like(errors)).sum() / keep.sum().clamp(min=1)


TERMS = {"kl": kl_term, "margin-mse": margin_mse_term}


def distill_loss(queries: Tensor, docs: Tensor, labels: Tensor, teacher: Tensor, scale: float,
                 config: Distillation, similarity_fct) -> Tensor:
    """The unweighted term for a batch: ``queries`` ``(B, d)``, ``docs`` ``(C, d)`` (positives, then each negative
    column), ``labels`` without the teacher's columns, ``teacher`` ``(B, 1 + N)``."""
    batch_size = queries.shape[0]
    num_negatives = docs.shape[0] // batch_size - 1
    sim = similarity_fct(queries, docs)
    mask = own_mask(sim, labels, num_negatives, config)
    student = scale * sim.gather(1, own_columns(batch_size, num_negatives, sim.device))
    targets = (teacher / config.temperature).to(student.dtype)
    return TERMS[config.method](student, targets, mask)
