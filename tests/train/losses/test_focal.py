"""Focal row weighting (negmine.train.losses.focal) in negmine's masked MNRL losses."""

import functools
import math

import pytest
import torch

from negmine.config import TrainConfig
from negmine.errors import ConfigError
from negmine.testing.loss_batches import LOSS_SETTING_CASES
from negmine.testing.loss_batches import distinct_labels as _labels
from negmine.testing.loss_batches import random_embeddings
from negmine.train.labels import pack_scores
from negmine.train.losses import build_loss
from negmine.train.losses.cached_mnrl import MaskedCachedMultipleNegativesRankingLoss
from negmine.train.losses.directions import BatchView
from negmine.train.losses.distill import Distillation
from negmine.train.losses.focal import focal_mean, focal_weights
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss, masks_with_labels, row_losses
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

GTE = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")

ANGLES = {"q": (0.0, 2.0), "p": (0.5, 2.4), "n": (0.3, 1.5)}
"""A 2-query batch on the unit circle, one hard negative each: query, positive, negative of rows 0 and 1 (radians).
Row 0's negative is closer to its query than its positive (a badly ranked row: high loss), row 1 is ranked well."""


def _circle_embeddings() -> list[torch.Tensor]:
    return [torch.tensor([[math.cos(a), math.sin(a)] for a in ANGLES[side]]) for side in "qpn"]


def _cross_entropy(positive: float, others: list[float]) -> float:
    """``-log(exp(positive) / (exp(positive) + sum exp(others)))``, in float64."""
    return -positive + math.log(math.exp(positive) + sum(math.exp(x) for x in others))


_embeddings = functools.partial(random_embeddings, requires_grad=True)


