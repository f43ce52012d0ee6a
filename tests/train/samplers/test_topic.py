import numpy as np
import pytest
from datasets import Dataset

from negmine.train.samplers.row_texts import RowsWithNegatives, RowValues, text_hash, without_labels
from negmine.train.samplers.topic import (
    TopicBatchSampler,
    kmeans_topics,
    num_topic_batches,
    topic_batches,
)


def _topics():
    # cluster sizes 9, 6, 5 with batch size 3 -> 3 + 2 + 1 full batches, leftover 2 rows (cluster 2)
    return np.array([0] * 9 + [1] * 6 + [2] * 5)


def _sampler(topics, seed=7, drop_last=False, batch_size=3):
    dataset = Dataset.from_dict({"anchor": [str(i) for i in range(len(topics))]})
    return TopicBatchSampler(dataset, batch_size, drop_last, seed=seed, topics=topics)


def test_every_row_used_once_per_epoch_and_full_batches_from_one_cluster():
    topics = _topics()
    sampler = _sampler(topics)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(topics)))
    assert len(batches) == len(sampler) == 7
    full_single = [b for b in batches if len(b) == 3 and len(set(topics[b])) == 1]
    assert len(full_single) == 6


def test_leftovers_are_pooled_across_clusters():
    topics = np.array([0] * 4 + [1] * 4)  # batch 3: one full batch per cluster, leftovers 1 + 1
    batches = topic_batches(topics, 3, False, np.random.default_rng(0))
    assert sorted(len(b) for b in batches) == [2, 3, 3]
    mixed = [b for b in batches if len(b) == 2][0]
    assert set(topics[mixed]) == {0, 1}
    assert num_topic_batches(topics, 3, False) == 3 and num_topic_batches(topics, 3, True) == 2
    assert len(topic_batches(topics, 3, True, np.random.default_rng(0))) == 2


def test_deterministic_per_seed_and_epoch():
    a, b, c = _sampler(_topics()), _sampler(_topics()), _sampler(_topics(), seed=8)
    assert list(a) == list(b)
    assert list(a) != list(c)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    b.set_epoch(1)
    assert list(a) == list(b)


def test_topic_count_must_match_dataset():
    dataset = Dataset.from_dict({"anchor": ["a", "b"]})
    with pytest.raises(ValueError, match="3 topic ids for a dataset of 2 rows"):
        TopicBatchSampler(dataset, 2, False, topics=[0, 1, 2])


