"""Default-on mining exclusion: drop near-duplicates of the query's positives from each pool.

Cheap: cosines come from the document embeddings retrieval already computed (no encoding), centred on
their mean (one pass over the matrix); MinHash signatures are computed once per corpus row that ever
enters a pool. Runs as a pool hook between the
exclusions (exact duplicates) and the positive-aware filters; every removed candidate is counted under
:data:`REMOVED_KEY` in the run's ``removed`` counter.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from negmine.audit.near_dup import SignatureMemo, mean_vector, near_duplicates
from negmine.config import NearDupConfig
from negmine.io.records import Dataset, Pair
from negmine.select.exclude import positives_by_query_text
from negmine.select.pool import Pool

MEMO_ENTRIES = 200_000
"""MinHash signatures a mining run keeps (~1 KB each): :func:`negmine.pipeline.mine.mine` prefetches them for
windows of pairs whose pools hold at most this many rows, and the memo empties itself past it."""
REMOVED_KEY = "near_duplicate_of_positive"


class NearDuplicateHook:
    """``hook(pair, pool) -> pool`` without the candidates that near-duplicate any positive of the query (or of
    a query with the same text, as the exact exclusions)."""

    def __init__(self, config: NearDupConfig, dataset: Dataset, doc_vectors: np.ndarray | None, removed: Counter,
                 positives: dict[str, list[int]] | None = None) -> None:
        self.config = config
        self.dataset = dataset
        self.doc_vectors = doc_vectors
        self.removed = removed
        self.memo = SignatureMemo(config, MEMO_ENTRIES)
        use_cosine = doc_vectors is not None and config.cosine is not None
        self.mean = mean_vector(doc_vectors) if use_cosine else None
        # the dataset's positives_by_query_text: the caller's (mining computes it once), else built at the first pair
        self._positives: dict[str, list[int]] | None = positives

    def positive_rows(self, query_id: str) -> np.ndarray:
        """Corpus rows of every positive of the query and of the queries with the same text (its text twins)."""
        if self._positives is None:
            self._positives = positives_by_query_text(self.dataset)
        return np.asarray(self._positives[query_id], dtype=np.int64)

    def prefetch(self, rows: np.ndarray, workers: int, show_progress: bool = False) -> int:
        """MinHash signatures of the corpus ``rows`` pools will hold, computed up front in ``workers``
        processes (see :meth:`SignatureMemo.prefetch`); returns how many were computed."""
        if self.config.overlap is None:
            return 0
        return self.memo.prefetch(rows.tolist(), self.dataset.corpus.texts.__getitem__, workers, show_progress)

    def __call__(self, pair: Pair, pool: Pool) -> Pool:
        if len(pool) == 0:
            return pool
        flags = self.flags(self.positive_rows(pair.query_id), pool.indices)
        self.removed[REMOVED_KEY] += int(flags.sum())
        return pool.take(np.flatnonzero(~flags))

    def flags(self, positive_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
        vecs = sigs = None
        if self.doc_vectors is not None and self.config.cosine is not None:
            vecs = (self.doc_vectors[rows], self.doc_vectors[positive_rows])
        if self.config.overlap is not None:
            text_of = self.dataset.corpus.texts.__getitem__
            sigs = (self.memo.lookup(rows.tolist(), text_of), self.memo.lookup(positive_rows.tolist(), text_of, True))
        return near_duplicates(self.config, len(rows), vecs, sigs, self.mean).flags