@pytest.fixture(scope="module")
def model(tiny_model_path):
    """A model for the cached loss's constructor (sentence-transformers checks its first module); the tests pass
    embeddings, so it embeds nothing."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_model_path), device="cpu")


def _value_and_grads(loss_fn, emb, labels):
    loss = loss_fn.compute_loss_from_embeddings(emb, labels)
    return loss, torch.autograd.grad(loss, emb)


def test_the_weights_by_hand():
    """Row losses ln 2 and ln 4: p = 1/2 and 1/4, 1 - p = 0.5 and 0.75; gamma 1: mean 0.625, weights 0.8 and 1.2;
    gamma 2: 0.25 and 0.5625, mean 0.40625."""
    losses = torch.tensor([math.log(2.0), math.log(4.0)], dtype=torch.float64)
    assert focal_weights(losses, 1.0).tolist() == pytest.approx([0.8, 1.2], rel=1e-12)
    assert focal_weights(losses, 2.0).tolist() == pytest.approx([0.25 / 0.40625, 0.5625 / 0.40625], rel=1e-12)
    assert focal_weights(losses, 0.0).tolist() == [1.0, 1.0]
    assert focal_mean(losses, 1.0).item() == pytest.approx((0.8 * math.log(2) + 1.2 * math.log(4)) / 2, rel=1e-12)


def test_all_weights_zero_become_ones_and_a_tiny_loss_keeps_its_weight():
    """Every row solved exactly (loss 0, p = 1): every weight 0, so 1s; 1 - exp(-l) at l = 1e-10 is 1e-10, not 0."""
    assert focal_weights(torch.zeros(3), 2.0).tolist() == [1.0, 1.0, 1.0]
    tiny = focal_weights(torch.tensor([1e-10, 1e-10 * 3]), 1.0)
    assert tiny.tolist() == pytest.approx([0.5, 1.5], rel=1e-5)


@pytest.mark.parametrize("losses, gamma", [([0.001, 0.003, 0.01], 30.0), ([0.02, 0.05, 0.1], 60.0),
                                           ([0.01, 0.5, 3.0], 30.0)])
def test_a_large_gamma_keeps_the_weights_ordered_by_loss(losses, gamma):
    """(1 - p) ** gamma underflowed to 0 in float32 for every row once the batch's largest loss was small for its
    gamma (below 0.032 at gamma 30, 0.19 at 60: the first two cases), and the all-zero rule made every weight 1
    (small leftovers, session 59). In log space the worst row takes (nearly) all the weight, as a large gamma
    asks; the weights are those of the formula in float64."""
    losses = torch.tensor(losses)
    weights = focal_weights(losses, gamma)
    assert weights[0] < weights[1] < weights[2] and weights.mean().item() == pytest.approx(1.0, rel=1e-6)
    expected = (-torch.expm1(-losses.double())) ** gamma
    assert weights.tolist() == pytest.approx((expected / expected.mean()).tolist(), rel=1e-4, abs=1e-37)


def test_rows_with_loss_zero_weigh_nothing_beside_others_and_gamma_zero_weighs_every_row_one():
    """A row solved exactly (l = 0) has weight 0 (log weight -inf) when another row has not; every row 1 with
    gamma 0, rows with loss 0 too (0 ** 0 = 1), and with no row an empty tensor."""
    losses = torch.tensor([0.0, math.log(2.0), 0.0, math.log(4.0)], dtype=torch.float64)
    assert focal_weights(losses, 1.0).tolist() == pytest.approx([0.0, 1.6, 0.0, 2.4], rel=1e-12)
    assert focal_weights(losses, 0.0).tolist() == [1.0] * 4
    assert focal_weights(torch.zeros(3), 0.0).tolist() == [1.0] * 3
    assert focal_weights(torch.zeros(0), 2.0).shape == (0,)


def test_gamma_one_weights_are_the_direct_formula_s():
    """The log-space weights equal ``(1 - exp(-l)) ** gamma / mean`` where that does not underflow (what every
    configuration trained before session 59 at gamma 1 and 2), to float32 rounding."""
    generator = torch.Generator().manual_seed(0)
    for gamma in (1.0, 2.0):
        losses = torch.rand(4096, generator=generator) * 6
        direct = (-torch.expm1(-losses)) ** gamma
        assert torch.allclose(focal_weights(losses, gamma), direct / direct.mean(), rtol=1e-6, atol=1e-6)


def test_the_weights_stop_the_gradient():
    """d loss / d l_r is w_r / B with the weight a constant: a weight with gradient would add l_r * dw_r/dl_r."""
    losses = torch.tensor([0.3, 1.0, 2.5, 0.05], requires_grad=True)
    focal_mean(losses, 2.0).backward()
    weights = focal_weights(losses, 2.0)
    assert not weights.requires_grad
    assert torch.allclose(losses.grad, weights / 4, rtol=1e-6)
    attached = losses.detach().requires_grad_()
    p = torch.exp(-attached)
    raw = (1 - p) ** 2.0
    ((raw / raw.mean()) * attached).mean().backward()  # the weight left in the graph: another gradient
    assert not torch.allclose(attached.grad, losses.grad, rtol=1e-3)


@pytest.mark.parametrize("fn_mask, with_labels", [(True, True), (False, True), (True, False)])
def test_the_loss_is_the_focal_weighted_mean_of_the_rows_by_hand(fn_mask, with_labels):
    """Two queries, one hard negative each, scale 20, no hardness weighting, gamma 1: each row's cross-entropy over
    [p0, p1, n0, n1] written out from the cosines, weighted by (1 - exp(-l_r)) normalised to mean 1. Also with
    masking off or no label column, where the loss was sentence-transformers' own, which has no row weights."""
    (q0, q1), (p0, p1), (n0, n1) = ANGLES["q"], ANGLES["p"], ANGLES["n"]
    rows = [_cross_entropy(20 * math.cos(q - pos), [20 * math.cos(q - d) for d in others])
            for q, pos, others in ((q0, p0, (p1, n0, n1)), (q1, p1, (p0, n0, n1)))]
    raw = [1 - math.exp(-l) for l in rows]
    weights = [w / (sum(raw) / 2) for w in raw]
    loss = MaskedMultipleNegativesRankingLoss(None, scale=20.0, fn_mask=fn_mask, hardness="none", focal_gamma=1.0)
    got = loss.compute_loss_from_embeddings(_circle_embeddings(), _labels(2, 1) if with_labels else None)
    assert got.item() == pytest.approx((weights[0] * rows[0] + weights[1] * rows[1]) / 2, rel=1e-5)
    assert weights[0] > 1.0 > weights[1]  # the badly ranked row weighs more
    plain = MaskedMultipleNegativesRankingLoss(None, scale=20.0, fn_mask=fn_mask, hardness="none")
    assert plain.compute_loss_from_embeddings(_circle_embeddings(), None).item() == pytest.approx(sum(rows) / 2,
                                                                                                  rel=1e-5)
    assert got.item() > plain.compute_loss_from_embeddings(_circle_embeddings(), None).item() + 0.1


ZERO_CASES = [*LOSS_SETTING_CASES, {"additive_margin": 0.1}]


