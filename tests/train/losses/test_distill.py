import math

import pytest
import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import DistillKLDivLoss, MarginMSELoss
from sentence_transformers.util import cos_sim, pairwise_cos_sim

from negmine.config import TrainConfig
from negmine.train.labels import pack_label, pack_scores, text_key
from negmine.train.losses import build_loss
from negmine.train.losses.cached_mnrl import MaskedCachedMultipleNegativesRankingLoss
from negmine.train.losses.distill import Distillation, distill_loss, split_teacher
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss
from negmine.train.teacher_scores import teacher_temperature

TEACHER = [[5.0, 1.0, -2.0], [0.5, 3.0, 0.0], [2.0, 2.0, 1.0]]
"""Teacher scores of 3 rows: positive, negative_1, negative_2 (cross-encoder-like logits)."""


def _embeddings(seed: int = 0, batch: int = 3, negatives: int = 2, dim: int = 8) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [F.normalize(torch.randn(batch, dim, generator=gen), dim=-1) for _ in range(2 + negatives)]


def _labels(teacher=TEACHER, flags: dict[tuple[int, int], int] | None = None,
            known_extra: dict[int, int] | None = None) -> torch.Tensor:
    """Keys: positive of row r = 100 + r, negative k of row r = 1000 * (k + 1) + r; the teacher's scores last."""
    flags, known_extra = flags or {}, known_extra or {}
    rows = []
    for r, scores in enumerate(teacher):
        n = len(scores) - 1
        known = [100 + r] + ([known_extra[r]] if r in known_extra else [])
        label = pack_label(r, 100 + r, [1000 * (k + 1) + r for k in range(n)], [flags.get((r, k), 0) for k in range(n)],
                           known, width_known=2)
        rows.append(label + pack_scores(scores))
    return torch.tensor(rows)


def _term(method: str, emb, labels, temperature: float = 1.0, fn_mask: bool = True, fn_margin=None) -> float:
    plain, teacher = split_teacher(labels, len(emb) - 2, True)
    config = Distillation(method, 1.0, temperature, fn_mask=fn_mask, fn_margin=fn_margin)
    return distill_loss(emb[0], torch.cat(emb[1:]), plain, teacher, 20.0, config, cos_sim).item()


def test_the_teacher_scores_ride_in_the_int64_label_bit_for_bit():
    scores = [3.14159265358979, -11.25, 0.0, 1e-300, 0.1 + 0.2]
    labels = torch.tensor([pack_label(0, 5, [6, 7, 8, 9], [0, 0, 0, 1], [5], 3) + pack_scores(scores)])
    plain, teacher = split_teacher(labels, 4, True)
    assert teacher.dtype == torch.float64 and teacher[0].tolist() == scores
    assert plain.tolist() == labels[:, :-5].tolist()
    assert split_teacher(labels, 4, False) == (labels, None)


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return sum(x * y for x, y in zip(a.tolist(), b.tolist()))  # the embeddings are unit vectors


def _own_logits(emb, r: int) -> list[float]:
    return [20.0 * _cos(emb[0][r], emb[1 + c][r]) for c in range(len(emb) - 1)]


def _softmax(xs: list[float]) -> list[float]:
    top = max(xs)
    exps = [math.exp(x - top) for x in xs]
    return [e / sum(exps) for e in exps]


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_kl_is_the_mean_over_rows_of_the_teachers_kl_to_the_student_by_hand(temperature):
    emb = _embeddings()
    expected = 0.0
    for r, scores in enumerate(TEACHER):
        p = _softmax([s / temperature for s in scores])
        q = _softmax(_own_logits(emb, r))
        expected += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q)) / len(TEACHER)
    assert _term("kl", emb, _labels(), temperature) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("temperature", [1.0, 0.05])
