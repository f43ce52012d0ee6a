"""ANN recall and time against exact search, with and without breadth calibration (``--target-recall``).

One shard of synthetic clustered 384-d vectors (the generator of ``scale_synthetic.py``), searched through
``negmine.retrieve.ann.ann_search`` (the function every dense search shard calls) for each index at its fixed
start breadth and calibrated to the target, against exact FAISS search (``dense_search``) of the same queries.
Recall is tie-aware recall of the exact top ``--depth`` (``negmine.retrieve.ann.sample_recall``) over *all*
queries, not the calibration sample; seconds include building the index and the calibration.

    python benchmarks/ann_recall.py                              # 1M docs, 20,000 queries, depth 10
    python benchmarks/ann_recall.py --docs 200000 --queries 2000 --indexes hnsw --results-name ann_recall_hnsw
    python benchmarks/ann_recall.py --noise 0.5 --results-name ann_recall_clustered   # tighter clusters
    python benchmarks/ann_recall.py --parts                      # what a fallback to exact costs (ann_recall_parts)

Those four are the documented runs (DOCUMENTED); any other arguments write to results/scratch/ instead.

``--parts`` times the pieces of a calibration instead, each alone: the coarse quantiser's k-means and the
sample's exact search (all a shard that falls back to exact search pays before it), against a full build.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import changed_arguments, per_second, print_table, write_result  # noqa: E402
from scale_synthetic import SyntheticEmbedder  # noqa: E402

# results name -> the arguments of its documented run besides the defaults (README "Scale"); --results-name
# only names the file
DOCUMENTED = {
    "ann_recall_clustered": ["--noise", "0.5"],
    "ann_recall_hnsw": ["--docs", "200000", "--queries", "2000", "--indexes", "hnsw"],
    "ann_recall_parts": ["--parts"],
}
NEUTRAL = ("results_name",)


def vectors(n_docs: int, n_queries: int, noise: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    embedder = SyntheticEmbedder(n_docs, n_queries, noise=noise)
    docs = np.concatenate([embedder.docs(np.arange(i, min(n_docs, i + 100_000))) for i in range(0, n_docs, 100_000)])
    queries = embedder.encode([f"q{j}" for j in range(n_queries)])
    return queries, docs


def timed(fn):
    """``fn()`` and its wall seconds, unrounded: a search on a small shard can take under 5 ms."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def times_faster(exact_s: float, seconds: float) -> float | str:
    """How many times faster than the exact search; "-" when the clock saw no time pass."""
    return per_second(exact_s, seconds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--indexes", nargs="+", default=["ivf", "ivfpq"])
    parser.add_argument("--target-recall", type=float, default=0.9)
    parser.add_argument("--noise", type=float, default=1.2,
                        help="spread of documents around their cluster centre (scale_synthetic.py's is 1.2; smaller"
                             " is more clustered, easier for IVF)")
    parser.add_argument("--results-name", default="",
                        help="JSON name (default ann_recall, with --parts ann_recall_parts)")
    parser.add_argument("--parts", action="store_true", help="time the calibration's pieces alone (see above)")
    return parser


def main() -> None:
    from negmine.retrieve.ann import ann_search, sample_recall
    from negmine.retrieve.dense import dense_search

    parser = build_parser()
    args = parser.parse_args()
    args.results_name = args.results_name or ("ann_recall_parts" if args.parts else "ann_recall")
    changed = changed_arguments(parser, args, DOCUMENTED.get(args.results_name, ()), NEUTRAL)
    load_before = os.getloadavg()
    queries, docs = vectors(args.docs, args.queries, args.noise)
    if args.parts:
        return time_parts(args, queries, docs, load_before, changed)
    exact, exact_s = timed(lambda: dense_search(queries, docs, args.depth))
    rows = [["flat (exact)", "-", "-", "-", 1.0, round(exact_s, 3), 1.0]]
    for index in args.indexes:
        for target in (None, args.target_recall):
            found, seconds = timed(lambda: ann_search(queries, docs, args.depth, index, target_recall=target))
            recall = sample_recall(found.candidates.scores, exact.scores)
            rows.append([index, "-" if target is None else target, found.breadth, found.refine,
                         round(recall, 3), round(seconds, 3), times_faster(exact_s, seconds)])
            print(rows[-1], flush=True)
    headers = ["index", "target recall", "breadth (nprobe / efSearch)", "refine", "recall (all queries)",
               "seconds", "x exact"]
    table = print_table(headers, rows)
    write_result(args.results_name, {
        "docs": args.docs, "queries": args.queries, "depth": args.depth, "dim": docs.shape[1], "noise": args.noise,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "rows": [dict(zip(headers, r)) for r in rows], "table": table,
    }, changed=changed)


def time_parts(args, queries: np.ndarray, docs: np.ndarray, load_before, changed: list[str]) -> None:
    """Seconds of each piece of a calibration over the one shard, per index."""
    from negmine.retrieve.ann import CALIBRATION_QUERIES, build_index, coarse_centroids
    from negmine.retrieve.dense import dense_search

    sample = queries[np.linspace(0, len(queries) - 1, CALIBRATION_QUERIES).astype(np.int64)]
    _, sample_s = timed(lambda: dense_search(sample, docs, 2 * args.depth, len(docs)))
    rows = []
    for index in args.indexes:
        _, kmeans_s = timed(lambda: coarse_centroids(docs, index))
        _, build_s = timed(lambda: build_index(docs, index, 16))
        rows.append([index, round(kmeans_s, 3), round(sample_s, 3), round(kmeans_s + sample_s, 3), round(build_s, 3)])
        print(rows[-1], flush=True)
    headers = ["index", "coarse k-means s", "sample exact top-k s", "fallback to exact pays s", "full build s"]
    table = print_table(headers, rows)
    write_result(args.results_name, {
        "docs": args.docs, "depth": args.depth, "dim": docs.shape[1], "noise": args.noise,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "rows": [dict(zip(headers, r)) for r in rows], "table": table,
    }, changed=changed)


if __name__ == "__main__":
    main()
