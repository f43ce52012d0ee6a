import pytest
import torch
from sentence_transformers import SentenceTransformer

from negmine.train.labels import pack_label, text_key
from negmine.train.losses.cached_mnrl import MaskedCachedMultipleNegativesRankingLoss
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss

ANCHORS = ["gene expression in mice", "cancer risk study", "virus infection response", "blood brain heart"]
POSITIVES = ["mice gene expression level", "study of cancer risk", "immune response to virus", "heart and blood"]
NEGATIVES = ["protein level in cells", "treatment trial patients", "dna rna analysis", "disease model data"]


def _batch(model):
    columns = [ANCHORS, POSITIVES, NEGATIVES]
    features = [model.preprocess(column) for column in columns]
    labels = []
    for r in range(4):
        known = [text_key(POSITIVES[r])] + ([text_key(POSITIVES[1])] if r == 0 else [])
        labels.append(pack_label(r, text_key(POSITIVES[r]), [text_key(NEGATIVES[r])], [int(r == 2)], known, 2))
    return features, torch.tensor(labels)


def _loss_and_grads(loss_fn, model):
    model.zero_grad()
    features, labels = _batch(model)
    loss = loss_fn(features, labels)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return loss.item(), grads


GTE = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")


@pytest.mark.parametrize("margin, hardness, directions, partition", [
    (None, "none", ("query_to_doc",), "joint"), (0.0, "none", ("query_to_doc",), "joint"),
    (None, "hard-negatives", ("query_to_doc",), "joint"), (None, "all", ("query_to_doc",), "joint"),
    (None, "hard-negatives", GTE, "joint"), (None, "none", ("query_to_doc", "doc_to_query"), "per_direction"),
])
def test_cached_loss_matches_uncached_loss_and_gradients(tiny_model_path, margin, hardness, directions, partition):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()  # no dropout, so both losses see identical embeddings
    weights = {"hardness": hardness, "hardness_strength": 5.0, "directions": directions, "partition_mode": partition}
    plain, plain_grads = _loss_and_grads(MaskedMultipleNegativesRankingLoss(model, fn_margin=margin, **weights), model)
    cached_fn = MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, fn_margin=margin, **weights)
    cached, cached_grads = _loss_and_grads(cached_fn, model)
    assert cached == pytest.approx(plain, rel=1e-5)
    assert plain_grads.keys() == cached_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        assert torch.allclose(grad, cached_grads[name], atol=1e-5), name
    assert cached_fn.mask_stats.masked >= 2  # row 0 masks row 1's positive, row 2 its flagged negative


def test_cached_without_masking_is_sentence_transformers_loss(tiny_model_path):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    off = MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=2, fn_mask=False)
    plain = MaskedMultipleNegativesRankingLoss(model, fn_mask=False)
    features, labels = _batch(model)
    with torch.no_grad():
        assert off(features, labels).item() == pytest.approx(plain(features, labels).item(), rel=1e-5)


def _cached_matches_plain(model, weights: dict):
    """The cached loss (mini-batches of 3) built with ``weights`` and its value, after checking that value and every
    gradient against the plain masked loss's."""
    plain, plain_grads = _loss_and_grads(MaskedMultipleNegativesRankingLoss(model, **weights), model)
    cached_fn = MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, **weights)
    cached, cached_grads = _loss_and_grads(cached_fn, model)
    assert cached == pytest.approx(plain, rel=1e-5)
    assert plain_grads.keys() == cached_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        assert torch.allclose(grad, cached_grads[name], atol=1e-5), name
    return cached_fn, cached


@pytest.mark.parametrize("fn_mask", [True, False])
def test_cached_debiased_loss_matches_uncached_loss_and_gradients(tiny_model_path, fn_mask):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    weights = {"fn_mask": fn_mask, "hardness": "all", "hardness_strength": 5.0, "debias_prior": 0.05}
    cached_fn, cached = _cached_matches_plain(model, weights)
    undebiased, _ = _loss_and_grads(MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, **{
        **weights, "debias_prior": 0.0}), model)
    assert abs(undebiased - cached) > 1e-4  # the prior reaches the cached loss
    assert cached_fn.get_config_dict()["debias_prior"] == 0.05


@pytest.mark.parametrize("weights", [
    {"fn_mask": True, "hardness": "all", "hardness_strength": 5.0},
    {"fn_mask": False, "hardness": "none"},  # sentence-transformers' own loss without the margin
    {"fn_mask": True, "hardness": "hard-negatives", "hardness_strength": 5.0, "directions": GTE},
    {"fn_mask": True, "hardness": "none", "directions": ("query_to_doc", "doc_to_query"),
     "partition_mode": "per_direction"},
    {"fn_mask": True, "hardness": "all", "hardness_strength": 5.0, "debias_prior": 0.05},
])
def test_cached_loss_with_an_additive_margin_matches_uncached_loss_and_gradients(tiny_model_path, weights):
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    weights = {**weights, "additive_margin": 0.1}
    cached_fn, cached = _cached_matches_plain(model, weights)
    without, _ = _loss_and_grads(MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, **{
        **weights, "additive_margin": 0.0}), model)
    assert cached > without + 0.1  # the margin reaches the cached loss
    assert cached_fn.get_config_dict()["additive_margin"] == 0.1


