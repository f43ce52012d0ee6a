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


def _with_negatives() -> Dataset:
    """12 rows: q0 has three positives and q6 two (sibling rows), and five negatives are shared (n0 .. n4)."""
    anchors = ["q0", "q0", "q0", "q3", "q4", "q5", "q6", "q6", "q8", "q9", "q10", "q11"]
    return Dataset.from_dict({"anchor": anchors, "positive": [f"p{i}" for i in range(12)],
                              "negative_1": [f"n{i % 5}" for i in range(12)], "label": [[i] for i in range(12)]})


def test_without_remined_negatives_the_batches_are_the_ones_before_re_mining_reached_the_sampler():
    """Pinned: the batches this sampler built (seeds 0 and 2, epochs 0 and 1) before it took re-mined negatives;
    a run that does not re-mine (no ``negatives``) or has not re-mined yet (none swapped) builds them still."""
    from negmine.train.remine import EpochNegatives

    expected = {(0, 0): [[0, 9, 7, 11], [5, 2, 3, 6], [10, 1, 8, 4]],
                (0, 1): [[1, 8, 5, 7], [6, 0, 3, 9], [11, 2, 10, 4]],
                (2, 0): [[0, 9, 3, 6], [2, 10, 4, 11], [5, 7, 1, 8]],
                (2, 1): [[10, 9, 1, 3], [6, 2, 8, 5], [11, 7, 0, 4]]}
    for negatives in ({}, None, EpochNegatives()):
        kwargs = {} if negatives == {} else {"negatives": negatives}
        for seed in (0, 2):
            sampler = EveryRowNoDuplicatesBatchSampler(_with_negatives(), 4, False, valid_label_columns=["label"],
                                                       generator=torch.Generator(), seed=seed, **kwargs)
            for epoch in (0, 1):
                sampler.set_epoch(epoch)
                assert list(sampler) == expected[(seed, epoch)], (negatives, seed, epoch)


def test_the_duplicate_check_compares_the_negatives_swapped_in_before_the_epoch_started():
    """Re-mining gave row 0 the negative 'p3', row 3's positive. Before, the sampler compared the file's negative
    ('n0') and put rows 0 and 3 in one batch for some seeds, where 'p3' was then row 3's positive and row 0's
    negative (counted twice as row 0's negative). A swap made after the epoch started is left for the next epoch."""
    from negmine.train.remine import EpochNegatives

    def together(seed: int, negatives) -> bool:
        sampler = EveryRowNoDuplicatesBatchSampler(_with_negatives(), 4, False, valid_label_columns=["label"],
                                                   generator=torch.Generator(), seed=seed, negatives=negatives)
        return any({0, 3} <= set(batch) for batch in sampler)

    negatives = EpochNegatives()
    negatives.swap(3, 0, ["p3"])
    negatives.epoch_started(2)  # re-mined at step 3, after the epoch that started at step 2 built its batches
    assert dict(negatives) == {} and [s for s in range(20) if together(s, negatives)]
    negatives.epoch_started(3)
    assert dict(negatives) == {0: ["p3"]} and negatives.pending == []
    assert not [s for s in range(20) if together(s, negatives)]


def test_epoch_negatives_take_later_swaps_last_and_pickle_empty():
    """The trainer pickles its arguments, the sampler factory holding these included, into every checkpoint
    (training_args.bin): pickled, they would grow with the rows re-mined; a resumed run rebuilds them."""
    import pickle

    from negmine.train.remine import EpochNegatives, epoch_start_step

    negatives = EpochNegatives()
    for step, text in ((2, "a"), (4, "b"), (6, "c")):
        negatives.swap(step, 0, [text])
    negatives.epoch_started(5)
    assert dict(negatives) == {0: ["b"]} and [s for s, _, _ in negatives.pending] == [6]
    copy = pickle.loads(pickle.dumps(negatives))
    assert isinstance(copy, EpochNegatives) and dict(copy) == {} and copy.pending == []
    # 10 batches an epoch: 10 steps, or 4 with 3 accumulated (the last step takes the one left)
    assert [epoch_start_step(s, 10, 1) for s in (0, 9, 10, 25)] == [0, 0, 10, 20]
    assert [epoch_start_step(s, 10, 3) for s in (3, 4, 7, 8)] == [0, 4, 4, 8]
