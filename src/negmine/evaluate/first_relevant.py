"""Where a run ranks each query's relevant documents: the rank of the first one, and how deep the run ranks.

The per-query table of ``negmine report`` on eval results lists, for the queries whose delta is largest, their
relevant documents and each run's rank of the first of them ("not in top N" when none is among the N it ranks):
a score alone (nDCG@10 0.3869 against 0) does not say whether a model put the relevant document at rank 2 or
ranked it past 100. Ranks follow the run's one order (score descending, ties by doc id descending, as trec_eval),
after dropping documents whose id is the query id, as every metric does; relevant is a judgment above 0, as for
the metrics.
"""

from __future__ import annotations

from typing import Sequence

from negmine.evaluate.run import Run
from negmine.io.records import Qrels


def relevant_ids(qrels: Qrels, query_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each query's relevant documents (judgment > 0), highest grade first, then by doc id."""
    return {q: tuple(sorted(qrels.positives(q), key=lambda d: (-qrels.judgments[q][d], d))) for q in query_ids}


def first_relevant_ranks(qrels: Qrels, run: Run, query_ids: Sequence[str]) -> tuple[tuple[int | None, ...],
                                                                                   tuple[int, ...]]:
    """Per query of ``query_ids`` (in that order): the 1-based rank of its first relevant document in ``run`` (None
    when the run ranks none of them), and how many documents the run ranks for it (0: none). ``run`` as the
    metrics read it (:meth:`Run.without_identical_ids` already applied when they drop identical ids)."""
    ranks: list[int | None] = []
    depths: list[int] = []
    for query_id in query_ids:
        ranked = run.ranked(query_id)
        wanted = set(qrels.positives(query_id))
        ranks.append(next((i for i, doc_id in enumerate(ranked, start=1) if doc_id in wanted), None))
        depths.append(len(ranked))
    return tuple(ranks), tuple(depths)
