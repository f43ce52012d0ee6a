"""Near-duplicate exclusion cost: MinHash signatures of the candidate documents, in process vs in workers.

``negmine mine`` excludes near-copies of each query's positives from its pool (on by default); the shingle
test needs a MinHash signature of every distinct document that enters a pool. This benchmark takes ``--docs``
SciFact abstracts (the corpus cycled, each copy made distinct by a number), then computes their signatures

- in process, through ``SignatureMemo.lookup`` (what the pool hook does when a pool needs them: the path
  before ``--workers`` existed, and the path below ``PARALLEL_MIN`` documents);
- with ``SignatureMemo.prefetch`` in ``--workers`` processes (what ``negmine mine`` does now before it walks
  the pairs, ``--workers`` defaulting to every usable CPU),

and checks that both give the same signatures, sizes and exact shingle sets.

    python benchmarks/near_dup_signatures.py [--docs 100000] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, require_scifact, write_result  # noqa: E402


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


def same(a, b) -> bool:
    exact = all((x is None and y is None) or np.array_equal(x, y) for x, y in zip(a.exact, b.exact))
    return bool(np.array_equal(a.values, b.values) and np.array_equal(a.sizes, b.sizes) and exact)


def main() -> None:
    from negmine.audit.near_dup import SignatureMemo
    from negmine.config import EngineConfig, NearDupConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=EngineConfig().resolved_workers())
    args = parser.parse_args()
    texts = corpus_texts(require_scifact(), args.docs)
    keys = list(range(len(texts)))
    config = NearDupConfig()
    one = SignatureMemo(config)
    reference, one_s = timed(lambda: one.lookup(keys, texts.__getitem__))
    many = SignatureMemo(config)
    _, many_s = timed(lambda: many.prefetch(keys, texts.__getitem__, args.workers))
    identical = same(reference, many.lookup(keys, texts.__getitem__))
    words = float(np.mean([len(t.split()) for t in texts[:5000]]))
    rows = [
        ["in process (SignatureMemo.lookup)", 1, round(one_s, 1), round(len(texts) / one_s), 1.0, "-"],
        ["worker processes (SignatureMemo.prefetch)", args.workers, round(many_s, 1), round(len(texts) / many_s),
         round(one_s / many_s, 2), identical],
    ]
    print(f"{len(texts)} SciFact abstracts (~{words:.0f} words each), MinHash {config.num_perm} permutations, "
          f"word {config.shingle}-shingles")
    headers = ["signatures", "workers", "seconds", "docs/s", "x in process", "identical"]
    print_table(headers, rows)
    write_result("near_dup_signatures", {
        "docs": len(texts), "mean_words": round(words, 1), "num_perm": config.num_perm,
        "rows": [dict(zip(headers, row)) for row in rows],
    })


if __name__ == "__main__":
    main()
