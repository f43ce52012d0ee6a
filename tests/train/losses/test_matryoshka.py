import warnings

import pytest
import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer

from negmine.config import TrainConfig
from negmine.errors import ConfigError
from negmine.train.labels import pack_label, text_key
from negmine.train.losses import build_loss
from negmine.train.losses.matryoshka import MaskedMatryoshkaLoss
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss

ANCHORS = ["gene expression in mice", "cancer risk study", "virus infection response", "blood brain heart"]
POSITIVES = ["mice gene expression level", "study of cancer risk", "immune response to virus", "heart and blood"]
NEGATIVES = ["protein level in cells", "treatment trial patients", "dna rna analysis", "disease model data"]
SETTINGS = dict(hardness="all", hardness_strength=5.0, directions=("query_to_doc", "doc_to_query"), fn_margin=0.3)


def _batch(model, width_known: int = 5):
    """Row 0 knows row 1's positive (masked; its 5th known positive, after 3 texts not in the batch), row 2's
    negative is flagged (masked). ``width_known`` pads the known positives: 27 makes the label row 3 + 2 + 27 = 32
    wide, the tiny model's embedding dimension."""
    features = [model.preprocess(column) for column in (ANCHORS, POSITIVES, NEGATIVES)]
    labels = []
    for r in range(4):
        others = [text_key(f"another relevant text {i}") for i in range(3)] + [text_key(POSITIVES[1])]
        known = [text_key(POSITIVES[r])] + (others if r == 0 else [])
        labels.append(pack_label(r, text_key(POSITIVES[r]), [text_key(NEGATIVES[r])], [int(r == 2)], known,
                                 width_known))
    return features, torch.tensor(labels)


def _expected(model, labels, dims, weights):
    """The plain masked loss on the embeddings cut to each dim and re-normalised, weighted and summed, and its
    mask counts."""
    plain = MaskedMultipleNegativesRankingLoss(model, **SETTINGS)
    with torch.no_grad():
        full = [model.encode(column, convert_to_tensor=True) for column in (ANCHORS, POSITIVES, NEGATIVES)]
        total = sum(w * plain.compute_loss_from_embeddings([F.normalize(e[:, :d], dim=-1) for e in full], labels)
                    for d, w in zip(dims, weights))
    return total.item(), plain.mask_stats.masked


def _matryoshka(model, loss: str, dims, weights, per_step: int = -1) -> MaskedMatryoshkaLoss:
    cached = {"mini_batch_size": 3} if loss == "cached-mnrl" else {}
    config = TrainConfig(loss=loss, matryoshka_dims=dims, matryoshka_weights=weights,
                         matryoshka_dims_per_step=per_step, **cached, **SETTINGS)
    config.validate()
    return build_loss(model, config)


