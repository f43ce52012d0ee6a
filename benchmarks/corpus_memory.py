"""Memory of a loaded corpus: negmine's Arrow text column vs the same texts as Python lists.

Writes a synthetic BEIR ``corpus.jsonl`` (``--docs`` documents of ~350 characters, MS MARCO's passage
length, deterministic), then loads it in a fresh subprocess per loader and reports load time and how much the
process grew while loading: anonymous resident memory (``RssAnon``: what the kernel cannot drop under
pressure) and file-backed resident memory (``RssFile``: mapped pages it can drop and re-read); and the
peak resident size (``ru_maxrss``, imports included). Loaders:

- ``python lists``: ids and texts as ``list[str]`` plus a ``dict`` id -> row (how negmine held a corpus
  before; also what most scripts do, minus BEIR ``GenericDataLoader``'s per-document dicts);
- ``negmine read_corpus``: ``negmine.io.beir.read_corpus`` (texts spill to a memory-mapped Arrow file past
  ``SPILL_BYTES``);
- ``negmine, no spill``: the same reader with spilling switched off (Arrow strings in process memory).

Every loader then reads every text once (a full pass, as encoding does) before the measurement.

    python benchmarks/corpus_memory.py [--docs 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import changed_arguments, print_table, write_result  # noqa: E402

WORDS = np.array("the of a protein cell gene in patients with increased risk expression study effect".split())
LOADERS = ("python lists", "negmine read_corpus", "negmine, no spill")


def write_corpus(path: Path, n_docs: int) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as out:
        for i in range(n_docs):
            words = WORDS[rng.integers(0, len(WORDS), 55)]
            out.write(json.dumps({"_id": f"doc{i}", "title": f"Title {i}", "text": " ".join(words)}) + "\n")


def _python_lists(path: Path):
    ids, texts = [], []
    with path.open() as handle:
        for line in handle:
            row = json.loads(line)
            ids.append(row["_id"])
            texts.append(f"{row['title']} {row['text']}".strip())
    return ids, texts


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(path: Path, loader: str) -> None:
    """Load with ``loader``, touch every text, print a JSON line of measurements (memory as growth over
    the process after its imports, so library import costs do not count)."""
    from negmine.io import text_column
    from negmine.io.beir import read_corpus

    text_column.TextColumn.from_texts(["warm up pyarrow"])
    anon0, file0 = _status_kb("RssAnon"), _status_kb("RssFile")
    start = time.perf_counter()
    if loader == "python lists":
        ids, texts = _python_lists(path)
        corpus = SimpleNamespace(ids=ids, texts=texts, index={i: row for row, i in enumerate(ids)})
    else:
        if loader == "negmine, no spill":
            text_column.SPILL_BYTES = None
        corpus = read_corpus(path)
    seconds = time.perf_counter() - start
    chars = sum(len(t) for t in corpus.texts)  # one full pass over the texts, as encoding makes
    print(json.dumps({
        "loader": loader, "docs": len(corpus.ids), "chars": chars, "load_s": round(seconds, 1),
        "rss_anon_mb": round((_status_kb("RssAnon") - anon0) / 1024),
        "rss_file_mb": round((_status_kb("RssFile") - file0) / 1024),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


def measure_in_children(script: str, doc: str, kinds: tuple[str, ...], child_main) -> tuple | None:
    """The shared ``main`` of the memory benchmarks: parse ``--docs``; as a ``--child PATH KIND`` run
    ``child_main(PATH, KIND)`` and return None; otherwise write the synthetic corpus and run ``script`` once per
    kind in a fresh process. Returns (args, each child's JSON line, corpus size in MB, the arguments that differ
    from the documented run, for ``write_result``)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(Path(args.child[0]), args.child[1])
        return None
    with tempfile.TemporaryDirectory(prefix="negmine-memory-") as tmp:
        path = Path(tmp) / "corpus.jsonl"
        write_corpus(path, args.docs)
        rows = []
        for kind in kinds:
            out = subprocess.run([sys.executable, script, "--child", str(path), kind],
                                 check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
        return args, rows, path.stat().st_size / 2**20, changed_arguments(parser, args)


def main() -> None:
    measured = measure_in_children(__file__, __doc__, LOADERS, child)
    if measured is None:
        return
    args, rows, size_mb, changed = measured
    base = rows[0]["rss_anon_mb"]
    print(f"{args.docs} documents, corpus.jsonl {size_mb:.0f} MB")
    print_table(["loader", "load s", "+RssAnon MB", "x lists", "+RssFile MB", "peak RSS MB (with imports)"],
                [[r["loader"], r["load_s"], r["rss_anon_mb"], round(r["rss_anon_mb"] / base, 2), r["rss_file_mb"],
                  r["peak_rss_mb"]] for r in rows])
    write_result("corpus_memory", {"docs": args.docs, "corpus_mb": round(size_mb), "rows": rows}, changed=changed)


if __name__ == "__main__":
    main()
