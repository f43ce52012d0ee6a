import pytest
import torch
import torch.nn.functional as F

from negmine.train.labels import pack_label
from negmine.train.losses.masking import candidate_keys, false_negative_mask, masked_ranking_loss

# Batch of 3 rows with 1 hard negative each -> candidate columns [p0, p1, p2, n0, n1, n2].
KEYS = {"p0": 10, "p1": 11, "p2": 12, "n0": 20, "n1": 21, "n2": 22}


def _labels(known: list[list[int]], flags: list[int]) -> torch.Tensor:
    rows = []
    for r in range(3):
        rows.append(pack_label(r, KEYS[f"p{r}"], [KEYS[f"n{r}"]], [flags[r]], known[r], width_known=2))
    return torch.tensor(rows)


def _sim() -> torch.Tensor:
    return torch.tensor(
        [
            [0.80, 0.70, 0.10, 0.30, 0.20, 0.10],
            [0.10, 0.50, 0.20, 0.10, 0.40, 0.65],
            [0.20, 0.10, 0.60, 0.30, 0.20, 0.55],
        ]
    )


def test_candidate_keys_follow_loss_column_order():
    doc_keys = torch.tensor([[10, 20], [11, 21], [12, 22]])
    assert candidate_keys(doc_keys).tolist() == [10, 11, 12, 20, 21, 22]


def test_known_positive_of_same_query_is_masked_but_own_positive_never():
    # row 0's query also has p1 as a positive (multi-positive query); own key 10 is in known too
    labels = _labels(known=[[10, 11], [11], [12]], flags=[0, 0, 0])
    mask = false_negative_mask(_sim(), labels, torch.arange(3), num_negatives=1, margin=None)
    assert mask.tolist() == [
        [False, True, False, False, False, False],
        [False] * 6,
        [False] * 6,
    ]


def test_identical_text_under_other_id_is_masked():
    # row 1's hard negative has the same text (same key) as row 1's positive
    labels = _labels(known=[[10], [11], [12]], flags=[0, 0, 0])
    labels[1, 3] = KEYS["p1"]  # [row, query, positive, negative_1, ...]
    mask = false_negative_mask(_sim(), labels, torch.arange(3), num_negatives=1, margin=None)
    assert mask[1].tolist() == [False, False, False, False, True, False]


def test_flagged_own_negative_is_masked_only_for_its_row():
    labels = _labels(known=[[10], [11], [12]], flags=[0, 0, 1])
    mask = false_negative_mask(_sim(), labels, torch.arange(3), num_negatives=1, margin=None)
    assert mask[2].tolist() == [False, False, False, False, False, True]
    assert not mask[0].any() and not mask[1].any()


@pytest.mark.parametrize("margin, expected_row1", [(0.1, [False, False, False, False, False, True]),
                                                   (0.2, [False] * 6)])
def test_margin_masks_candidates_scored_above_positive_plus_margin(margin, expected_row1):
    labels = _labels(known=[[10], [11], [12]], flags=[0, 0, 0])
    mask = false_negative_mask(_sim(), labels, torch.arange(3), num_negatives=1, margin=margin)
    # row 1: s_pos = 0.50, candidate n2 = 0.65 > 0.50 + 0.1 but not > 0.50 + 0.2
    assert mask[1].tolist() == expected_row1
    assert not mask[0].any() and not mask[2].any()


def test_labels_can_be_ignored_while_margin_applies():
    labels = _labels(known=[[10, 11], [11], [12]], flags=[0, 0, 1])
    mask = false_negative_mask(_sim(), labels, torch.arange(3), 1, margin=0.1, use_labels=False)
    assert mask.nonzero().tolist() == [[1, 5]]


def test_sub_block_of_rows_uses_global_row_indices():
    labels = _labels(known=[[10], [11], [12]], flags=[0, 0, 1])
    full = false_negative_mask(_sim(), labels, torch.arange(3), 1, margin=0.1)
    part = false_negative_mask(_sim()[1:], labels, torch.tensor([1, 2]), 1, margin=0.1)
    assert torch.equal(full[1:], part)


def test_masked_loss_equals_loss_without_the_masked_columns():
    sim = _sim().requires_grad_()
    mask = torch.zeros(3, 6, dtype=torch.bool)
    mask[0, 1] = mask[1, 5] = mask[2, 5] = mask[2, 3] = True
    rows = torch.arange(3)
    loss = masked_ranking_loss(sim, rows, mask, scale=20.0)
    for r in range(3):
        keep = (~mask[r]).nonzero().flatten()
        target = (keep == r).nonzero().item()
        expected = F.cross_entropy(20.0 * sim[r, keep].unsqueeze(0), torch.tensor([target]))
        assert loss[r].item() == pytest.approx(expected.item(), rel=1e-6)
    unmasked = masked_ranking_loss(sim, rows, torch.zeros_like(mask), scale=20.0)
    assert (unmasked > loss).all()  # removing a negative column always lowers InfoNCE


def test_masked_columns_get_no_gradient():
    sim = _sim().requires_grad_()
    mask = torch.zeros(3, 6, dtype=torch.bool)
    mask[0, 1] = mask[1, 5] = True
    masked_ranking_loss(sim, torch.arange(3), mask, scale=20.0).sum().backward()
    assert sim.grad[0, 1] == 0 and sim.grad[1, 5] == 0
    assert sim.grad[0, 2] != 0 and sim.grad[1, 4] != 0


def test_flags_of_every_negative_mask_that_row_s_own_column():
    """Two hard negatives each: row r's negative k is column (k + 1) * B + r, and its flag k is the k-th one (with a
    single negative per row, a wrong block or a wrong flag index can land on the right column by chance)."""
    rows = [pack_label(r, KEYS[f"p{r}"], [20 + r, 30 + r], flags, [KEYS[f"p{r}"]], width_known=1)
            for r, flags in enumerate([[0, 1], [1, 0], [0, 0]])]
    mask = false_negative_mask(torch.zeros(3, 9), torch.tensor(rows), torch.arange(3), num_negatives=2, margin=None)
    assert mask.nonzero().tolist() == [[0, 6], [1, 4]]


def test_margin_masks_only_scores_strictly_above_the_positive_plus_margin():
    """A candidate tying the positive (margin 0), or exactly at positive + margin, stays in the softmax."""
    labels = _labels(known=[[10], [11], [12]], flags=[0, 0, 0])
    sim = torch.tensor([[0.5, 0.5, 0.75, 0.25, 0.5, 0.0]] * 3)
    sim[1, 1], sim[2, 2] = 0.5, 0.5  # every row's own positive scores 0.5
    assert false_negative_mask(sim, labels, torch.arange(3), 1, margin=0.0)[0].tolist() == [
        False, False, True, False, False, False]
    assert not false_negative_mask(sim, labels, torch.arange(3), 1, margin=0.25)[0].any()


def test_masked_loss_adds_the_penalty_to_the_scaled_logits():
    sim = _sim()
    penalty = torch.zeros(3, 6)
    penalty[0, 3] = 2.0
    mask = torch.zeros(3, 6, dtype=torch.bool)
    mask[0, 1] = True
    loss = masked_ranking_loss(sim, torch.arange(3), mask, scale=20.0, penalty=penalty)
    logits = 20.0 * sim[0] + penalty[0]
    keep = [0, 2, 3, 4, 5]
    expected = F.cross_entropy(logits[keep].unsqueeze(0), torch.tensor([0]))
    assert loss[0].item() == pytest.approx(expected.item(), rel=1e-6)