@pytest.mark.parametrize("loss", ["mnrl", "cached-mnrl"])
@pytest.mark.parametrize("width_known", [5, 27])
def test_loss_is_the_plain_loss_on_cut_embeddings_summed_over_dims(tiny_model_path, loss, width_known):
    """Masks, hardness weights and the extra direction are computed from the cut vectors at every dim. With a
    label row as wide as the embedding (width_known 27), sentence-transformers' own forward cut the labels to
    each dim too (meant for distillation targets): at dim 8 row 0 lost its 5th known positive, row 1's positive
    was no longer masked and the mnrl value differed."""
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    dims, weights = (32, 16, 8), (1.0, 0.5, 0.25)
    features, labels = _batch(model, width_known)
    expected, masked = _expected(model, labels, dims, weights)
    wrapped = _matryoshka(model, loss, dims, weights)
    got = wrapped(features, labels)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    assert wrapped.mask_stats is wrapped.loss.mask_stats and wrapped.mask_stats.masked == masked >= 2 * len(dims)
    got.backward()  # the cached loss back-propagates from a hook: it must reach the weights
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("loss", ["mnrl", "cached-mnrl"])
def test_dims_per_step_reach_the_loss_and_each_step_trains_that_many_dims(tiny_model_path, loss):
    """``matryoshka_dims_per_step`` is sentence-transformers' ``n_dims_per_step``: a random sample of that many dims
    per step. negmine's own ``forward`` (mnrl) samples as sentence-transformers' does, the gradient-cache decorator
    (cached-mnrl) samples itself."""
    import random

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    dims, weights = (32, 16, 8), (1.0, 0.5, 0.25)
    features, labels = _batch(model)
    single = [_expected(model, labels, (d,), (w,))[0] for d, w in zip(dims, weights)]
    pairs = {(a, b): _expected(model, labels, (dims[a], dims[b]), (weights[a], weights[b]))[0]
             for a in range(3) for b in range(a + 1, 3)}
    for per_step, expected in ((1, single), (2, list(pairs.values()))):
        wrapped = _matryoshka(model, loss, dims, weights, per_step)
        assert wrapped.n_dims_per_step == per_step
        if loss == "cached-mnrl":
            assert wrapped.loss.calculate_loss.n_dims_per_step == per_step
        random.seed(0)
        got = [wrapped(features, labels).item() for _ in range(12)]
        closest = [min(range(len(expected)), key=lambda i: abs(expected[i] - g)) for g in got]
        assert all(g == pytest.approx(expected[i], rel=1e-5) for g, i in zip(got, closest))
        assert len(set(closest)) > 1  # drawn at random, not the same dims every step
    random.seed(0)
    everything = _expected(model, labels, dims, weights)[0]
    assert _matryoshka(model, loss, dims, weights, 3)(features, labels).item() == pytest.approx(everything, rel=1e-5)


def test_cached_and_plain_matryoshka_give_the_same_gradients(tiny_model_path):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    grads = []
    for loss in ("mnrl", "cached-mnrl"):
        model.zero_grad()
        features, labels = _batch(model)
        _matryoshka(model, loss, (32, 8), (1.0, 2.0))(features, labels).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name, grad in grads[0].items():
        assert torch.allclose(grad, grads[1][name], atol=1e-5), name


def test_a_dim_larger_than_the_model_is_refused_naming_its_dimension(tiny_model_path):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    config = TrainConfig(model=str(tiny_model_path), matryoshka_dims=(64, 32, 16))
    with pytest.raises(ConfigError, match=r"^matryoshka_dims \(64, 32, 16\): 64 exceeds the embedding dimension 32 of "
                                          r"the model '.*'; use dims up to 32, e.g. --matryoshka-dims 32,16$"):
        build_loss(model, config)


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")
def test_dims_that_leave_out_the_models_dimension_warn_with_the_fix_not_a_raw_library_line(tiny_model_path, caplog):
    """sentence-transformers logged "The model's embedding dimension 32 is not included in matryoshka_dims" as a
    raw line outside negmine's warning lines, without the option that adds it."""
    import logging

    from negmine.errors import NegmineWarning

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    with caplog.at_level(logging.WARNING), pytest.warns(NegmineWarning) as caught:
        build_loss(model, TrainConfig(model=str(tiny_model_path), matryoshka_dims=(16, 8)))
    assert [str(w.message) for w in caught] == [
        "matryoshka_dims (16, 8) leave out the model's embedding dimension 32: its full vectors are not trained, so "
        "the saved model is worse at full size than cut to a trained dim (--truncate-dim); add it, e.g. "
        "--matryoshka-dims 32,16,8"]
    assert "not included in matryoshka_dims" not in caplog.text
    with caplog.at_level(logging.WARNING), pytest.warns(NegmineWarning, match=r"(and a weight for it in "
                                                                             r"--matryoshka-weights)"):
        build_loss(model, TrainConfig(model=str(tiny_model_path), matryoshka_dims=(16, 8), matryoshka_weights=(1, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_loss(model, TrainConfig(model=str(tiny_model_path), matryoshka_dims=(32, 16)))  # full dim in: silent


def test_without_dims_the_loss_is_not_wrapped():
    assert isinstance(build_loss(None, TrainConfig()), MaskedMultipleNegativesRankingLoss)
