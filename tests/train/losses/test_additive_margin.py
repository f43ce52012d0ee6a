"""The additive margin softmax (negmine.train.losses.additive_margin) in negmine's masked MNRL losses."""

import functools
import math

import pytest
import torch

from negmine.config import TrainConfig
from negmine.testing.loss_batches import LOSS_SETTING_CASES
from negmine.testing.loss_batches import distinct_labels as _labels
from negmine.testing.loss_batches import random_embeddings
from negmine.train.losses import build_loss
from negmine.train.losses.distill import Distillation
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss


ANGLES = {"q": (0.0, 2.0), "p": (0.5, 2.4), "n": (0.3, 1.5)}
"""A 2-query batch on the unit circle, one hard negative each: query, positive, negative of rows 0 and 1 (radians).
Row 0's negative is closer to its query than its positive (cos 0.955 against 0.878)."""


def _unit(angle: float) -> list[float]:
    return [math.cos(angle), math.sin(angle)]


def _circle_embeddings(requires_grad: bool = False) -> list[torch.Tensor]:
    return [torch.tensor([_unit(a) for a in ANGLES[side]], requires_grad=requires_grad) for side in "qpn"]


def _cos(a: float, b: float) -> float:
    return math.cos(a - b)


def _cross_entropy(positive: float, others: list[float]) -> float:
    """``-log(exp(positive) / (exp(positive) + sum exp(others)))``, in float64."""
    return -positive + math.log(math.exp(positive) + sum(math.exp(x) for x in others))








_embeddings = functools.partial(random_embeddings, requires_grad=True)


def _value_and_grads(loss_fn, emb, labels):
    loss = loss_fn.compute_loss_from_embeddings(emb, labels)
    return loss, torch.autograd.grad(loss, emb)


@pytest.mark.parametrize("settings", LOSS_SETTING_CASES)
@pytest.mark.parametrize("with_labels", [True, False])
def test_a_zero_margin_is_todays_loss_bit_for_bit(settings, with_labels):
    """M = 0 takes the code path of a loss built without the option: equal values and gradients, not close ones."""
    emb = _embeddings(seed=7)
    labels = _labels(4, 2, known_extra={0: 102}, flags={(3, 0): 1}) if with_labels else None
    today = MaskedMultipleNegativesRankingLoss(None, **settings)
    zero = MaskedMultipleNegativesRankingLoss(None, additive_margin=0.0, **settings)
    (value, grads), (zero_value, zero_grads) = (_value_and_grads(loss, emb, labels) for loss in (today, zero))
    assert torch.equal(zero_value, value)
    assert all(torch.equal(a, b) for a, b in zip(zero_grads, grads))
    assert "additive_margin" not in zero.get_config_dict()


@pytest.mark.parametrize("fn_mask, with_labels", [(True, True), (False, True), (True, False)])
def test_the_positives_logit_is_lowered_by_scale_times_the_margin_by_hand(fn_mask, with_labels):
    """Two queries, one hard negative each, M = 0.1, scale 20, no hardness weighting: each row's cross-entropy
    over [p0, p1, n0, n1] with the positive at 20 * (cos - 0.1), written out from the cosines. Also with masking
    off or no label column, where the loss was sentence-transformers' own, which has no margin."""
    (q0, q1), (p0, p1), (n0, n1) = ANGLES["q"], ANGLES["p"], ANGLES["n"]
    row0 = _cross_entropy(20 * (_cos(q0, p0) - 0.1), [20 * _cos(q0, p1), 20 * _cos(q0, n0), 20 * _cos(q0, n1)])
    row1 = _cross_entropy(20 * (_cos(q1, p1) - 0.1), [20 * _cos(q1, p0), 20 * _cos(q1, n0), 20 * _cos(q1, n1)])
    loss = MaskedMultipleNegativesRankingLoss(None, scale=20.0, fn_mask=fn_mask, hardness="none", additive_margin=0.1)
    got = loss.compute_loss_from_embeddings(_circle_embeddings(), _labels(2, 1) if with_labels else None)
    assert got.item() == pytest.approx((row0 + row1) / 2, rel=1e-5)
    without = MaskedMultipleNegativesRankingLoss(None, scale=20.0, fn_mask=fn_mask, hardness="none")
    assert without.compute_loss_from_embeddings(_circle_embeddings(), None).item() < got.item() - 0.5
    assert loss.get_config_dict()["additive_margin"] == 0.1