@pytest.mark.parametrize("directions, partition", [
    (GTE, "joint"), (("query_to_doc", "doc_to_query"), "per_direction"),
    (("query_to_doc", "query_to_query", "doc_to_query"), "joint"),
])
def test_cached_margin_masking_in_every_direction_matches_uncached_loss_gradients_and_counts(tiny_model_path,
                                                                                            directions, partition):
    """fn_margin -0.05 masks by score in the extra directions too (the tiny model's cosines sit close together):
    the cached loss (mini-batches of 3 rows against the whole batch) masks and counts as the plain one."""
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    weights = {"hardness": "all", "hardness_strength": 5.0, "directions": directions, "partition_mode": partition}
    plain_fn = MaskedMultipleNegativesRankingLoss(model, fn_margin=-0.05, **weights)
    _loss_and_grads(plain_fn, model)
    cached_fn, _ = _cached_matches_plain(model, {**weights, "fn_margin": -0.05})
    counts = [(fn.mask_stats.masked, fn.mask_stats.candidates, fn.mask_stats.rows) for fn in (plain_fn, cached_fn)]
    assert counts[0] == counts[1]
    assert _masked_by_margin(model, weights) > _masked_by_margin(model, {**weights, "directions": ("query_to_doc",),
                                                                         "partition_mode": "joint"}) >= 1


def _masked_by_margin(model, weights: dict) -> int:
    """How many more entries the plain loss built with ``weights`` masks with fn_margin -0.05 than without one."""
    counts = []
    for margin in (-0.05, None):
        loss_fn = MaskedMultipleNegativesRankingLoss(model, fn_margin=margin, **weights)
        _loss_and_grads(loss_fn, model)
        counts.append(loss_fn.mask_stats.masked)
    return counts[0] - counts[1]


def test_cached_query_to_query_masks_queries_sharing_a_known_positive_as_the_plain_loss(tiny_model_path):
    """Row 0 knows row 1's positive: query_to_query masks q_1 in row 0 and q_0 in row 1 (before: neither), on top of
    query -> document's p_1 in row 0 and row 2's flagged negative; cached (mini-batches of 3) and plain agree."""
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    weights = {"hardness": "all", "hardness_strength": 5.0, "directions": ("query_to_doc", "query_to_query")}
    plain_fn = MaskedMultipleNegativesRankingLoss(model, **weights)
    _loss_and_grads(plain_fn, model)
    cached_fn, _ = _cached_matches_plain(model, weights)
    for fn in (plain_fn, cached_fn):  # candidates: 4 rows x 8 documents, 4 x 3 other queries
        assert (fn.mask_stats.masked, fn.mask_stats.candidates, fn.mask_stats.rows) == (4, 44, 4)


@pytest.mark.parametrize("weights", [
    {"fn_mask": True, "hardness": "all", "hardness_strength": 5.0},
    {"fn_mask": False, "hardness": "none"},  # sentence-transformers' own loss without focal weights
    {"fn_mask": True, "hardness": "hard-negatives", "hardness_strength": 5.0, "directions": GTE},
    {"fn_mask": True, "hardness": "none", "directions": ("query_to_doc", "doc_to_query"),
     "partition_mode": "per_direction", "additive_margin": 0.1},
    {"fn_mask": True, "hardness": "all", "hardness_strength": 5.0, "fn_margin": 0.0},
])
def test_cached_loss_with_focal_weights_matches_uncached_loss_and_gradients(tiny_model_path, weights):
    """Mini-batches of 3 of a batch of 4: the cached loss weights each mini-batch's rows by the whole batch's focal
    weights (normalised over all 4 rows), as the plain loss does; its weights' pass adds no mask counts."""
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.eval()
    weights = {**weights, "focal_gamma": 2.0}
    cached_fn, cached = _cached_matches_plain(model, weights)
    unweighted_fn = MaskedCachedMultipleNegativesRankingLoss(model, mini_batch_size=3, **{**weights, "focal_gamma": 0.0})
    unweighted, _ = _loss_and_grads(unweighted_fn, model)
    assert abs(cached - unweighted) > 1e-4  # the weights reach the cached loss
    assert cached_fn.get_config_dict()["focal_gamma"] == 2.0
    assert (cached_fn.mask_stats.masked, cached_fn.mask_stats.candidates) == (
        unweighted_fn.mask_stats.masked, unweighted_fn.mask_stats.candidates)
