import numpy as np
import pytest
from datasets import Dataset

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

