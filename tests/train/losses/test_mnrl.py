import pytest
import torch
import torch.nn.functional as F
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from negmine.testing.loss_batches import distinct_labels as _labels
from negmine.testing.loss_batches import random_embeddings as _embeddings
from negmine.train.losses.hardness import HARDNESS_MODES
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss








def test_without_masking_equals_sentence_transformers_mnrl():
    emb = _embeddings()
    reference = MultipleNegativesRankingLoss(None).compute_loss_from_embeddings(emb, None)
    off = MaskedMultipleNegativesRankingLoss(None, fn_mask=False).compute_loss_from_embeddings(emb, _labels(4, 2))
    no_labels = MaskedMultipleNegativesRankingLoss(None).compute_loss_from_embeddings(emb, None)
    nothing_masked = MaskedMultipleNegativesRankingLoss(None, fn_margin=None).compute_loss_from_embeddings(
        emb, _labels(4, 2)
    )
    for value in (off, no_labels, nothing_masked):
        assert value.item() == pytest.approx(reference.item(), rel=1e-6)


def test_masked_loss_equals_loss_computed_without_masked_columns():
    emb = _embeddings()
    # row 0 knows row 2's positive (key 102) as its own; row 3's first hard negative is flagged
    labels = _labels(4, 2, known_extra={0: 102}, flags={(3, 0): 1})
    loss = MaskedMultipleNegativesRankingLoss(None, scale=20.0, fn_margin=None).compute_loss_from_embeddings(
        emb, labels
    )
    queries, docs = emb[0], torch.cat(emb[1:])
    sim = queries @ docs.T
    drop = {0: {2}, 3: {4 + 3}}  # candidate column indices: positives 0..3, negative_1 4..7, negative_2 8..11
    expected = []
    for r in range(4):
        keep = [c for c in range(12) if c not in drop.get(r, set())]
        target = keep.index(r)
        expected.append(F.cross_entropy(20.0 * sim[r, keep].unsqueeze(0), torch.tensor([target])))
    assert loss.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)


def test_margin_masking_counts_and_lowers_the_loss():
    emb = _embeddings(seed=3)
    masked = MaskedMultipleNegativesRankingLoss(None, fn_margin=-2.0)  # masks every candidate but the positive
    loss = masked.compute_loss_from_embeddings(emb, _labels(4, 2))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert masked.mask_stats.masked == 4 * 11 and masked.mask_stats.fraction() == pytest.approx(44 / 48)


def test_config_dict_reports_masking():
    config = MaskedMultipleNegativesRankingLoss(None, fn_margin=0.2).get_config_dict()
    assert config["fn_mask"] is True and config["fn_margin"] == 0.2 and config["scale"] == 20.0


def test_by_default_only_known_and_flagged_false_negatives_are_masked():
    """No margin rule by default: a hard negative the model scores far above the positive stays a negative
    (on SciFact's clean labels the margin rule masked hard true negatives and cost nDCG@10)."""
    emb = _embeddings(seed=3)
    emb[2][0] = emb[0][0]  # row 0's first hard negative: identical to its query, far above its positive
    default = MaskedMultipleNegativesRankingLoss(None)
    loss = default.compute_loss_from_embeddings(emb, _labels(4, 2))
    unmasked = MaskedMultipleNegativesRankingLoss(None, fn_mask=False).compute_loss_from_embeddings(emb, _labels(4, 2))
    assert loss.item() == pytest.approx(unmasked.item(), rel=1e-6) and default.mask_stats.masked == 0
    margin = MaskedMultipleNegativesRankingLoss(None, fn_margin=0.1)
    assert margin.compute_loss_from_embeddings(emb, _labels(4, 2)).item() < loss.item()
    assert margin.mask_stats.masked >= 1


@pytest.mark.parametrize("mode", [m for m in HARDNESS_MODES if m != "none"])
def test_equals_sentence_transformers_hardness_term(mode):
    """Hardness weighting, nothing to mask: negmine's masked path gives sentence-transformers' own hardness-weighted loss."""
    emb = _embeddings(batch=4, negatives=2)
    ours = MaskedMultipleNegativesRankingLoss(None, hardness=mode, hardness_strength=5.0)
    theirs = MultipleNegativesRankingLoss(None, hardness_mode=HARDNESS_MODES[mode], hardness_strength=5.0)
    expected = theirs.compute_loss_from_embeddings(emb, None)
    assert ours.compute_loss_from_embeddings(emb, _labels(4, 2)).item() == pytest.approx(expected.item(), rel=1e-6)
    unmasked = MaskedMultipleNegativesRankingLoss(None, fn_mask=False, hardness=mode, hardness_strength=5.0)
    assert unmasked.compute_loss_from_embeddings(emb, _labels(4, 2)).item() == pytest.approx(expected.item(), rel=1e-6)
    plain = MaskedMultipleNegativesRankingLoss(None).compute_loss_from_embeddings(emb, _labels(4, 2))
    assert abs(plain.item() - expected.item()) > 1e-3  # the weighting changes the loss


