"""Per-document CPU work of ``negmine mine`` in one process vs in ``--workers`` processes.

Two stages are pure Python per document and run in worker processes since ``--workers`` (default: every
usable CPU), with output identical to one process:

- **near-duplicate signatures**: the default exclusion of near-copies of a positive needs a MinHash signature
  of every distinct document that enters a pool. One process: ``SignatureMemo.lookup`` (what the pool hook
  does as pools need them; still the path below ``PARALLEL_MIN`` documents). Workers:
  ``SignatureMemo.prefetch``, which ``negmine mine`` runs before walking the pairs, and the lookups after it
  (timed together: below ``PARALLEL_MIN`` the prefetch computes nothing and the lookups do it all).
- **BM25 tokenisation + index + search** (``--retriever bm25|hybrid``, ``--fallback hybrid``, ``negmine eval
  --model bm25``): ``bm25_index`` as ``bm25_layout`` lays it out for 1 vs N workers: chunks tokenised in
  workers (vocabularies merged in corpus order: :mod:`negmine.retrieve.bm25_tokenize`) and, from 100k
  documents, one shard per worker, built and searched in parallel; ``--queries`` claims retrieve their top 100.
- **BM25 search over one index** (a corpus below 100k documents, or a shard): the queries in chunks over
  ``N`` worker processes that fork from the process holding the index and share its memory
  (``BM25Retriever.search``; from ``PARALLEL_SEARCH_MIN`` queries x documents), here ``--index-queries``
  claims (cycled) over the first ``--index-docs`` abstracts.
- **sharded BM25 search** (a corpus above ``--bm25-shard-size``, default 1M documents): each shard's index is
  built and searched by one task; ``ShardedBM25.search`` with ``search_workers=1`` vs ``N`` (shards searched
  at once in local processes, at most what ``--memory-budget`` holds). Here the corpus is cut into
  ``--shards`` shards and ``--queries`` SciFact claims (cycled) retrieve their top 100.

The corpus is ``--docs`` SciFact abstracts (the corpus cycled, each copy made distinct by a number). Each
row checks that the workers' result equals the one-process result (signatures, sizes and exact shingle sets;
BM25 top-k ids and float32 scores).

    python benchmarks/cpu_workers.py [--docs 100000] [--workers N] [--shards 4] [--queries 2000]
                                     [--index-docs 50000] [--index-queries 20000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import changed_arguments, per_second, print_table, require_scifact, write_result  # noqa: E402


def corpus_texts(data_dir: Path, n: int) -> list[str]:
    base = []
    with open(data_dir / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            base.append(f"{doc.get('title', '')} {doc['text']}".strip())
    return [f"{base[i % len(base)]} copy {i // len(base)}" for i in range(n)]


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def stage_rows(stage: str, workers: int, one_s: float, many_s: float, per: int, identical: bool) -> list[list]:
    """The table's two rows of ``stage``: one process (``one_s`` seconds) and ``workers`` (``many_s``), each with
    its rate (``per`` items a second) and the second with its speed-up; a rate or speed-up of a timing that read
    0 s is "-" (a small run on a fast machine divided by it: ZeroDivisionError, no table)."""
    return [[stage, 1, round(one_s, 1), per_second(per, one_s, None), 1.0, "-"],
            [stage, workers, round(many_s, 1), per_second(per, many_s, None), per_second(one_s, many_s), identical]]


def same_signatures(a, b) -> bool:
    exact = all((x is None and y is None) or np.array_equal(x, y) for x, y in zip(a.exact, b.exact))
    return bool(np.array_equal(a.values, b.values) and np.array_equal(a.sizes, b.sizes) and exact)


def signatures_rows(texts: list[str], workers: int) -> list[list]:
    from negmine.audit.near_dup import SignatureMemo
    from negmine.config import NearDupConfig

    keys = list(range(len(texts)))
    one = SignatureMemo(NearDupConfig())
    reference, one_s = timed(lambda: one.lookup(keys, texts.__getitem__))
    many = SignatureMemo(NearDupConfig())
    # prefetch then lookup, as negmine mine runs them: below PARALLEL_MIN documents prefetch computes nothing and
    # the lookup does the work in this process, which timing prefetch alone left out of the row
    result, many_s = timed(lambda: (many.prefetch(keys, texts.__getitem__, workers),
                                    many.lookup(keys, texts.__getitem__))[1])
    identical = same_signatures(reference, result)
    return stage_rows("near-dup MinHash signatures", workers, one_s, many_s, len(texts), identical)


def bm25_rows(texts: list[str], workers: int, queries: list[str]) -> list[list]:
    """What ``negmine mine --retriever bm25`` does: tokenise, index, search (``bm25_layout`` decides whether the
    corpus is split into one shard per worker)."""
    from negmine.config import EngineConfig
    from negmine.engine.budget import bm25_layout
    from negmine.retrieve.bm25_sharded import bm25_index

    results = {}
    for n in (1, workers):
        layout = bm25_layout(EngineConfig(workers=n), 1_000_000, len(texts), len(queries), 100)

        def build_and_search():
            index = bm25_index(texts, layout.shard_size, workers=n, search_workers=layout.search_workers)
            return index.search(queries, depth=100)

        results[n] = timed(build_and_search)
    (a, one_s), (b, many_s) = results[1], results[workers]
    identical = bool(np.array_equal(a.indices, b.indices) and np.array_equal(a.scores, b.scores))
    stage = f"BM25 tokenise + index + search ({len(queries)} queries)"
    return stage_rows(stage, workers, one_s, many_s, len(texts), identical)


def search_rows(index, stage: str, workers: int, queries: list[str], per: int) -> list[list]:
    """``index.search`` with ``search_workers`` 1 vs ``workers``; rate = ``per`` items (docs or queries) / s."""
    results = {}
    for n in (1, workers):
        index.search_workers = n
        results[n] = timed(lambda: index.search(queries, depth=100))
    (a, one_s), (b, many_s) = results[1], results[workers]
    identical = bool(np.array_equal(a.indices, b.indices) and np.array_equal(a.scores, b.scores))
    return stage_rows(stage, workers, one_s, many_s, per, identical)


def one_index_search_rows(texts: list[str], workers: int, queries: list[str]) -> list[list]:
    from negmine.retrieve.bm25 import BM25Retriever

    index = BM25Retriever.from_texts(texts, workers=workers)
    stage = f"BM25 search, one index of {len(texts)} docs ({len(queries)} queries)"
    return search_rows(index, stage, workers, queries, per=len(queries))


def sharded_search_rows(texts: list[str], workers: int, shards: int, queries: list[str]) -> list[list]:
    from negmine.retrieve.bm25_sharded import ShardedBM25

    index = ShardedBM25.from_texts(texts, shard_size=-(-len(texts) // shards), workers=workers)
    stage = f"sharded BM25 search ({shards} shards, {len(queries)} queries)"
    return search_rows(index, stage, workers, queries, per=len(texts))


def claims(data_dir: Path, n: int) -> list[str]:
    with open(data_dir / "queries.jsonl", encoding="utf-8") as handle:
        base = [json.loads(line)["text"] for line in handle]
    return [base[i % len(base)] for i in range(n)]


def main() -> None:
    from negmine.config import EngineConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=EngineConfig().resolved_workers())
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--index-docs", type=int, default=50_000)
    parser.add_argument("--index-queries", type=int, default=20_000)
    args = parser.parse_args()
    data_dir = require_scifact()
    texts = corpus_texts(data_dir, args.docs)
    queries = claims(data_dir, args.queries)
    rows = (signatures_rows(texts, args.workers) + bm25_rows(texts, args.workers, queries)
            + one_index_search_rows(texts[:args.index_docs], args.workers, claims(data_dir, args.index_queries))
            + sharded_search_rows(texts, args.workers, args.shards, queries))
    words = float(np.mean([len(t.split()) for t in texts[:5000]]))
    print(f"{len(texts)} SciFact abstracts (~{words:.0f} words each)")
    headers = ["stage", "workers", "seconds", "docs/s (queries/s: one-index search)", "x one process", "identical"]
    print_table(headers, rows)
    write_result("cpu_workers", {"docs": len(texts), "mean_words": round(words, 1),
                                 "rows": [dict(zip(headers, row)) for row in rows]},
                 changed=changed_arguments(parser, args))


if __name__ == "__main__":
    main()