def test_the_hardness_weights_and_the_margin_mask_read_the_unshifted_cosines():
    """Hardness ``all`` (strength 5: each negative's logit gains 5 * cos, the positive none) and fn_margin 0.1:
    row 0's negative scores 0.077 above its positive, under the mask's 0.1, so nothing is masked; had the margin
    reached the cosines the mask compares, it would stand 0.177 above and be masked."""
    (q0, q1), (p0, p1), (n0, n1) = ANGLES["q"], ANGLES["p"], ANGLES["n"]

    def negative(q, d):
        return 25 * _cos(q, d)

    row0 = _cross_entropy(20 * (_cos(q0, p0) - 0.1), [negative(q0, p1), negative(q0, n0), negative(q0, n1)])
    row1 = _cross_entropy(20 * (_cos(q1, p1) - 0.1), [negative(q1, p0), negative(q1, n0), negative(q1, n1)])
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="all", hardness_strength=5.0, fn_margin=0.1,
                                              additive_margin=0.1)
    got = loss.compute_loss_from_embeddings(_circle_embeddings(), _labels(2, 1))
    assert got.item() == pytest.approx((row0 + row1) / 2, rel=1e-5)
    assert loss.mask_stats.masked == 0 and loss.mask_stats.candidates == 8


def test_masked_candidates_stay_masked_with_a_margin():
    """Row 0 knows row 1's positive (column 1), row 1's negative is flagged (column 3): each leaves the softmax of
    the row that masks it, with the margin on the positive as without."""
    (q0, q1), (p0, p1), (n0, n1) = ANGLES["q"], ANGLES["p"], ANGLES["n"]
    labels = _labels(2, 1, known_extra={0: 101}, flags={(1, 0): 1})
    row0 = _cross_entropy(20 * (_cos(q0, p0) - 0.2), [20 * _cos(q0, n0), 20 * _cos(q0, n1)])
    row1 = _cross_entropy(20 * (_cos(q1, p1) - 0.2), [20 * _cos(q1, p0), 20 * _cos(q1, n0)])
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="none", additive_margin=0.2)
    got = loss.compute_loss_from_embeddings(_circle_embeddings(), labels)
    assert got.item() == pytest.approx((row0 + row1) / 2, rel=1e-5)
    assert loss.mask_stats.masked == 2


def test_a_masked_column_gets_no_gradient_with_a_margin():
    """Row 1's flagged negative n1 is masked in row 1's softmax, and in row 0's (row 0 knows its text as a
    positive): no gradient reaches n1, whatever its hardness weight, while n0 gets one."""
    labels = _labels(2, 1, known_extra={0: 1001}, flags={(1, 0): 1})  # 1001: the key of row 1's negative_1
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="all", hardness_strength=5.0, additive_margin=0.3)
    emb = _circle_embeddings(requires_grad=True)
    got = loss.compute_loss_from_embeddings(emb, labels)
    (grad_n,) = torch.autograd.grad(got, emb[2])
    assert torch.equal(grad_n[1], torch.zeros(2)) and grad_n[0].abs().sum() > 0
    assert loss.mask_stats.masked == 2


def _direction_blocks(margin: float) -> tuple[list[float], list[float], list[float], list[float]]:
    """Row 0's and row 1's logits per direction, written out: query -> document (positive first, then the others),
    doc_to_query (s(q_j, p_r), the pair lowered), doc_to_doc (s(p_r, d_c), c not row r's own documents)."""
    (q0, q1), (p0, p1), (n0, n1) = ANGLES["q"], ANGLES["p"], ANGLES["n"]
    pos = [20 * (_cos(q0, p0) - margin), 20 * (_cos(q1, p1) - margin)]
    q2d = [[20 * _cos(q0, p1), 20 * _cos(q0, n0), 20 * _cos(q0, n1)],
           [20 * _cos(q1, p0), 20 * _cos(q1, n0), 20 * _cos(q1, n1)]]
    d2q = [[20 * (_cos(q0, p0) - margin), 20 * _cos(q1, p0)], [20 * _cos(q0, p1), 20 * (_cos(q1, p1) - margin)]]
    d2d = [[20 * _cos(p0, p1), 20 * _cos(p0, n1)], [20 * _cos(p1, p0), 20 * _cos(p1, n0)]]
    return pos, q2d, d2q, d2d


def _log_sum_exp(values: list[float]) -> float:
    return math.log(sum(math.exp(v) for v in values))