def test_margin_mse_is_the_mean_squared_margin_error_by_hand(temperature):
    emb = _embeddings(seed=1)
    errors = []
    for r, scores in enumerate(TEACHER):
        z = _own_logits(emb, r)
        errors += [((z[0] - z[k]) - (scores[0] - scores[k]) / temperature) ** 2 for k in (1, 2)]
    assert _term("margin-mse", emb, _labels(), temperature) == pytest.approx(sum(errors) / len(errors), rel=1e-5)


def test_the_terms_are_sentence_transformers_distillation_losses_on_the_students_logits():
    emb, teacher = _embeddings(seed=2), torch.tensor(TEACHER)
    kl = DistillKLDivLoss(None, similarity_fct=pairwise_cos_sim, student_temperature=1 / 20, teacher_temperature=2.0)
    # sentence-transformers scales its KL by student_temperature ** 2; negmine's term is in nats, as MNRL is
    assert _term("kl", emb, _labels(), 2.0) == pytest.approx(
        kl.compute_loss_from_embeddings(emb, teacher).item() * 20 ** 2, rel=1e-5)
    margin = MarginMSELoss(None, similarity_fct=lambda a, b: 20.0 * pairwise_cos_sim(a, b))
    assert _term("margin-mse", emb, _labels(), 2.0) == pytest.approx(
        margin.compute_loss_from_embeddings(emb, teacher / 2.0).item(), rel=1e-5)


@pytest.mark.parametrize("method", ["kl", "margin-mse"])
def test_a_masked_negative_is_no_target_the_row_counts_as_if_it_had_not_it(method):
    """Row 1's negative_1 is flagged by the audit and row 2's negative_2 is a known positive of its query: the term
    is that of the batch without those columns (row 0 unchanged). With fn_mask off, both are targets."""
    emb = _embeddings(seed=4)
    labels = _labels(flags={(1, 0): 1}, known_extra={2: 2002})
    got = _term(method, emb, labels)
    kept = {0: [0, 1, 2], 1: [0, 2], 2: [0, 1]}
    if method == "kl":
        expected = 0.0
        for r, columns in kept.items():
            p = _softmax([TEACHER[r][c] for c in columns])
            q = _softmax([_own_logits(emb, r)[c] for c in columns])
            expected += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q)) / 3
    else:
        errors = []
        for r, columns in kept.items():
            z = _own_logits(emb, r)
            errors += [((z[0] - z[k]) - (TEACHER[r][0] - TEACHER[r][k])) ** 2 for k in columns[1:]]
        expected = sum(errors) / len(errors)
    assert got == pytest.approx(expected, rel=1e-5)
    assert _term(method, emb, labels, fn_mask=False) == pytest.approx(_term(method, emb, _labels()), rel=1e-6)
    assert _term(method, emb, labels, fn_mask=False) != pytest.approx(got, rel=1e-3)


def test_a_row_with_every_negative_masked_adds_nothing_and_no_nan():
    emb = [e.clone().requires_grad_() for e in _embeddings(seed=5)]
    flags = {(r, k): 1 for r in range(3) for k in range(2)}
    for method in ("kl", "margin-mse"):
        plain, teacher = split_teacher(_labels(flags=flags), 2, True)
        loss = distill_loss(emb[0], torch.cat(emb[1:]), plain, teacher, 20.0, Distillation(method, 1.0, 1.0), cos_sim)
        loss.backward()
        assert loss.item() == 0.0 and all(torch.isfinite(e.grad).all() for e in emb)


@pytest.mark.parametrize("method", ["kl", "margin-mse"])
def test_the_loss_adds_the_weighted_term_to_mnrl_and_weight_0_is_mnrl_exactly(method):
    emb, labels = _embeddings(seed=6), _labels(flags={(0, 1): 1})
    plain = MaskedMultipleNegativesRankingLoss(None).compute_loss_from_embeddings(emb, labels[:, :-3])
    weighted = MaskedMultipleNegativesRankingLoss(None, distill=Distillation(method, 0.3, 1.0))
    assert weighted.compute_loss_from_embeddings(emb, labels).item() == pytest.approx(
        plain.item() + 0.3 * _term(method, emb, labels), rel=1e-6)
    zero = MaskedMultipleNegativesRankingLoss(None, distill=Distillation(method, 0.0, 1.0))
    assert zero.compute_loss_from_embeddings(emb, labels).item() == plain.item()


