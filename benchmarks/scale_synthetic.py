"""Scale curve: search + selection time and peak RSS for 10k / 100k / 1M synthetic documents x 10k queries.

Each configuration runs ``negmine.pipeline.mine.mine`` (the code path of ``negmine mine``: engine stores,
sharded search, merge, exclusions, near-duplicate hook, filters, selection, JSONL output) in a fresh
subprocess, with a synthetic embedder standing in for the model: clustered, L2-normalised 384-d vectors
computed from the text's number (document ``d<i>``, query ``q<j>`` = its positive plus noise). Peak RSS
is the child's ``ru_maxrss`` from ``os.wait4`` (the driver process); for all configurations a sampler
thread also records the peak summed RSS of the whole process tree (Ray's raylet and actors included).

    python benchmarks/scale_synthetic.py                      # 10k, 100k, 1M x local, ray
    python benchmarks/scale_synthetic.py --docs 10000 --engines local
    python benchmarks/scale_synthetic.py --docs 1000000 --engines local --index ivf   # ANN (scale_synthetic_ivf)

The first and last are the documented runs (DOCUMENTED); other arguments write to results/scratch/ instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import changed_arguments, print_table, write_result  # noqa: E402

# results name -> the arguments of its documented run besides the defaults (README "Scale"); --tmp only places
# the work files
DOCUMENTED = {"scale_synthetic_ivf": ["--docs", "1000000", "--engines", "local", "--index", "ivf"]}

DIM = 384
CLUSTERS = 2000


class SyntheticEmbedder:
    """Deterministic clustered unit vectors from the number in ``d<i>`` / ``q<j>`` (no model)."""

    def __init__(self, n_docs: int, n_queries: int, dim: int = DIM, seed: int = 0, noise: float = 1.2) -> None:
        rng = np.random.default_rng(seed)
        self.dim, self.n_docs, self.n_queries, self.noise = dim, n_docs, n_queries, noise
        self.fingerprint = f"synthetic-{dim}-{seed}" + ("" if noise == 1.2 else f"-noise{noise}")
        self.centres = _unit(rng.standard_normal((CLUSTERS, dim)).astype(np.float32))
        self.noise_a = rng.standard_normal((4096, dim)).astype(np.float32) / np.sqrt(2 * dim)
        self.noise_b = rng.standard_normal((4096, dim)).astype(np.float32) / np.sqrt(2 * dim)

    def docs(self, ids: np.ndarray) -> np.ndarray:
        noise = self.noise_a[ids % 4096] + self.noise_b[(ids // 4096) % 4096]
        return _unit(self.centres[(ids * 7919) % CLUSTERS] + self.noise * noise)

    def positive(self, j: np.ndarray) -> np.ndarray:
        return (j * (self.n_docs // self.n_queries)) % self.n_docs

    def encode(self, texts, prompt: str = "") -> np.ndarray:
        kinds = np.array([t[0] for t in texts])
        ids = np.array([int(t[1:]) for t in texts], dtype=np.int64)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        d = kinds == "d"
        out[d] = self.docs(ids[d])
        q = ids[~d]
        noise = self.noise_b[(q * 31 + 7) % 4096] + self.noise_a[(q * 17 + 3) % 4096]
        out[~d] = _unit(self.docs(self.positive(q)) + 0.8 * noise)
        return out


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_dataset(n_docs: int, n_queries: int, embedder: SyntheticEmbedder):
    from negmine.io.records import Dataset, Qrels, TextTable

    doc_ids = [f"d{i}" for i in range(n_docs)]
    query_ids = [f"q{j}" for j in range(n_queries)]
    positives = embedder.positive(np.arange(n_queries))
    qrels = Qrels({q: {f"d{int(p)}": 1} for q, p in zip(query_ids, positives)}, "synthetic")
    return Dataset(TextTable(doc_ids, list(doc_ids), "synthetic"), TextTable(query_ids, list(query_ids), "synthetic"),
                   qrels, "synthetic")


def _tree_rss() -> int:
    import psutil

    me = psutil.Process()
    total = 0
    for proc in [me, *me.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def child(args) -> None:
    """Run one configuration and print its measurements as JSON."""
    from negmine.config import DataConfig, EncoderConfig, EngineConfig, MineConfig, OutputConfig
    from negmine.pipeline.mine import mine

    peak = {"tree": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["tree"] = max(peak["tree"], _tree_rss())
            stop.wait(0.25)

    threading.Thread(target=sample, daemon=True).start()
    if args.engine == "ray":
        import ray

        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    embedder = SyntheticEmbedder(args.docs, args.queries)
    dataset = synthetic_dataset(args.docs, args.queries, embedder)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        config = MineConfig(
            data=DataConfig(),  # the dataset is passed in; a config naming files would be refused with it
            encoder=EncoderConfig(use_cache=False, show_progress=False),
            engine=EngineConfig(name=args.engine, memory_budget=args.memory_budget, index=args.index,
                                work_dir=Path(tmp) / "work"),
            output=OutputConfig(path=Path(tmp) / "negatives.jsonl"),
        )
        t0 = time.perf_counter()
        summary = mine(config, embedder=embedder, dataset=dataset).summary
        wall = time.perf_counter() - t0
    stop.set()
    engine = summary["engine"]
    print(json.dumps({
        "docs": args.docs, "queries": args.queries, "engine": args.engine, "index": args.index,
        "encode_s": engine["encode_seconds"], "search_s": engine["search_seconds"],
        "select_s": summary["seconds"]["select+write"], "mine_wall_s": round(wall, 2),
        "shard_rows": engine["search_shard_rows"], "shards": engine["search_shards"],
        "pairs_out": summary["pairs_out"], "tree_peak_rss_gb": round(peak["tree"] / 2**30, 3),
    }))


def run_config(docs: int, queries: int, engine: str, index: str, budget: str, tmp: str) -> dict:
    cmd = [sys.executable, __file__, "--child", "--docs", str(docs), "--queries", str(queries), "--engine", engine,
           "--index", index, "--memory-budget", budget, "--tmp", tmp]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"configuration {docs} docs / {engine} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["driver_peak_rss_gb"] = round(usage.ru_maxrss * 1024 / 2**30, 3)  # ru_maxrss is in KiB on Linux
    result["search_select_s"] = round(result["search_s"] + result["select_s"], 2)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--engines", nargs="+", default=["local", "ray"])
    parser.add_argument("--engine", default="local", help=argparse.SUPPRESS)
    parser.add_argument("--index", default="flat")
    parser.add_argument("--memory-budget", default="4G")
    parser.add_argument("--tmp", default=tempfile.gettempdir())
    return parser


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    if args.child:
        args.docs = args.docs[0]
        return child(args)
    load_before = os.getloadavg()
    rows = []
    for docs in args.docs:
        for engine in args.engines:
            result = run_config(docs, args.queries, engine, args.index, args.memory_budget, args.tmp)
            print(json.dumps(result), flush=True)
            rows.append(result)
    headers = ["docs", "engine", "index", "shards", "search_s", "select_s", "search_select_s", "encode_s",
               "driver_peak_rss_gb", "tree_peak_rss_gb"]
    table = print_table(headers, [[r[h] for h in headers] for r in rows])
    name = "scale_synthetic" if args.index == "flat" else f"scale_synthetic_{args.index}"
    write_result(name, {
        "queries": args.queries, "dim": DIM, "index": args.index, "memory_budget": args.memory_budget,
        "load_average_before": load_before, "load_average_after": os.getloadavg(), "rows": rows, "table": table,
    }, changed=changed_arguments(parser, args, DOCUMENTED.get(name, ()), neutral=("tmp",)))


if __name__ == "__main__":
    main()