@pytest.mark.parametrize("partition", ["joint", "per_direction"])
def test_every_direction_holding_the_positive_lowers_it_by_hand(partition):
    """doc_to_query holds the pair (q_r, p_r) too (LaBSE's second direction): lowered there; doc_to_doc holds no
    positive and is left as it is. ``joint``: one softmax over every block; ``per_direction``: the mean of each
    direction's log-partition (doc_to_doc not allowed there)."""
    pos, q2d, d2q, d2d = _direction_blocks(0.1)
    if partition == "joint":
        directions = ("query_to_doc", "doc_to_query", "doc_to_doc")
        rows = [_log_sum_exp([pos[r], *q2d[r], *d2q[r], *d2d[r]]) - pos[r] for r in range(2)]
    else:
        directions = ("query_to_doc", "doc_to_query")
        rows = [(_log_sum_exp([pos[r], *q2d[r]]) + _log_sum_exp(d2q[r])) / 2 - pos[r] for r in range(2)]
    for labels in (_labels(2, 1), None):
        loss = MaskedMultipleNegativesRankingLoss(None, hardness="none", directions=directions,
                                                  partition_mode=partition, additive_margin=0.1)
        got = loss.compute_loss_from_embeddings(_circle_embeddings(), labels)
        assert got.item() == pytest.approx(sum(rows) / 2, rel=1e-5)


def _debiased_by_hand(prior: float, margin: float, scale: float = 20.0) -> float:
    """Debiased loss with the margin on the positive's term P, not on the estimate tau+ * exp(s_pos) of the
    unlabelled positives among the negatives (negmine.train.losses.debias)."""
    (q0, q1), (p0, p1), (n0, n1) = ANGLES["q"], ANGLES["p"], ANGLES["n"]
    total = 0.0
    for q, own, others in ((q0, p0, (p1, n0, n1)), (q1, p1, (p0, n0, n1))):
        s_pos = scale * _cos(q, own)
        mean = sum(math.exp(scale * _cos(q, d)) for d in others) / len(others)
        g = max((mean - prior * math.exp(s_pos)) / (1 - prior), math.exp(-scale))
        positive = math.exp(s_pos - scale * margin)
        total += -math.log(positive / (positive + len(others) * g))
    return total / 2


@pytest.mark.parametrize("prior", [0.0, 0.05])
def test_a_debiased_loss_lowers_the_positives_term_not_its_estimate_among_the_negatives(prior):
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="none", debias_prior=prior, additive_margin=0.1)
    got = loss.compute_loss_from_embeddings(_circle_embeddings(), _labels(2, 1))
    assert got.item() == pytest.approx(_debiased_by_hand(prior, 0.1), rel=1e-5)
    if prior:  # and the prior still acts
        assert abs(got.item() - _debiased_by_hand(0.0, 0.1)) > 1e-3


@pytest.mark.parametrize("method", ["kl", "margin-mse"])
def test_the_distillation_term_is_left_alone_by_the_margin(method):
    """The margin lowers the contrastive term's positive only: the distillation term (its own student logits,
    scale * cos) is the same with and without it."""
    from negmine.train.labels import pack_scores

    emb = _embeddings(seed=8, batch=3, negatives=2)
    labels = torch.cat([_labels(3, 2), torch.tensor([pack_scores(s) for s in
                                                     [[5.0, 1.0, -2.0], [0.5, 3.0, 0.0], [2.0, 2.0, 1.0]]])], dim=1)
    parts = {}
    for margin in (0.0, 0.1):
        loss = MaskedMultipleNegativesRankingLoss(None, distill=Distillation(method, 0.5, 1.0), additive_margin=margin)
        total = loss.compute_loss_from_embeddings(emb, labels)
        contrastive = MaskedMultipleNegativesRankingLoss(None, additive_margin=margin).compute_loss_from_embeddings(
            emb, labels[:, :-3])
        parts[margin] = (total.item() - contrastive.item(), contrastive.item())
    assert parts[0.1][0] == pytest.approx(parts[0.0][0], rel=1e-5)  # the distillation term
    assert parts[0.1][1] > parts[0.0][1] + 0.5  # the contrastive term grew


@pytest.mark.parametrize("loss", ["mnrl", "cached-mnrl"])
def test_build_loss_passes_the_margin_also_inside_matryoshka(tiny_model_path, loss):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    assert build_loss(model, TrainConfig(loss=loss, additive_margin=0.05)).additive_margin == 0.05
    wrapped = build_loss(model, TrainConfig(loss=loss, additive_margin=0.05, matryoshka_dims=(32, 16)))
    assert wrapped.loss.additive_margin == 0.05
    assert build_loss(model, TrainConfig(loss=loss)).additive_margin == 0.0
