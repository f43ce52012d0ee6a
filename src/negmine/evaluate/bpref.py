"""bpref (Buckley & Voorhees, SIGIR 2004), computed as trec_eval computes it (``m_bpref.c``).

For query q with R judged relevant documents (score >= 1) and N judged non-relevant ones (score 0), walking
its ranking and skipping documents without a judgment (and those judged with a negative score, which
trec_eval reads as "in the pool, not judged")::

    bpref(q) = 1/R * sum over retrieved relevant r of (1 - min(n_r, R) / min(N, R))

where n_r is the number of judged non-relevant documents ranked above r; a relevant document with none above
it counts 1. ranx divides by min(N, R) also when N = 0, so every query without a judged non-relevant document
(every query of most BEIR sets, whose qrels list relevant documents only) scored NaN; trec_eval's special case
gives such a query the share of its relevant documents the run retrieved.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from negmine.evaluate.run import Run
from negmine.io.records import Qrels


def bpref(qrels: Qrels, run: Run, query_ids: Sequence[str]) -> np.ndarray:
    """Per-query bpref for ``query_ids`` (in that order) as a float64 array; 0 for a query without a relevant
    judgment or without a retrieved document."""
    out = np.zeros(len(query_ids), dtype=np.float64)
    for i, query_id in enumerate(query_ids):
        judged = qrels.judgments.get(query_id, {})
        n_rel = sum(score >= 1 for score in judged.values())
        n_nonrel = sum(score == 0 for score in judged.values())
        if not n_rel:
            continue
        total, nonrel_above = 0.0, 0
        for doc_id in run.ranked(query_id):
            score = judged.get(doc_id)
            if score is None or score < 0:
                continue
            if score == 0:
                nonrel_above += 1
            elif nonrel_above:
                total += 1.0 - min(nonrel_above, n_rel) / min(n_nonrel, n_rel)
            else:
                total += 1.0
        out[i] = total / n_rel
    return out
