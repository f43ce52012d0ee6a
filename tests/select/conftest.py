import numpy as np
import pytest

from negmine.select.pool import Pool


def _make_pool(scores, positive_score=1.0, ranks=None, first_index=100):
    scores = np.asarray(scores, dtype=np.float32)
    ranks = np.arange(1, len(scores) + 1) if ranks is None else np.asarray(ranks)
    indices = np.arange(first_index, first_index + len(scores), dtype=np.int64)
    return Pool(indices, scores, ranks.astype(np.int64), float(positive_score))


@pytest.fixture
def make_pool():
    """Factory: make_pool(scores, positive_score=1.0, ranks=None) -> Pool with indices 100, 101, ..."""
    return _make_pool
