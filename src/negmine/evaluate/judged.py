"""judged@k: how much of the top of a ranking the qrels say anything about.

For query q with ranking r_1, r_2, ... and judged set J_q (every doc with a qrels row for q, whatever
its score)::

    judged@k(q) = |{r_i : i <= k, r_i in J_q}| / min(k, |r|)      (0 when nothing was retrieved)

as in ir_measures' ``Judged@k`` (after OpenNIR; MacAvaney et al., SIGIR 2020). Low judged@k means
the metric values rest on unjudged documents counted as non-relevant: the partial-annotation
situation in which a "hard negative" is often an unlabelled positive.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from negmine.evaluate.run import Run
from negmine.io.records import Qrels


def judged_at_k(qrels: Qrels, run: Run, k: int, query_ids: Sequence[str]) -> np.ndarray:
    """Per-query judged@k for ``query_ids`` (in that order) as a float64 array."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    out = np.zeros(len(query_ids), dtype=np.float64)
    for i, query_id in enumerate(query_ids):
        top = run.ranked(query_id)[:k]
        if top:
            judged = qrels.judgments.get(query_id, {})
            out[i] = sum(doc_id in judged for doc_id in top) / len(top)
    return out
