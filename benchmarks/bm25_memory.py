"""Memory of BM25 retrieval: one bm25s index (tokens as lists, or streamed) vs negmine's sharded index.

Writes the synthetic corpus of ``corpus_memory.py`` (``--docs`` documents of ~350 characters), loads it with
``negmine.io.beir.read_corpus`` in a fresh subprocess per indexer, then builds a BM25 index (bm25s, Lucene
variant, English stopwords) and retrieves the top 10 of 20 queries. Reported: the build time, build plus
search time, how much anonymous resident memory the process holds after the build (``RssAnon`` growth over the
loaded corpus), the peak of that growth during build and search (sampled every 20 ms: heap and arrays, without
the pages of the memory-mapped corpus file that reading the texts maps in), the peak resident size of the
process (``ru_maxrss``, corpus pages and imports included) and its growth over the loaded corpus, and whether each indexer's top 10 (ids and
float32 scores) is identical to the first's. Indexers:

- ``bm25s.tokenize lists``: the texts as a list, ``bm25s.tokenize(..., return_ids=False)`` (one list of
  token strings per document), then ``BM25.index`` (how negmine built the index before);
- ``negmine BM25Retriever``: ``BM25Retriever.from_texts`` (bm25s' ``Tokenizer.streaming_tokenize`` into a
  flat int32 array, no copy of the texts); what ``--retriever bm25`` uses up to ``--bm25-shard-size`` documents;
- ``negmine ShardedBM25``: ``ShardedBM25.from_texts`` with shards of a quarter of the corpus (token ids on
  disk, one shard index in memory at a time, global statistics); what a larger corpus gets. Its "build" is the
  tokenisation pass: the shard indexes are built during the search.

    python benchmarks/bm25_memory.py [--docs 1000000]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_result  # noqa: E402
from corpus_memory import WORDS, _status_kb, measure_in_children  # noqa: E402

INDEXERS = ("bm25s.tokenize lists", "negmine BM25Retriever", "negmine ShardedBM25")
QUERIES = [" ".join(WORDS[np.random.default_rng(i).integers(0, len(WORDS), 6)]) for i in range(20)]


def _top10(scores_of):
    def search(queries):
        tops = []
        for query in queries:
            s = scores_of(query)
            top = np.lexsort((np.arange(len(s)), -s))[:10]
            tops.append((top.tolist(), s[top].tolist()))
        return tops

    return search


def _lists_index(texts):
    import bm25s

    texts = list(texts)
    model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    model.index(bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False), show_progress=False)

    def scores(query: str) -> np.ndarray:
        tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        return np.asarray(model.get_scores(tokens), dtype=np.float32)

    return model, _top10(scores)


def _negmine_index(texts):
    from negmine.retrieve.bm25 import BM25Retriever

    retriever = BM25Retriever.from_texts(texts)
    return retriever, _top10(retriever.query_scores)


def _sharded_index(texts):
    from negmine.retrieve.bm25_sharded import ShardedBM25

    retriever = ShardedBM25.from_texts(texts, shard_size=max(1, -(-len(texts) // 4)))

    def search(queries):
        found = retriever.search(queries, 10)
        return [(i[i >= 0].tolist(), s[i >= 0].tolist()) for i, s in zip(found.indices, found.scores)]

    return retriever, search


BUILDERS = dict(zip(INDEXERS, (_lists_index, _negmine_index, _sharded_index)))


class AnonPeak:
    """Highest ``RssAnon`` (anonymous resident memory: heap and arrays, not the memory-mapped corpus file) seen
    by a thread polling ``/proc/self/status`` every ``interval`` seconds while the ``with`` block runs."""

    def __init__(self, interval: float = 0.02) -> None:
        import threading

        self.interval, self.peak_kb = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _status_kb("RssAnon"))
            self._stop.wait(self.interval)

    def __enter__(self) -> "AnonPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, _status_kb("RssAnon"))


def child(path: Path, indexer: str) -> None:
    from negmine.io.beir import read_corpus

    corpus = read_corpus(path)
    for build in BUILDERS.values():  # imports and first-use allocations outside the measurement
        build(["warm up the bm25 libraries", "second document"])[1](["bm25"])
    anon0, rss0 = _status_kb("RssAnon"), _status_kb("VmRSS")
    start = time.perf_counter()
    with AnonPeak() as anon_peak:
        index, search = BUILDERS[indexer](corpus.texts)
        built = time.perf_counter() - start
        anon = _status_kb("RssAnon") - anon0
        top10 = search(QUERIES)
    print(json.dumps({
        "indexer": indexer, "docs": len(corpus.texts), "build_s": round(built, 1),
        "build_search_s": round(time.perf_counter() - start, 1), "rss_anon_mb": round(anon / 1024),
        "peak_anon_growth_mb": round((anon_peak.peak_kb - anon0) / 1024),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024),
        "top10": top10,
    }))
    del index


def same_top10(a: list, b: list) -> bool:
    """Same ids in the same order with the same float32 scores (bit for bit)."""
    return a == b


def main() -> None:
    measured = measure_in_children(__file__, __doc__, INDEXERS, child)
    if measured is None:
        return
    args, rows, _, changed = measured
    base = rows[0]
    print(f"{args.docs} documents, BM25 index build (bm25s, Lucene, English stopwords)")
    first = rows[0]["top10"]
    for r in rows:
        r["same_top10_as_first"] = same_top10(r["top10"], first)
    for r in rows:
        del r["top10"]
    print_table(["indexer", "build s", "build + search s", "+RssAnon MB after build", "peak +RssAnon MB",
                 "x lists", "peak growth MB (RSS)", "peak RSS MB", "top-10 = first row"],
                [[r["indexer"], r["build_s"], r["build_search_s"], r["rss_anon_mb"], r["peak_anon_growth_mb"],
                  round(r["peak_anon_growth_mb"] / base["peak_anon_growth_mb"], 2), r["peak_growth_mb"],
                  r["peak_rss_mb"], r["same_top10_as_first"]] for r in rows])
    write_result("bm25_memory", {"docs": args.docs, "shards_of_the_sharded_row": 4, "rows": rows,
                                 "same_top10": all(r["same_top10_as_first"] for r in rows)}, changed=changed)


if __name__ == "__main__":
    main()