def test_kmeans_separates_obvious_groups_deterministically():
    rng = np.random.default_rng(0)
    centers = np.eye(4, dtype=np.float32)[:3]
    x = np.concatenate([c + 0.05 * rng.standard_normal((10, 4)) for c in centers]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    topics = kmeans_topics(x, 3, seed=1)
    assert np.array_equal(topics, kmeans_topics(x, 3, seed=1))
    groups = [set(topics[i * 10 : (i + 1) * 10]) for i in range(3)]
    assert all(len(g) == 1 for g in groups) and len(set.union(*groups)) == 3
    assert len(set(kmeans_topics(x[:2], 5, seed=1))) <= 2  # never more clusters than points



def _texts_sampler(anchors, topics, negatives=None, seed=7, batch_size=3, drop_last=False, labels=None):
    columns = {"anchor": anchors, "positive": [f"p{i}" for i in range(len(anchors))]}
    columns["negative_1"] = negatives or [f"n{i}" for i in range(len(anchors))]
    if labels is not None:
        columns["label"] = labels
    return TopicBatchSampler(Dataset.from_dict(columns), batch_size, drop_last, valid_label_columns=["label"],
                             seed=seed, topics=topics)


def _repeats(batch, sampler):
    """Texts of ``batch`` repeated (counted beyond their first), read from the dataset the sampler was given."""
    rows = sampler.sampler  # torch's BatchSampler keeps the dataset it was built on here
    texts = [t for i in batch for t in (rows[i]["anchor"], rows[i]["positive"], rows[i]["negative_1"])]
    return len(texts) - len(set(texts))


def test_sibling_rows_and_rows_sharing_a_negative_are_separated_within_their_cluster():
    """Rows 0 and 1 are one query's (two positives), rows 3 and 4 share a mined negative; cluster 0 fills two
    batches of 3, cluster 1 one. Before, the cluster's shuffle put the pairs together in some seeds' batches."""
    topics = np.array([0] * 6 + [1] * 3)
    anchors = ["q0", "q0"] + [f"q{i}" for i in range(2, 9)]
    negatives = [f"n{i}" for i in range(9)]
    negatives[4] = negatives[3]
    together = 0
    for seed in range(20):
        old = topic_batches(topics, 3, False, np.random.default_rng([seed, 0]))
        together += any({0, 1} <= set(b) or {3, 4} <= set(b) for b in old)
        sampler = _texts_sampler(anchors, topics, negatives, seed=seed)
        batches = list(sampler)
        assert sorted(i for b in batches for i in b) == list(range(9)), seed
        assert len(batches) == len(sampler) == num_topic_batches(topics, 3, False) == 3, seed
        assert all(_repeats(b, sampler) == 0 for b in batches), (seed, batches)
        assert all(len(set(topics[b])) == 1 for b in batches), (seed, batches)  # swapped within the cluster
    assert together >= 5  # the old batches often held one of the pairs


def test_a_clash_only_another_cluster_could_free_stays_in_a_single_cluster_batch():
    """Two clusters of one batch each: separating the sibling rows would mix the clusters, so they stay together."""
    topics = np.array([0] * 3 + [1] * 3)
    anchors = ["q0", "q0", "q2", "q3", "q4", "q5"]
    for seed in range(10):
        sampler = _texts_sampler(anchors, topics, seed=seed)
        batches = list(sampler)
        assert sorted(sorted(b) for b in batches) == [[0, 1, 2], [3, 4, 5]]
        assert sorted(_repeats(b, sampler) for b in batches) == [0, 1], (seed, batches)


def test_a_text_repeats_only_when_no_swap_frees_it_and_no_row_is_lost():
    """A query with 3 positives and 2 batches: one batch must hold two of its rows."""
    topics = np.zeros(6, dtype=np.int64)
    anchors = ["q0"] * 3 + ["q3", "q4", "q5"]
    for seed in range(10):
        sampler = _texts_sampler(anchors, topics, seed=seed)
        batches = list(sampler)
        assert sorted(i for b in batches for i in b) == list(range(6))
        assert sorted(_repeats(b, sampler) for b in batches) == [0, 1], (seed, batches)


def test_swapped_batches_keep_the_count_sizes_and_are_seeded_per_epoch():
    topics = np.array([0] * 9 + [1] * 6 + [2] * 5)
    anchors = [f"q{i // 2}" for i in range(20)]  # ten queries with two positives each
    for drop_last in (False, True):
        for seed in range(5):
            sampler = _texts_sampler(anchors, topics, seed=seed, drop_last=drop_last)
            batches = list(sampler)
            plain = topic_batches(topics, 3, drop_last, np.random.default_rng([seed, 0]))
            assert len(batches) == len(sampler) == num_topic_batches(topics, 3, drop_last)
            assert [len(b) for b in batches] == [len(b) for b in plain]
            assert sorted(i for b in batches for i in b) == sorted(i for b in plain for i in b)
            # every cluster's siblings can be separated within it; with drop_last the dropped rows are not candidates
            assert drop_last or all(_repeats(b, sampler) == 0 for b in batches), (seed, batches)
    a, b = _texts_sampler(anchors, topics), _texts_sampler(anchors, topics)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    b.set_epoch(1)
    assert list(a) == list(b) != first


def test_the_label_column_is_no_text():
    """Rows with equal labels (sentence-transformers' label column) do not clash: the batches are the plain ones."""
    topics = np.array([0] * 9 + [1] * 6 + [2] * 5)
    sampler = _texts_sampler([f"q{i}" for i in range(20)], topics, labels=[[i % 2] for i in range(20)])
    assert list(sampler) == topic_batches(topics, 3, False, np.random.default_rng([7, 0]))


def test_the_texts_compared_are_the_datasets_own_not_a_transforms():
    """Re-mining installs a transform before a resumed run builds its sampler: the batches must not change."""
    topics = np.zeros(6, dtype=np.int64)
    columns = {"anchor": [f"q{i}" for i in range(6)], "positive": [f"p{i}" for i in range(6)]}
    overlaid = Dataset.from_dict(columns)  # the transform gives rows 0 and 1 one query
    overlaid.set_transform(lambda batch: {**batch, "anchor": [a.replace("q1", "q0") for a in batch["anchor"]]})
    together = 0
    for seed in range(10):
        plain = list(TopicBatchSampler(Dataset.from_dict(columns), 3, False, seed=seed, topics=topics))
        together += any({0, 1} <= set(b) for b in plain)
        assert list(TopicBatchSampler(overlaid, 3, False, seed=seed, topics=topics)) == plain, seed
    assert together


def test_re_mined_negatives_given_for_the_epoch_are_compared_instead_of_the_files():
    """With re-mining, the sampler compares the negatives swapped in before the epoch's start (as the no-duplicates
    sampler does): a re-mined negative equal to a batch mate's positive is swapped apart, within the cluster."""
    topics = np.zeros(12, dtype=np.int64)
    columns = {"anchor": [f"q{i}" for i in range(12)], "positive": [f"p{i}" for i in range(12)],
               "negative_1": [f"n{i}" for i in range(12)]}
    dataset = Dataset.from_dict(columns)
    plain_together = new_together = 0
    for seed in range(10):
        plain = list(TopicBatchSampler(dataset, 3, False, seed=seed, topics=topics))
        assert list(TopicBatchSampler(dataset, 3, False, seed=seed, topics=topics, negatives={})) == plain
        remined = list(TopicBatchSampler(dataset, 3, False, seed=seed, topics=topics, negatives={0: ["p1"]}))
        assert sorted(r for b in remined for r in b) == list(range(12))
        plain_together += any({0, 1} <= set(b) for b in plain)
        new_together += any({0, 1} <= set(b) for b in remined)
    assert plain_together and not new_together


def _clashing_dataset():
    """64 rows in clusters of 21, 15, 13, 9 and 6: sibling rows share a query, and each row draws 2 of its cluster's
    6 negatives, so most batches repeat a text; at batch 8 the leftovers fill 3 batches mixing clusters."""
    topics = np.repeat(np.arange(5), [21, 15, 13, 9, 6])
    rng = np.random.default_rng(5)
    columns = {"anchor": [f"q{r // 2}" for r in range(64)], "positive": [f"p{r}" for r in range(64)]}
    for j in (1, 2):
        columns[f"negative_{j}"] = [f"n{topics[r]}_{rng.integers(0, 6)}" for r in range(64)]
    return Dataset.from_dict(columns), topics


def test_the_swaps_and_their_order_are_pinned():
    """The batches of 2 epochs, with the file's and with re-mined negatives, as the swap pass made them on 2026-12-07
    (15 + 12 freeing swaps, 12 + 9 of them between mixed batches, 5 + 7 lowering swaps): a faster pass must make the
    same swaps in the same order."""
    dataset, topics = _clashing_dataset()
    file_negatives = [
        [[14, 4, 45, 63, 46, 25, 29, 60], [30, 58, 62, 21, 7, 43, 19, 41], [52, 54, 51, 56, 49, 53, 57, 55],
         [17, 8, 9, 6, 3, 20, 15, 13], [36, 48, 37, 47, 40, 44, 39, 42], [23, 27, 32, 34, 24, 31, 33, 26],
         [12, 16, 1, 10, 2, 11, 18, 0], [38, 5, 35, 28, 61, 22, 59, 50]],
        [[38, 44, 58, 62, 22, 1, 21, 8], [61, 30, 24, 59, 46, 40, 57, 15], [60, 36, 20, 63, 2, 23, 27, 25],
         [11, 18, 9, 19, 7, 12, 5, 16], [14, 10, 4, 13, 0, 3, 17, 6], [49, 55, 50, 52, 54, 56, 51, 53],
         [28, 35, 29, 26, 32, 34, 33, 31], [48, 43, 45, 37, 41, 47, 39, 42]]]
    remined = [
        [[61, 59, 22, 6, 43, 25, 29, 41], [50, 63, 7, 21, 37, 19, 46, 38], [52, 54, 51, 56, 49, 53, 57, 55],
         [17, 8, 9, 16, 3, 20, 15, 13], [36, 48, 45, 47, 40, 44, 39, 42], [23, 27, 32, 34, 24, 28, 30, 26],
         [12, 5, 1, 10, 2, 11, 18, 0], [35, 33, 60, 31, 14, 62, 4, 58]],
        [[38, 57, 58, 62, 24, 60, 27, 1], [61, 30, 23, 59, 46, 8, 44, 36], [63, 15, 13, 40, 19, 25, 21, 22],
         [11, 18, 9, 2, 7, 12, 5, 16], [14, 10, 4, 20, 0, 3, 17, 6], [49, 55, 50, 52, 54, 56, 51, 53],
         [28, 35, 29, 26, 32, 34, 33, 31], [48, 43, 45, 37, 41, 47, 39, 42]]]
    for negatives, expected in ((None, file_negatives), ({r: ["p3", f"m{r % 4}"] for r in range(0, 64, 5)}, remined)):
        sampler = TopicBatchSampler(dataset, 8, False, seed=3, topics=topics, negatives=negatives)
        for epoch, batches in enumerate(expected):
            sampler.set_epoch(epoch)
            assert list(sampler) == batches, (negatives is not None, epoch)


def test_a_text_twice_in_one_row_is_no_clash():
    """A row whose negative is its own positive shares no text with a batch mate: the batches are the plain cut."""
    topics = np.zeros(6, dtype=np.int64)
    columns = {"anchor": [f"q{i}" for i in range(6)], "positive": [f"p{i}" for i in range(6)],
               "negative_1": [f"p{i}" for i in range(6)]}
    for seed in range(5):
        batches = list(TopicBatchSampler(Dataset.from_dict(columns), 3, False, seed=seed, topics=topics))
        assert batches == topic_batches(topics, 3, False, np.random.default_rng([seed, 0]))


def _re_mined_case():
    """18 rows in clusters of 7, 5 and 6 with sibling rows and shared negatives, and re-mined negatives of every shape:
    fewer than the file's columns (row 0: its negative_2 stays the file's), more (row 3: a negative_3 the file lacks),
    none (row 11), a batch mate's positive or query (rows 0, 3, 8, 13)."""
    topics = np.repeat(np.arange(3), [7, 5, 6])
    columns = {"anchor": [f"q{r // 2}" for r in range(18)], "positive": [f"p{r}" for r in range(18)],
               "negative_1": [f"n{topics[r]}_{r % 3}" for r in range(18)],
               "negative_2": [f"n{topics[r]}_{r % 4}" for r in range(18)], "label": [[r] for r in range(18)]}
    negatives = {0: ["p2"], 3: ["n0_1", "p5", "q1"], 8: ["p9", "n1_0"], 11: [], 13: ["q7", "p15"], 17: ["m"]}
    return Dataset.from_dict(columns), topics, negatives


def test_the_batches_with_re_mined_negatives_of_every_shape_are_pinned():
    """The batches of 2 seeds x 2 epochs as the sampler made them on 2026-12-07, when it read each re-mined row back
    from the dataset through the overlay and hashed all its texts: hashing the re-mined negatives alone must make the
    same batches."""
    dataset, topics, negatives = _re_mined_case()
    expected = {
        (0, 0): [[16, 13], [15, 14, 12, 17], [11, 8, 9, 7], [5, 0, 1, 10], [2, 4, 3, 6]],
        (0, 1): [[4, 2, 5, 11], [1, 3, 6, 0], [7, 8, 10, 9], [13, 16], [15, 17, 14, 12]],
        (1, 0): [[2, 6, 1, 9], [5, 0, 3, 4], [16, 14], [7, 10, 11, 8], [13, 12, 15, 17]],
        (1, 1): [[13, 16], [6, 1, 4, 2], [9, 8, 7, 11], [14, 12, 15, 17], [3, 0, 5, 10]]}
    for seed in (0, 1):
        sampler = TopicBatchSampler(dataset, 4, False, valid_label_columns=["label"], seed=seed, topics=topics,
                                    negatives=negatives)
        plain = list(TopicBatchSampler(dataset, 4, False, valid_label_columns=["label"], seed=seed, topics=topics))
        assert plain != expected[(seed, 0)]  # the re-mined negatives change the batches
        for epoch in (0, 1):
            sampler.set_epoch(epoch)
            assert list(sampler) == expected[(seed, epoch)], (seed, epoch)


def test_re_mined_values_are_the_hashes_of_the_rows_read_through_the_overlay():
    """Every row's hashes, in column order, as the overlaid dataset's rows give them (the no-duplicates sampler's
    view): the table itself, not only the batches, is what reading the re-mined rows back made."""
    dataset, topics, negatives = _re_mined_case()
    sampler = TopicBatchSampler(dataset, 4, False, valid_label_columns=["label"], topics=topics, negatives=negatives)
    rows = without_labels(dataset, ["label"])
    view = RowValues(RowsWithNegatives(rows, negatives))
    expected = RowValues(rows).read_all().with_rows({row: view.hashes(row) for row in negatives})
    assert np.array_equal(sampler._epoch_values().table, expected.table)
    assert sampler._epoch_values()[3] == {text_hash(t) for t in ("q1", "p3", "n0_1", "p5", "q1")}
    assert sampler._epoch_values()[0] == {text_hash(t) for t in ("q0", "p0", "p2", "n0_0")}


def test_re_mined_rows_are_not_read_back_from_the_dataset_each_epoch(monkeypatch):
    """Only the re-mined negatives change: their hashes are computed from ``negatives``, the query's and positive's
    taken from the table read at the first epoch; reading 200,000 re-mined rows back one by one took 12.4 s an
    epoch."""
    dataset, topics, negatives = _re_mined_case()
    sampler = TopicBatchSampler(dataset, 4, False, valid_label_columns=["label"], topics=topics, negatives=negatives)
    sampler._epoch_values()  # the first epoch reads the file's rows, a chunk at a time
    reads = []
    original = Dataset.__getitem__

    def counting(self, key):
        reads.append(key)
        return original(self, key)

    monkeypatch.setattr(Dataset, "__getitem__", counting)
    values = sampler._epoch_values()
    assert reads == []
    assert values[8] == {text_hash(t) for t in ("q4", "p8", "p9", "n1_0")}
