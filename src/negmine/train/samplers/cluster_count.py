"""How many topic clusters TAS-B batching makes by default, in a module of its own so that the training preflight
(:func:`negmine.train.preflight.refuse_topic_clusters_beyond_queries`) can name it without importing the sampler's
sentence-transformers base class."""

from __future__ import annotations


def default_num_clusters(num_queries: int, batch_size: int) -> int:
    """About two batches' worth of queries per cluster (TAS-B: 2,000 clusters for ~400k queries)."""
    return max(1, num_queries // (2 * batch_size))
