import torch
from datasets import Dataset
from sentence_transformers.base.sampler import NoDuplicatesBatchSampler

from negmine.train.samplers.no_duplicates import EveryRowNoDuplicatesBatchSampler, place_row


def _dataset() -> Dataset:
    """9 rows, 3 of one query (a query with three positives): at batch 3 each batch can hold one of them."""
    anchors = ["q1"] * 3 + [f"q{i}" for i in range(2, 8)]
    positives = [f"p{i}" for i in range(9)]
    return Dataset.from_dict({"anchor": anchors, "positive": positives, "label": [[i] for i in range(9)]})


def _batches(cls, seed: int) -> list[list[int]]:
    sampler = cls(_dataset(), 3, False, valid_label_columns=["label"], generator=torch.Generator(), seed=seed)
    return list(sampler)[: len(sampler)]  # the trainer takes len(sampler) batches per epoch


def test_the_parent_sampler_leaves_rows_out_of_the_epoch_the_trainer_takes():
    """Why negmine has its own: with seed 4 sentence-transformers' pass yields 4 batches for a length of 3."""
    taken = _batches(NoDuplicatesBatchSampler, seed=4)
    assert sum(len(batch) for batch in taken) < 9


def test_every_row_once_per_epoch_in_len_batches_without_a_repeated_text():
    anchors = _dataset()["anchor"]
    for seed in range(20):
        batches = _batches(EveryRowNoDuplicatesBatchSampler, seed)
        assert sorted(i for batch in batches for i in batch) == list(range(9)), seed
        assert all(len(batch) <= 3 and len({anchors[i] for i in batch}) == len(batch) for batch in batches), seed


def test_seeded_per_epoch_as_the_parent():
    def make(seed):
        return EveryRowNoDuplicatesBatchSampler(_dataset(), 3, False, valid_label_columns=["label"],
                                                generator=torch.Generator(), seed=seed)

    a, b = make(4), make(4)
    assert list(a) == list(b)
    a.set_epoch(1)
    assert list(a) != list(b)
    b.set_epoch(1)
    assert list(a) == list(b)


def test_a_row_is_moved_to_make_room_and_a_repeat_only_when_nothing_else_fits():
    values = {0: {"a"}, 1: {"b"}, 3: {"d"}, 5: {"b", "d"}}
    batches = [[0, 1], [3]]  # row 5 shares a text with row 1 and with row 3; row 1 can move to the open batch
    place_row(5, batches, values, batch_size=2)
    assert batches == [[0, 5], [3, 1]]
    values = {0: {"a"}, 3: {"a", "d"}, 5: {"a", "f"}}
    batches = [[0], [3]]  # every batch holds "a": the repeat cannot be avoided, the row still goes in
    place_row(5, batches, values, batch_size=2)
    assert sorted(len(b) for b in batches) == [1, 2] and 5 in batches[0] + batches[1]
