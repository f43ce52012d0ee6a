import math

import pytest
import torch
import torch.nn.functional as F

from negmine.train.losses.debias import debiased_loss, log1mexp
from negmine.train.losses.directions import multi_direction_loss
from negmine.train.losses.hardness import hardness_penalty
from negmine.train.losses.masking import masked_logits

MODES = ("none", "hard-negatives", "in-batch", "all")


def _sim(seed: int, batch: int = 4, negatives: int = 2, dim: int = 8, dtype=torch.float32) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    queries = F.normalize(torch.randn(batch, dim, generator=gen, dtype=dtype), dim=-1)
    docs = F.normalize(torch.randn(batch * (1 + negatives), dim, generator=gen, dtype=dtype), dim=-1)
    return queries @ docs.T


def _mask(sim: torch.Tensor, seed: int, share: float) -> torch.Tensor:
    """A random false-negative mask (never a row's own positive column)."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.rand(sim.shape, generator=gen) < share
    rows = torch.arange(sim.shape[0])
    mask[rows, rows] = False
    return mask


def _logits(sim, mask, mode, strength, scale=20.0):
    rows = torch.arange(sim.shape[0])
    return masked_logits(sim, mask, scale, hardness_penalty(sim, rows, sim.shape[0], mode, strength)), rows


def _reference(sim, mask, mode, strength, prior, scale=20.0) -> torch.Tensor:
    """The loss written out in float64, in exp space, one row at a time (module docstring of debias.py)."""
    sim, batch = sim.double(), sim.shape[0]
    rows = torch.arange(batch)
    bonus = hardness_penalty(sim, rows, batch, mode, strength)
    losses = []
    for r in range(batch):
        cols = [c for c in range(sim.shape[1]) if c != r and not mask[r, c]]
        positive = math.exp(scale * sim[r, r].item())
        if not cols:
            losses.append(0.0)
            continue
        mean_negative = sum(math.exp(scale * sim[r, c].item() + bonus[r, c].item()) for c in cols) / len(cols)
        g = max((mean_negative - prior * positive) / (1 - prior), math.exp(-scale))
        losses.append(-math.log(positive / (positive + len(cols) * g)))
    return torch.tensor(losses, dtype=torch.float64)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("share", [0.0, 0.3])
def test_without_a_prior_it_is_the_masked_hardness_weighted_loss_and_its_gradient(mode, share):
    for seed in range(3):
        sim = _sim(seed, batch=6, negatives=3).requires_grad_()
        mask = _mask(sim, seed, share)
        logits, rows = _logits(sim, mask, mode, 5.0)
        debiased = debiased_loss(logits, mask, rows, 0.0, 20.0)
        plain = multi_direction_loss(logits, rows, [], "joint")
        assert torch.allclose(debiased, plain, rtol=1e-6, atol=1e-6)
        (grad_debiased,) = torch.autograd.grad(debiased.mean(), sim, retain_graph=True)
        (grad_plain,) = torch.autograd.grad(plain.mean(), sim)
        assert torch.allclose(grad_debiased, grad_plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("prior", [0.01, 0.05, 0.3])
def test_equals_the_formula_written_out(mode, prior):
    for seed in range(3):
        sim = _sim(seed, batch=5, negatives=2)
        mask = _mask(sim, seed + 10, 0.2)
        logits, rows = _logits(sim, mask, mode, 5.0)
        loss = debiased_loss(logits, mask, rows, prior, 20.0)
        assert torch.allclose(loss.double(), _reference(sim, mask, mode, 5.0, prior), rtol=1e-4, atol=1e-5)


def test_without_hardness_the_positive_share_is_the_prior_times_the_positive_term():
    """Chuang et al.'s estimator exactly: g = ((1/N) sum exp(l_c) - tau+ exp(s_pos)) / (1 - tau+)."""
    sim = _sim(7)
    mask = torch.zeros_like(sim, dtype=torch.bool)
    logits, rows = _logits(sim, mask, "none", 0.0)
    s = 20.0 * sim.double()
    for r in range(4):
        cols = [c for c in range(12) if c != r]
        g = (s[r, cols].exp().mean() - 0.05 * s[r, r].exp()) / 0.95
        expected = -torch.log(s[r, r].exp() / (s[r, r].exp() + len(cols) * g))
        assert debiased_loss(logits, mask, rows, 0.05, 20.0)[r].item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_prior_lowers_the_loss_exactly_when_the_positive_outscores_the_negatives_mean():
    """g = (mean - tau+ P) / (1 - tau+) is below the negatives' mean exactly when P is above it (a model that ranks
    its positives first); below it, the division by 1 - tau+ raises the estimate. (No hardness bonus here: with one, the
    weighted mean can exceed P although the positive's cosine is above every negative's.)"""
    sim = _sim(3)
    rows = torch.arange(4)
    mask = torch.zeros_like(sim, dtype=torch.bool)
    for positive, lower in ((0.8, True), (-0.8, False)):  # above / below every negative of its row
        sim[rows, rows] = positive
        logits, rows = _logits(sim, mask, "none", 0.0)
        plain, debiased = (debiased_loss(logits, mask, rows, prior, 20.0) for prior in (0.0, 0.01))
        assert ((debiased < plain) if lower else (debiased > plain)).all()


