"""Score a run against qrels with ranx, following BEIR's evaluation conventions.

- Evaluated queries: those of the qrels split with at least one relevant judgment (score > 0), in
  id order (:func:`evaluated_query_ids`), whatever the order of the qrels rows. trec_eval, pytrec_eval (used by
  BEIR) and ranx do not skip them: they evaluate every qrels query the run has, and one whose judgments are all 0
  (or negative) scores 0 and lowers their mean. SciFact's splits hold no such query; where qrels do, the means here
  are those over the queries that can score, higher than trec_eval's.
- A qrels query the run retrieved nothing for scores 0 on every metric (trec_eval ``-c``).
- Run entries for queries outside the split are ignored.
- A document whose id equals the query id is dropped before ranking (BEIR ``ignore_identical_ids``).
- Ranking: score descending, tied scores by doc id descending, as trec_eval (:class:`Run`); every metric,
  judged@k included, and the ranks of written run files follow that one order.
- Relevance: score >= 1; nDCG uses linear gain (Järvelin & Kekäläinen 2002), as trec_eval's
  ``ndcg_cut``; MRR@k = 1/rank of the first relevant document within k; Recall@k = relevant in top k /
  all relevant; MAP = mean over relevant documents of precision at their ranks; bpref as trec_eval
  (:mod:`negmine.evaluate.bpref`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from negmine.config import parse_metric
from negmine.errors import InputError
from negmine.evaluate.bpref import bpref
from negmine.evaluate.first_relevant import first_relevant_ranks
from negmine.evaluate.judged import judged_at_k
from negmine.evaluate.run import Run
from negmine.io.records import Qrels

DEFAULT_METRICS = ("ndcg@10", "mrr@10", "recall@100", "map")
OWN_METRICS = ("judged", "bpref")
"""Computed here, not by ranx: judged@k has no ranx counterpart, and ranx's bpref is NaN for a query without a
judged non-relevant document (:mod:`negmine.evaluate.bpref`)."""


@dataclass(frozen=True)
class EvalResult:
    """Mean and per-query scores of one run. ``per_query[m][i]`` belongs to ``query_ids[i]``."""

    name: str
    metrics: tuple[str, ...]
    query_ids: tuple[str, ...]
    mean: dict[str, float]
    per_query: dict[str, np.ndarray]
    first_relevant: tuple[int | None, ...] | None = None
    """Per query, the rank of its first relevant document in the run (None: not ranked); None when not recorded
    (:mod:`negmine.evaluate.first_relevant`)."""
    depths: tuple[int, ...] | None = None
    """Per query, how many documents the run ranks; None when not recorded."""

    def query_scores(self, metric: str) -> dict[str, float]:
        return {q: float(v) for q, v in zip(self.query_ids, self.per_query[metric])}

    def to_dict(self, per_query: bool = True) -> dict:
        out: dict = {"name": self.name, "n_queries": len(self.query_ids), "mean": dict(self.mean)}
        if per_query:
            out["per_query"] = {m: self.query_scores(m) for m in self.metrics}
            if self.first_relevant is not None and self.depths is not None:
                out["first_relevant_rank"] = dict(zip(self.query_ids, self.first_relevant))
                out["documents_ranked"] = dict(zip(self.query_ids, self.depths))
        return out


def require_relevant(qrels: Qrels) -> None:
    """InputError when no query of ``qrels`` has a relevant judgment (there is nothing to evaluate)."""
    if not qrels.query_ids():
        raise InputError(qrels.source, None, "score", "no query has a relevant judgment (score > 0); nothing to evaluate")


BURGES_METRICS = ("ndcg_burges", "dcg_burges")
MAX_BURGES_GRADE = 100
"""Largest relevance grade the ``*_burges`` metrics accept. Their gain is ``2**grade`` in a float: at 1024 it
overflows (a query's ndcg_burges is nan, its dcg_burges inf), at 1023 from the third such document on; at 1000
the t-test squares dcg_burges values and gave p = 1.0 and an infinite confidence interval. 100 is far above any
graded scale in use (BEIR's 0-2, TREC's 0-4) and keeps every value, squared and summed over queries, in range."""


def check_burges_grades(qrels: Qrels, metrics: Sequence[str]) -> None:
    """InputError naming the qrels line of the first grade above :data:`MAX_BURGES_GRADE` when a ``*_burges``
    metric is asked for (the other metrics take any 64-bit grade); checked before any model loads."""
    asked = next((m for m in metrics if parse_metric(m)[0] in BURGES_METRICS), None)
    if asked is None:
        return
    judged = ((q, d, s) for q, docs in qrels.judgments.items() for d, s in docs.items())
    found = next(((q, d, s) for q, d, s in judged if s > MAX_BURGES_GRADE), None)
    if found is None:
        return
    query_id, doc_id, grade = found
    raise InputError(
        qrels.source, _qrels_line(qrels.source, query_id, doc_id), "score",
        f"relevance grade {grade} (query {query_id!r}, document {doc_id!r}) is above {MAX_BURGES_GRADE}, the largest "
        f"metric {asked!r} takes: its gain 2**grade leaves a float's range (nan or inf scores); use ndcg or dcg "
        f"(linear gain, any grade) or map the grades to 0-{MAX_BURGES_GRADE}",
    )


def _qrels_line(source: str, query_id: str, doc_id: str) -> int | None:
    """The line of the qrels file ``source`` judging ``doc_id`` for ``query_id`` (None if not a file)."""
    from negmine.io.beir import iter_qrels

    if not Path(source).is_file():
        return None
    return next((line for line, q, d, _ in iter_qrels(source) if (q, d) == (query_id, doc_id)), None)


def evaluated_query_ids(qrels: Qrels) -> list[str]:
    """The queries of ``qrels`` with a relevant judgment, sorted by id: the order of every per-query array,
    results entry and run file of an evaluation.

    In qrels order, a shuffled qrels file changed the last digits of means, deltas, confidence intervals and
    p-values (float sums and the bootstrap's draws follow the order) and the order of the run files' rows.
    """
    return sorted(qrels.query_ids())


def evaluate_run(
    qrels: Qrels,
    run: Run,
    metrics: Sequence[str] = DEFAULT_METRICS,
    ignore_identical_ids: bool = True,
) -> EvalResult:
    """Mean and per-query ``metrics`` of ``run`` on ``qrels`` (see the module docstring for conventions).

    ``metrics`` are ranx names (``ndcg@10``, ``mrr@10``, ``recall@100``, ``map``, ...) plus
    ``judged@k``. Unknown names raise ConfigError listing the allowed ones.
    """
    metrics = tuple(metrics)
    parsed = [parse_metric(m) for m in metrics]
    require_relevant(qrels)
    check_burges_grades(qrels, metrics)
    query_ids = evaluated_query_ids(qrels)
    if ignore_identical_ids:
        run = run.without_identical_ids()
    ranx_metrics = [m for m, (base, _) in zip(metrics, parsed) if base not in OWN_METRICS]
    per_query = _ranx_scores(qrels, run, query_ids, ranx_metrics) if ranx_metrics else {}
    for metric, (base, cutoff) in zip(metrics, parsed):
        if base == "judged":
            per_query[metric] = judged_at_k(qrels, run, int(cutoff), query_ids)
        elif base == "bpref":
            per_query[metric] = bpref(qrels, run, query_ids)
    ordered = {m: per_query[m] for m in metrics}
    mean = {m: float(np.mean(v)) for m, v in ordered.items()}
    return EvalResult(run.name, metrics, tuple(query_ids), mean, ordered, *first_relevant_ranks(qrels, run, query_ids))


def _ranx_scores(qrels: Qrels, run: Run, query_ids: list[str], metrics: list[str]) -> dict[str, np.ndarray]:
    """Per-query ranx scores aligned with ``query_ids`` (ranx itself orders queries by id)."""
    import ranx

    ranx_qrels = ranx.Qrels({q: dict(qrels.judgments[q]) for q in query_ids})
    # ranx re-sorts by score with an unstable sort, so tied documents would land in any order: hand it the
    # run's own ranking (ties by doc id, as trec_eval) as strictly decreasing scores instead
    retrieved = {q: _rank_scores(run.ranked(q)) for q in query_ids if run.scores.get(q)}
    ranx_run = ranx.Run(retrieved) if retrieved else ranx.Run()
    ranx_run.make_comparable(ranx_qrels)
    # ranx 0.3.21 returns per-query scores of a single metric under a clobbered key (KeyError); asking
    # for it twice keeps the dict return path, which deduplicates by name.
    asked = metrics * 2 if len(metrics) == 1 else metrics
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba type-safety chatter from ranx internals
        scores = ranx.evaluate(ranx_qrels, ranx_run, asked, return_mean=False, save_results_in_run=False)
    position = {q: i for i, q in enumerate(ranx_qrels.get_query_ids())}
    order = np.array([position[q] for q in query_ids], dtype=np.int64)
    return {m: np.asarray(scores[m], dtype=np.float64)[order] for m in metrics}


def _rank_scores(ranked: list[str]) -> dict[str, float]:
    """``n, n-1, ..., 1`` for the ``n`` documents best first: the ranking without ties."""
    return {doc_id: float(len(ranked) - i) for i, doc_id in enumerate(ranked)}
