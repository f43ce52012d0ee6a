"""TAS-B topic-aware batching (Hofstätter et al. 2021, "Efficiently Teaching an Effective Dense
Retriever with Balanced Topic Aware Sampling").

Queries are clustered by embedding with k-means (faiss); each batch is filled from one cluster, so
in-batch negatives share the query's topic and are harder than random ones. Per epoch every row is
used exactly once: each cluster is shuffled and cut into full batches, the clusters' leftover rows
(fewer than a batch) are chained in cluster order and cut into the remaining batches, and the batch
order is shuffled. Everything is seeded by ``(seed, epoch)``.

The sampler then keeps no-duplicates batching's guarantee as far as topic purity allows: rows of a batch sharing a
text (a multi-positive query's sibling rows, which share a cluster; rows sharing a mined negative) are separated by
swapping rows between batches, within the cluster, or between batches that mix clusters already, never at the cost
of a single-cluster batch (:mod:`negmine.train.samplers.clash_swaps`); the batch count (:func:`num_topic_batches`),
the batch sizes and the determinism stay.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from sentence_transformers.base.sampler import DefaultBatchSampler

from negmine.train.samplers.clash_swaps import swap_clashing_rows
from negmine.train.samplers.row_texts import RowValues, Values, without_labels


def kmeans_topics(
    embeddings: np.ndarray, n_clusters: int, seed: int, niter: int = 20, nredo: int = 5
) -> np.ndarray:
    """Spherical k-means cluster id per row of L2-normalised ``embeddings`` (faiss.Kmeans, seeded).

    ``nredo`` restarts keep the best objective, so a bad random initialisation does not merge topics.
    """
    import faiss

    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    k = max(1, min(n_clusters, len(x)))
    kmeans = faiss.Kmeans(x.shape[1], k, niter=niter, nredo=nredo, seed=seed, spherical=True, verbose=False,
                          min_points_per_centroid=1)
    kmeans.train(x)
    _, assign = kmeans.index.search(x, 1)
    return assign[:, 0].astype(np.int64)


def topic_batches(topics: np.ndarray, batch_size: int, drop_last: bool, rng: np.random.Generator) -> list[list[int]]:
    """One epoch of batches: full batches from single clusters, then the pooled leftovers."""
    batches: list[list[int]] = []
    leftovers: list[int] = []
    for cluster in np.unique(topics):
        members = rng.permutation(np.flatnonzero(topics == cluster))
        n_full = len(members) // batch_size * batch_size
        batches.extend(members[i : i + batch_size].tolist() for i in range(0, n_full, batch_size))
        leftovers.extend(members[n_full:].tolist())
    for i in range(0, len(leftovers), batch_size):
        chunk = leftovers[i : i + batch_size]
        if len(chunk) == batch_size or not drop_last:
            batches.append(chunk)
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def num_topic_batches(topics: np.ndarray, batch_size: int, drop_last: bool) -> int:
    """The exact number of batches :func:`topic_batches` yields (for the LR schedule)."""
    sizes = np.unique(topics, return_counts=True)[1]
    full = int((sizes // batch_size).sum())
    rest = int((sizes % batch_size).sum())
    return full + rest // batch_size + int(rest % batch_size > 0 and not drop_last)


class TopicBatchSampler(DefaultBatchSampler):
    """sentence-transformers batch sampler drawing each batch from one query cluster (``topics[row]``), with fewer
    texts repeated in a batch: rows sharing one are swapped apart where purity allows."""

    def __init__(self, dataset, batch_size: int, drop_last: bool, valid_label_columns: list[str] | None = None,
                 generator=None, seed: int = 0, *, topics: Sequence[int],
                 negatives: Mapping[int, Sequence[str]] | None = None) -> None:
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        self.topics = np.asarray(topics, dtype=np.int64)
        if len(self.topics) != len(dataset):
            raise ValueError(f"{len(self.topics)} topic ids for a dataset of {len(dataset)} rows")
        # the file's texts, as the run began: not a transform's (re-mining's overlay, installed before a resumed run)
        self.dataset = without_labels(dataset, valid_label_columns).with_format(None)
        self._values: RowValues | None = None  # every row's texts' hashes, read at the first epoch
        self.negatives = negatives  # re-mined negatives swapped in before the epoch's start, compared instead

    def __iter__(self):
        rng = np.random.default_rng([int(self.seed), int(self.epoch)])
        batches = topic_batches(self.topics, self.batch_size, self.drop_last, rng)
        swap_clashing_rows(batches, self._epoch_values(), self.topics)
        yield from batches

    def _epoch_values(self) -> Values:
        """Every row's texts (their hashes) as the epoch starts: the file's, with ``negatives``' rows' negatives
        swapped in (only those are hashed: the rows' other texts are the file's, hashed at the first epoch)."""
        if self._values is None:
            self._values = RowValues(self.dataset).read_all()
        if not self.negatives:
            return self._values
        return self._values.with_negatives(self.negatives)

    def __len__(self) -> int:
        return num_topic_batches(self.topics, self.batch_size, self.drop_last)