def test_masked_column_stays_out_whatever_its_weight():
    emb = _embeddings(batch=4, negatives=2)
    flagged = _labels(4, 2, flags={(0, 0): 1})  # row 0's negative_1 (column 4) is a flagged false negative
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="hard-negatives", hardness_strength=50.0)
    sim = emb[0] @ torch.cat(emb[1:]).T
    expected = []
    for r in range(4):
        scores = sim[r] * 20.0
        for column in (4 + r, 8 + r):  # row r's own hard negatives get the weight
            scores[column] += 50.0 * sim[r, column]
        if r == 0:
            scores[4] = float("-inf")
        expected.append(torch.nn.functional.cross_entropy(scores.unsqueeze(0), torch.tensor([r])))
    got = loss.compute_loss_from_embeddings(emb, flagged)
    assert got.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)


def test_mask_stats_continue_from_the_last_log_entry_that_has_them():
    from negmine.train.losses.mnrl import MaskStats

    stats = MaskStats()
    stats.add(torch.tensor([[True, False], [False, False]]))
    log = [{"step": 1, "loss": 2.0, **stats.log_entry()}, {"step": 1, "eval_ndcg@10": 0.5}]
    assert log[0]["fn_masked"] == 1 and log[0]["fn_mask_candidates"] == 4
    resumed = MaskStats()
    resumed.restore(log)
    assert (resumed.masked, resumed.candidates, resumed.fraction()) == (1, 4, 0.25)
    resumed.restore([{"step": 1, "loss": 2.0}])  # a log without counts: start from zero
    assert (resumed.masked, resumed.candidates) == (0, 0)


def _debiased_rows(sim: torch.Tensor, drop: dict[int, set[int]], bonus_columns, prior: float,
                   strength: float = 5.0, scale: float = 20.0) -> torch.Tensor:
    """The debiased loss per row written out in float64 (negmine.train.losses.debias): ``drop`` the masked columns
    of each row, ``bonus_columns(r)`` the columns whose logit gets ``strength * cosine``."""
    sim = sim.double()
    out = []
    for r in range(sim.shape[0]):
        cols = [c for c in range(sim.shape[1]) if c != r and c not in drop.get(r, set())]
        terms = [scale * sim[r, c] + (strength * sim[r, c] if c in bonus_columns(r) else 0.0) for c in cols]
        positive = torch.exp(scale * sim[r, r])
        g = max((torch.stack(terms).exp().mean() - prior * positive) / (1 - prior), torch.exp(torch.tensor(-scale)))
        out.append(-torch.log(positive / (positive + len(cols) * g)))
    return torch.stack(out)


def test_debiased_loss_masks_weights_and_debiases_the_query_to_document_softmax():
    emb = _embeddings(seed=4)
    labels = _labels(4, 2, known_extra={0: 102}, flags={(3, 0): 1})  # as in the masking test above
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="hard-negatives", hardness_strength=5.0,
                                              debias_prior=0.05)
    sim = emb[0] @ torch.cat(emb[1:]).T
    expected = _debiased_rows(sim, {0: {2}, 3: {4 + 3}}, lambda r: {4 + r, 8 + r}, 0.05)
    assert loss.compute_loss_from_embeddings(emb, labels).item() == pytest.approx(expected.mean().item(), rel=1e-5)
    assert loss.mask_stats.masked == 2
    plain = MaskedMultipleNegativesRankingLoss(None, hardness="hard-negatives", hardness_strength=5.0)
    assert abs(plain.compute_loss_from_embeddings(emb, labels).item() - expected.mean().item()) > 1e-3


@pytest.mark.parametrize("fn_mask, with_labels", [(False, True), (True, False)])
def test_debiasing_without_masking_runs_on_every_candidate(fn_mask, with_labels):
    """--no-fn-mask (or a batch without negmine's labels) used sentence-transformers' own loss, which has no
    debiasing: with a prior the masked path runs with nothing masked, so the prior is not silently dropped."""
    emb = _embeddings(seed=5)
    loss = MaskedMultipleNegativesRankingLoss(None, fn_mask=fn_mask, hardness="all", hardness_strength=5.0,
                                              debias_prior=0.01)
    got = loss.compute_loss_from_embeddings(emb, _labels(4, 2, known_extra={0: 102}) if with_labels else None)
    sim = emb[0] @ torch.cat(emb[1:]).T
    expected = _debiased_rows(sim, {}, lambda r: set(range(12)) - {r}, 0.01)
    assert got.item() == pytest.approx(expected.mean().item(), rel=1e-5)
    assert loss.mask_stats.candidates == 0


def test_debiasing_refuses_the_extra_directions_and_reports_its_prior():
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        MaskedMultipleNegativesRankingLoss(None, directions=("query_to_doc", "doc_to_query"), debias_prior=0.05)
    assert str(info.value) == (
        "debias_prior=0.05 (--debias-prior 0.05) debiases the query -> document softmax only, and "
        "directions=('query_to_doc', 'doc_to_query') (--direction doc_to_query) adds doc_to_query, which it would "
        "leave biased; use directions=('query_to_doc',) (drop --direction) or debias_prior=0.0 (drop --debias-prior)")
    assert MaskedMultipleNegativesRankingLoss(None, debias_prior=0.05).get_config_dict()["debias_prior"] == 0.05
    assert "debias_prior" not in MaskedMultipleNegativesRankingLoss(None).get_config_dict()
