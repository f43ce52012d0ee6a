"""Consistency filtering of positives (CoRNStack, Suresh et al. 2024): keep a (query, positive) pair only if
the positive ranks near the top of its own query's candidates.

A labelled positive that the mining model ranks far down is either a noisy label or a pair the model cannot
yet represent; its positive-aware negatives then come from deep in the list (everything above scores too
close to the positive). ``max_positive_rank`` k drops such pairs. The positive's rank is
``1 + #{candidates c : s(q, c) > s(q, p)}``, counted on the pair's pool after exclusions (other positives
of the query, duplicate texts, near-duplicates, judged false negatives), so a sibling positive or a
false negative ranked above never counts against the pair. A positive outscored by every retrieved
candidate gets ``len(pool) + 1``, i.e. it is beyond the candidate depth.
"""

from __future__ import annotations

import numpy as np

from negmine.select.pool import Pool


def positive_rank(pool: Pool) -> int:
    """1-based rank of the pair's positive among its pool (ties with the positive rank below it)."""
    scores = pool.scores.astype(np.float64, copy=False)
    return 1 + int(np.count_nonzero(scores > float(pool.positive_score)))


def is_consistent(pool: Pool, max_positive_rank: int | None) -> bool:
    """True when no limit is set or the positive ranks within the top ``max_positive_rank``."""
    return max_positive_rank is None or positive_rank(pool) <= max_positive_rank
