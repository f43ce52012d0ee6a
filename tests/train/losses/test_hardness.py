import pytest
import torch
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from negmine.train.losses.hardness import HARDNESS_MODES, hardness_columns, hardness_penalty
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss
from tests.train.losses.test_mnrl import _embeddings, _labels

# batch 2, 2 hard negatives: columns [p0, p1, n1_0, n1_1, n2_0, n2_1]
EXPECTED_COLUMNS = {
    "hard-negatives": [[0, 0, 1, 0, 1, 0], [0, 0, 0, 1, 0, 1]],
    "in-batch": [[0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0]],
    "all": [[0, 1, 1, 1, 1, 1], [1, 0, 1, 1, 1, 1]],
    "none": [[0] * 6, [0] * 6],
}


@pytest.mark.parametrize("mode", list(EXPECTED_COLUMNS))
def test_columns_per_mode(mode):
    got = hardness_columns(mode, torch.arange(2), batch_size=2, num_columns=6)
    assert got.int().tolist() == EXPECTED_COLUMNS[mode]


def test_columns_of_a_row_slice_use_global_row_indices():
    """The cached loss scores query rows in slices: row 1 alone must get its own columns, not row 0's."""
    got = hardness_columns("hard-negatives", torch.tensor([1]), batch_size=2, num_columns=6)
    assert got.int().tolist() == [EXPECTED_COLUMNS["hard-negatives"][1]]


def test_penalty_is_strength_times_detached_similarity():
    sim = torch.tensor([[0.9, 0.2, 0.5, -0.3, 0.4, 0.1]], requires_grad=True)
    penalty = hardness_penalty(sim, torch.tensor([0]), 2, "hard-negatives", 5.0)
    assert torch.allclose(penalty, torch.tensor([[0.0, 0.0, 2.5, 0.0, 2.0, 0.0]]))
    assert not penalty.requires_grad
    assert not hardness_penalty(sim, torch.tensor([0]), 2, "hard-negatives", 0.0).any()


@pytest.mark.parametrize("mode", [m for m in HARDNESS_MODES if m != "none"])
def test_equals_sentence_transformers_hardness_term(mode):
    """Nothing to mask: negmine's masked path gives sentence-transformers' own hardness-weighted loss."""
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