class _PlainMean:
    """The loss before focal weighting, computed without the loss's own ``contrastive_loss``: the mean of
    :func:`row_losses` on negmine's path, sentence-transformers' parent loss otherwise."""

    def __init__(self, loss, labels) -> None:  # negmine's path: what the parent lacks (not read from own_loss)
        self.loss = loss
        self.own = bool(loss.debias_prior or loss.additive_margin or (loss.fn_mask and labels is not None))

    def compute_loss_from_embeddings(self, emb, labels):
        if not self.own:
            return MultipleNegativesRankingLoss.compute_loss_from_embeddings(self.loss, emb, labels)
        queries, docs = emb[0], torch.cat(emb[1:], dim=0)
        rows = torch.arange(queries.size(0))
        view = BatchView(queries, docs, rows, labels, len(emb) - 2, use_labels=masks_with_labels(self.loss, labels))
        return row_losses(self.loss, view, self.loss.similarity_fct(queries, docs)).mean()


def _unweighted_reference(loss, labels) -> _PlainMean:
    return _PlainMean(loss, labels)


@pytest.mark.parametrize("settings", ZERO_CASES)
@pytest.mark.parametrize("with_labels", [True, False])
def test_gamma_zero_is_todays_loss_bit_for_bit(model, settings, with_labels):
    """gamma 0 takes the code path of a loss built without the option: equal values and gradients, not close ones,
    for the plain and the cached loss."""
    emb = _embeddings(seed=7)
    labels = _labels(4, 2, known_extra={0: 102}, flags={(3, 0): 1}) if with_labels else None
    zero = MaskedMultipleNegativesRankingLoss(None, focal_gamma=0.0, **settings)
    (value, grads), (zero_value, zero_grads) = (_value_and_grads(loss, emb, labels)
                                                for loss in (_unweighted_reference(zero, labels), zero))
    assert torch.equal(zero_value, value)
    assert all(torch.equal(a, b) for a, b in zip(zero_grads, grads))
    assert "focal_gamma" not in zero.get_config_dict()
    cached = [_cached_value_and_grads(MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, **extra,
                                                                                **settings), emb, labels)
              for extra in ({}, {"focal_gamma": 0.0})]
    assert torch.equal(cached[0][0], cached[1][0])
    assert all(torch.equal(a, b) for a, b in zip(cached[0][1], cached[1][1]))


def _reps(emb: list[torch.Tensor], size: int) -> list[list[torch.Tensor]]:
    """The embedding columns cut into mini-batches of ``size`` rows, as GradCache caches them."""
    return [list(column.split(size)) for column in emb]


def _cached_value_and_grads(loss_fn, emb, labels):
    loss = loss_fn.calculate_loss(_reps(emb, loss_fn.mini_batch_size), labels)
    return loss, torch.autograd.grad(loss, emb)


@pytest.mark.parametrize("settings", [
    {}, {"fn_mask": False}, {"hardness": "all", "hardness_strength": 5.0, "fn_margin": 0.1}, {"directions": GTE},
    {"directions": ("query_to_doc", "doc_to_query"), "partition_mode": "per_direction", "additive_margin": 0.1},
])
@pytest.mark.parametrize("mini_batch_size", [1, 2, 3])
def test_the_cached_loss_normalises_over_the_whole_batch_as_the_plain_one(model, settings, mini_batch_size):
    """Mini-batches of 1 to 3 of a batch of 5: the cached loss's value and gradients are the plain loss's (the weights
    normalised over all 5 rows), not those of weights normalised within each mini-batch."""
    emb = _embeddings(seed=3, batch=5)
    labels = _labels(5, 2, known_extra={0: 102}, flags={(3, 0): 1})
    plain_fn = MaskedMultipleNegativesRankingLoss(None, focal_gamma=2.0, **settings)
    plain, plain_grads = _value_and_grads(plain_fn, emb, labels)
    cached_fn = MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=mini_batch_size, focal_gamma=2.0,
                                                         **settings)
    cached, cached_grads = _cached_value_and_grads(cached_fn, emb, labels)
    assert cached.item() == pytest.approx(plain.item(), rel=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(cached_grads, plain_grads))
    assert (cached_fn.mask_stats.masked, cached_fn.mask_stats.candidates) == (
        plain_fn.mask_stats.masked, plain_fn.mask_stats.candidates)  # the weights' pass counts nothing
    rows = _row_losses(plain_fn, emb, labels)
    assert plain.item() == pytest.approx(focal_mean(rows, 2.0).item(), rel=1e-6)
    per_chunk = sum((focal_weights(chunk, 2.0) * chunk).sum() for chunk in rows.split(mini_batch_size)) / 5
    if mini_batch_size > 1:  # weights normalised within each mini-batch: another loss
        assert abs(per_chunk.item() - plain.item()) > 1e-3


