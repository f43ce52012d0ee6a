import pytest
import torch

from negmine.train.losses.hardness import hardness_columns, hardness_penalty

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


def test_columns_with_three_rows_and_with_a_single_row_batch():
    """batch 3, 1 hard negative: columns [p0, p1, p2, n0, n1, n2]; a last batch of one row: [p0, n0, n0']."""
    got = hardness_columns("in-batch", torch.arange(3), batch_size=3, num_columns=6)
    assert got.int().tolist() == [[0, 1, 1, 0, 1, 1], [1, 0, 1, 1, 0, 1], [1, 1, 0, 1, 1, 0]]
    assert hardness_columns("hard-negatives", torch.arange(1), 1, 3).int().tolist() == [[0, 1, 1]]
    assert not hardness_columns("in-batch", torch.arange(1), 1, 3).any()


def test_a_small_strength_still_weights():
    sim = torch.tensor([[0.9, 0.2, 0.5, -0.3]])
    penalty = hardness_penalty(sim, torch.tensor([0]), 2, "hard-negatives", 0.1)
    assert torch.allclose(penalty, torch.tensor([[0.0, 0.0, 0.05, 0.0]]))