def test_the_estimate_is_floored_at_exp_minus_scale():
    """A prior whose positive share exceeds the negatives' mean: g = exp(-scale), not a negative number (scale 2, so
    the floor shows in the loss)."""
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    docs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8], [0.8, -0.6]])  # positives, then one negative each
    sim = queries @ docs.T
    mask = torch.zeros_like(sim, dtype=torch.bool)
    logits, rows = _logits(sim, mask, "none", 0.0, scale=2.0)
    # mean over each row's 3 negatives: (e^0 + e^-1.2 + e^1.6) / 3 = 2.09 < 0.5 * e^2 = 3.69
    loss = debiased_loss(logits, mask, rows, 0.5, 2.0)
    expected = math.log1p(3 * math.exp(-2.0) / math.exp(2.0))  # N = 3 negatives at the floor each
    assert loss.tolist() == pytest.approx([expected, expected], rel=1e-4)


def test_large_logits_neither_overflow_nor_lose_the_subtraction():
    """Scale 200 puts exp(logit) beyond float32 (exp(88)); cosines near 1 make the two means close."""
    sim = _sim(5, batch=4, negatives=2, dtype=torch.float64) * 0.02 + 0.97
    sim = sim.float().requires_grad_()
    mask = torch.zeros_like(sim, dtype=torch.bool)
    logits, rows = _logits(sim, mask, "all", 5.0, scale=200.0)
    loss = debiased_loss(logits, mask, rows, 0.05, 200.0)
    assert torch.isfinite(loss).all()
    reference = _reference_in_log_space(sim.detach().double(), 5.0, 0.05, 200.0)
    assert torch.allclose(loss.double(), reference, rtol=1e-4, atol=1e-4)
    (grad,) = torch.autograd.grad(loss.sum(), sim)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def _reference_in_log_space(sim: torch.Tensor, strength: float, prior: float, scale: float) -> torch.Tensor:
    """The formula at float64 with every exp shifted by the row's largest logit (mode ``all``, nothing masked)."""
    out = []
    for r in range(sim.shape[0]):
        cols = [c for c in range(sim.shape[1]) if c != r]
        l_neg = (scale + strength) * sim[r, cols]
        s_pos = scale * sim[r, r]
        shift = max(l_neg.max().item(), s_pos.item())
        g = ((l_neg - shift).exp().mean() - prior * (s_pos - shift).exp()) / (1 - prior)
        g = max(g.item(), math.exp(-scale - shift))
        out.append(-(s_pos - shift).item() + math.log(math.exp((s_pos - shift).item()) + len(cols) * g))
    return torch.tensor(out, dtype=torch.float64)


def test_a_row_whose_negatives_are_all_masked_has_loss_zero_and_finite_gradients():
    sim = _sim(2).requires_grad_()
    mask = torch.zeros_like(sim, dtype=torch.bool)
    mask[1] = True
    mask[1, 1] = False  # row 1 keeps its positive only
    logits, rows = _logits(sim, mask, "all", 5.0)
    loss = debiased_loss(logits, mask, rows, 0.05, 20.0)
    unmasked = debiased_loss(_logits(sim, torch.zeros_like(mask), "all", 5.0)[0], torch.zeros_like(mask), rows, 0.05,
                             20.0)
    assert loss[1].item() == 0.0 and unmasked[1].item() > 0
    assert torch.equal(loss[[0, 2, 3]], unmasked[[0, 2, 3]])
    (grad,) = torch.autograd.grad(loss.sum(), sim)
    assert torch.isfinite(grad).all() and grad[1].abs().sum() == 0


def test_log1mexp_is_accurate_and_has_finite_gradients_at_both_ends():
    x = torch.tensor([-1e-30, -1e-7, -0.5, -0.7, -5.0, -50.0, -math.inf], dtype=torch.float64, requires_grad=True)
    expected = [math.log(-math.expm1(v)) if v > -40 else -math.exp(v) for v in x.tolist()[:-1]] + [0.0]
    assert log1mexp(x).tolist() == pytest.approx(expected, rel=1e-12, abs=1e-300)
    (grad,) = torch.autograd.grad(log1mexp(x).sum(), x)
    assert torch.isfinite(grad).all()