def _row_losses(loss_fn, emb, labels) -> torch.Tensor:
    """The batch's row losses as ``loss_fn`` computes them (its mask counts left as they were)."""
    queries, docs = emb[0].detach(), torch.cat(emb[1:]).detach()
    stats = loss_fn.mask_stats
    view = BatchView(queries, docs, torch.arange(len(queries)), labels, len(emb) - 2,
                     use_labels=loss_fn.fn_mask and labels is not None)
    rows = row_losses(loss_fn, view, loss_fn.similarity_fct(queries, docs))
    loss_fn.mask_stats = stats
    return rows


def test_the_models_gradient_is_the_weighted_rows_with_constant_weights():
    """The loss's gradient is that of sum_r w_r * l_r / B with w_r taken as numbers: no gradient through a weight."""
    emb, labels = _embeddings(seed=11), _labels(4, 2, flags={(1, 1): 1})
    loss_fn = MaskedMultipleNegativesRankingLoss(None, focal_gamma=1.5)
    _, grads = _value_and_grads(loss_fn, emb, labels)
    queries, docs = emb[0], torch.cat(emb[1:])
    view = BatchView(queries, docs, torch.arange(4), labels, 2, use_labels=True)
    rows = row_losses(loss_fn, view, loss_fn.similarity_fct(queries, docs))
    constants = focal_weights(rows, 1.5).tolist()
    by_hand = torch.autograd.grad((torch.tensor(constants) * rows).mean(), emb)
    assert all(torch.allclose(a, b, atol=1e-7) for a, b in zip(grads, by_hand))


def test_with_distillation_only_the_contrastive_part_is_weighted():
    emb = [column.detach() for column in _embeddings(seed=6, batch=3)]
    teacher = [[5.0, 1.0, -2.0], [0.5, 3.0, 0.0], [2.0, 2.0, 1.0]]
    labels = _labels(3, 2)
    scored = torch.cat([labels, torch.tensor([pack_scores(s) for s in teacher])], dim=1)
    distill = Distillation("kl", 0.3, 1.0)
    focal_only = MaskedMultipleNegativesRankingLoss(None, focal_gamma=1.0).compute_loss_from_embeddings(emb, labels)
    plain = MaskedMultipleNegativesRankingLoss(None).compute_loss_from_embeddings(emb, labels)
    term = MaskedMultipleNegativesRankingLoss(None, distill=distill).compute_loss_from_embeddings(emb, scored) - plain
    both = MaskedMultipleNegativesRankingLoss(None, focal_gamma=1.0, distill=distill)
    assert both.compute_loss_from_embeddings(emb, scored).item() == pytest.approx((focal_only + term).item(), rel=1e-6)
    assert abs(focal_only.item() - plain.item()) > 1e-3


def test_build_loss_passes_gamma_to_both_losses_and_the_model_card(model):
    for loss in ("mnrl", "cached-mnrl"):
        built = build_loss(model, TrainConfig(loss=loss, focal_gamma=1.0))
        assert built.focal_gamma == 1.0 and built.get_config_dict()["focal_gamma"] == 1.0
        assert "focal_gamma" not in build_loss(model, TrainConfig(loss=loss)).get_config_dict()
        assert build_loss(model, TrainConfig(loss=loss, focal_gamma=1.0, matryoshka_dims=(32, 16))).loss.focal_gamma == 1.0


@pytest.mark.parametrize("cls", [MaskedMultipleNegativesRankingLoss, MaskedCachedMultipleNegativesRankingLoss])
def test_a_loss_built_with_focal_and_debiasing_is_refused(model, cls):
    with pytest.raises(ConfigError, match=r"focal_gamma=1\.0 \(--focal-gamma 1\.0\) weights each row"):
        cls(model, focal_gamma=1.0, debias_prior=0.05)


def test_the_weights_need_no_value_on_the_host():
    """On PyTorch's meta device (no values, as on a GPU without a host sync) the weights and the loss still build."""
    losses = torch.empty(4, device="meta")
    assert focal_weights(losses, 1.0).device.type == "meta"
    assert focal_mean(losses, 1.0).shape == torch.Size([])
