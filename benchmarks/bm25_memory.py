"""Memory of a BM25 index build: negmine's streamed tokenisation vs tokenising the whole corpus in memory.

Writes the synthetic corpus of ``corpus_memory.py`` (``--docs`` documents of ~350 characters), loads it with
``negmine.io.beir.read_corpus`` in a fresh subprocess per indexer, then builds a BM25 index (bm25s, Lucene
variant, English stopwords) and reports build time, how much anonymous resident memory the process holds
after the build (``RssAnon`` growth over the loaded corpus), the peak resident size of the process
(``ru_maxrss``, corpus and imports included) and its growth over the loaded corpus (the build's own peak), and a digest of the top-10 of 20 queries (equal digests: the
same ranking and scores). Indexers:

- ``bm25s.tokenize lists``: the texts as a list, ``bm25s.tokenize(..., return_ids=False)`` (one list of
  token strings per document), then ``BM25.index`` (how negmine built the index before);
- ``negmine BM25Retriever``: ``BM25Retriever.from_texts`` (bm25s' ``Tokenizer.streaming_tokenize`` into a
  flat int32 array, no copy of the texts).

    python benchmarks/bm25_memory.py [--docs 1000000]
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_result  # noqa: E402
from corpus_memory import WORDS, _status_kb, measure_in_children  # noqa: E402

INDEXERS = ("bm25s.tokenize lists", "negmine BM25Retriever")
QUERIES = [" ".join(WORDS[np.random.default_rng(i).integers(0, len(WORDS), 6)]) for i in range(20)]


def _lists_index(texts):
    import bm25s

    texts = list(texts)
    model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    model.index(bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False), show_progress=False)

    def scores(query: str) -> np.ndarray:
        tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        return np.asarray(model.get_scores(tokens), dtype=np.float32)

    return model, scores


def _negmine_index(texts):
    from negmine.retrieve.bm25 import BM25Retriever

    retriever = BM25Retriever.from_texts(texts)
    return retriever, retriever.query_scores


def child(path: Path, indexer: str) -> None:
    from negmine.io.beir import read_corpus

    corpus = read_corpus(path)
    for build in (_lists_index, _negmine_index):  # imports and first-use allocations outside the measurement
        build(["warm up the bm25 libraries", "second document"])
    anon0, rss0 = _status_kb("RssAnon"), _status_kb("VmRSS")
    start = time.perf_counter()
    index, scores = (_lists_index if indexer == INDEXERS[0] else _negmine_index)(corpus.texts)
    seconds = time.perf_counter() - start
    digest = hashlib.sha256()
    for query in QUERIES:
        s = scores(query)
        top = np.lexsort((np.arange(len(s)), -s))[:10]
        digest.update(top.tobytes() + s[top].tobytes())
    print(json.dumps({
        "indexer": indexer, "docs": len(corpus.texts), "build_s": round(seconds, 1),
        "rss_anon_mb": round((_status_kb("RssAnon") - anon0) / 1024),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024),
        "top10_digest": digest.hexdigest()[:16],
    }))
    del index


def main() -> None:
    measured = measure_in_children(__file__, __doc__, INDEXERS, child)
    if measured is None:
        return
    args, rows, _ = measured
    base = rows[0]
    print(f"{args.docs} documents, BM25 index build (bm25s, Lucene, English stopwords)")
    print_table(["indexer", "build s", "+RssAnon MB after", "peak growth MB", "x lists", "peak RSS MB",
                 "top-10 digest"],
                [[r["indexer"], r["build_s"], r["rss_anon_mb"], r["peak_growth_mb"],
                  round(r["peak_growth_mb"] / base["peak_growth_mb"], 2), r["peak_rss_mb"], r["top10_digest"]]
                 for r in rows])
    write_result("bm25_memory", {"docs": args.docs, "rows": rows,
                                 "same_top10": len({r["top10_digest"] for r in rows}) == 1})


if __name__ == "__main__":
    main()