def _batch(model):
    anchors = ["gene expression in mice", "cancer risk study", "virus infection response", "blood brain heart"]
    positives = ["mice gene expression level", "study of cancer risk", "immune response to virus", "heart and blood"]
    negatives = ["protein level in cells", "treatment trial patients", "dna rna analysis", "disease model data"]
    teacher = [[4.0, -1.0], [2.0, 2.5], [0.0, -3.0], [1.0, 0.5]]
    labels = [pack_label(r, text_key(positives[r]), [text_key(negatives[r])], [int(r == 2)],
                         [text_key(positives[r])], 1)
              + pack_scores(teacher[r]) for r in range(4)]
    return [model.preprocess(column) for column in (anchors, positives, negatives)], torch.tensor(labels)


def _loss_and_grads(loss_fn, model):
    model.zero_grad()
    features, labels = _batch(model)
    loss = loss_fn(features, labels)
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("method", ["kl", "margin-mse"])
def test_cached_mnrl_distils_as_mnrl_does(tiny_model_path, method):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()  # no dropout, so both losses see identical embeddings
    distill = Distillation(method, 0.5, 1.0)
    plain, plain_grads = _loss_and_grads(MaskedMultipleNegativesRankingLoss(model, distill=distill), model)
    cached, cached_grads = _loss_and_grads(
        MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, distill=distill), model)
    off, _ = _loss_and_grads(MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3), model)
    assert cached == pytest.approx(plain, rel=1e-5) and cached != pytest.approx(off, rel=1e-3)
    assert plain_grads.keys() == cached_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        assert torch.allclose(grad, cached_grads[name], atol=1e-5), name


def test_cached_mnrl_with_focal_weights_distils_as_mnrl_does_and_weights_the_contrastive_part_only(tiny_model_path):
    """focal_gamma weights the contrastive rows alone: the total minus the unweighted run's total is the focal
    contrastive loss minus the plain one, in the cached loss as in the plain one."""
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    distill = Distillation("kl", 0.5, 1.0)
    plain, plain_grads = _loss_and_grads(MaskedMultipleNegativesRankingLoss(model, distill=distill, focal_gamma=1.0),
                                         model)
    cached, cached_grads = _loss_and_grads(
        MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, distill=distill, focal_gamma=1.0), model)
    assert cached == pytest.approx(plain, rel=1e-5)
    assert plain_grads.keys() == cached_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        assert torch.allclose(grad, cached_grads[name], atol=1e-5), name
    features, labels = _batch(model)
    with torch.no_grad():
        contrastive = [MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, focal_gamma=gamma)(
            features, labels[:, :-2]).item() for gamma in (0.0, 1.0)]
        unweighted = MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, distill=distill)(
            features, labels).item()
    assert abs(contrastive[1] - contrastive[0]) > 1e-4
    assert cached - unweighted == pytest.approx(contrastive[1] - contrastive[0], abs=1e-5)


def test_build_loss_passes_the_distillation_and_its_resolved_temperature():
    loss = build_loss(None, TrainConfig(distill="margin-mse", distill_weight=0.2, distill_from="mining", scale=25.0))
    assert loss.distill == Distillation("margin-mse", 0.2, 1 / 25.0, fn_mask=True, fn_margin=None)
    assert loss.get_config_dict()["distill"] == "margin-mse"
    assert build_loss(None, TrainConfig()).distill is None
    assert teacher_temperature(TrainConfig(distill="kl")) == 1.0
    assert teacher_temperature(TrainConfig(distill="kl", distill_from="mining", distill_temperature=0.5)) == 0.5
