"""The XBM pilot's loss (benchmarks/xbm.py): the defaults' loss while the memory is empty, then the memory's
documents as extra negatives, minus a row's known positives and texts already in the batch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from negmine.testing.loss_batches import distinct_labels, random_embeddings
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss


@pytest.fixture
def xbm_loss(import_benchmark, monkeypatch):
    """A defaults loss (hardness all, 5) on a stand-in model, with the pilot's patch undone after the test."""
    xbm = import_benchmark("xbm")
    monkeypatch.setattr(MaskedMultipleNegativesRankingLoss, "contrastive_loss",
                        MaskedMultipleNegativesRankingLoss.contrastive_loss)
    loss = MaskedMultipleNegativesRankingLoss(torch.nn.Identity(), hardness="all", hardness_strength=5.0)
    original = MaskedMultipleNegativesRankingLoss.contrastive_loss
    baseline = lambda e, l: float(original(loss, e, l).detach())  # noqa: E731 (the unpatched loss)
    runs: list = []
    xbm.patch_loss(2, runs)
    return loss, baseline, runs


def _by_hand(embeddings, memory, masked):
    """Cross-entropy of scaled (20), hardness-weighted (5) cosines over the batch's columns (distinct keys: none
    masked; the positive without the hardness bonus) and the memory's, ``masked`` ``(R, M)`` memory columns left
    out."""
    queries, docs = embeddings[0], torch.cat(embeddings[1:])
    sim = F.normalize(queries, dim=-1) @ F.normalize(torch.cat([docs, memory]), dim=-1).T
    logits = 25.0 * sim
    rows = torch.arange(len(queries))
    logits[rows, rows] = 20.0 * sim[rows, rows]
    logits[:, docs.shape[0]:] = logits[:, docs.shape[0]:].masked_fill(masked, float("-inf"))
    return F.cross_entropy(logits, rows).item()


def test_empty_memory_is_the_defaults_loss_and_training_steps_fill_it(xbm_loss):
    loss, baseline, runs = xbm_loss
    first, labels = random_embeddings(0, batch=4, negatives=3, requires_grad=True), distinct_labels(4, 3)
    expected = baseline(first, labels)
    assert loss.contrastive_loss(first, labels).item() == pytest.approx(expected, abs=1e-6)
    assert runs == [{"steps": 1, "memory_columns": 0, "masked": 0}]
    with torch.no_grad():  # not a training step: the memory stays as it is
        loss.contrastive_loss(random_embeddings(5, batch=4, negatives=3), distinct_labels(4, 3) + 100_000)
    assert runs[0]["steps"] == 1


def test_memory_documents_are_extra_negatives_except_known_positives_and_batch_texts(xbm_loss):
    loss, _, runs = xbm_loss
    first, labels = random_embeddings(0, batch=4, negatives=3, requires_grad=True), distinct_labels(4, 3)
    loss.contrastive_loss(first, labels)
    second = random_embeddings(1, batch=4, negatives=3, requires_grad=True)
    # other texts, but row 0 of the new batch knows the first batch's row 1 positive (key 101) as a positive
    fresh = distinct_labels(4, 3, known_extra={0: 101})
    fresh[:, 2:6] += 10_000  # positive and negative keys of another batch (flags untouched)
    fresh[:, 9] += 10_000  # its own positive's key among the known ones
    memory = torch.cat(first[1:]).detach()
    value = loss.contrastive_loss(second, fresh).item()
    assert runs[0]["masked"] == 1  # memory column of key 101 (the first batch's positive 1), for row 0 only
    masked = torch.zeros(4, 16, dtype=torch.bool)
    masked[0, 1] = True
    assert value == pytest.approx(_by_hand(second, memory, masked), abs=1e-5)
    # the second batch's texts again: its 16 documents in the memory are in the batch already, so they do not count
    third = random_embeddings(2, batch=4, negatives=3, requires_grad=True)
    value = loss.contrastive_loss(third, fresh).item()
    memory = torch.cat([memory, torch.cat(second[1:]).detach()])
    masked = torch.cat([masked, torch.ones(4, 16, dtype=torch.bool)], dim=1)
    assert runs[0]["masked"] == 1 + 1 + 4 * 16
    assert value == pytest.approx(_by_hand(third, memory, masked), abs=1e-5)


def test_each_training_run_has_its_own_memory(xbm_loss, import_benchmark):
    loss, _, runs = xbm_loss
    labels = distinct_labels(4, 3)
    loss.contrastive_loss(random_embeddings(0, batch=4, negatives=3, requires_grad=True), labels)
    other = MaskedMultipleNegativesRankingLoss(torch.nn.Identity(), hardness="all", hardness_strength=5.0)
    other.contrastive_loss(random_embeddings(0, batch=4, negatives=3, requires_grad=True), labels)
    assert [r["steps"] for r in runs] == [1, 1]


def test_other_loss_settings_are_refused(xbm_loss):
    _, _, _ = xbm_loss
    loss = MaskedMultipleNegativesRankingLoss(torch.nn.Identity(), hardness="none")
    with pytest.raises(RuntimeError, match="written for the defaults"):
        loss.contrastive_loss(random_embeddings(0, batch=4, negatives=3), distinct_labels(4, 3))
