"""Encoding throughput and retrieval quality of negmine's CPU backends vs the sentence-transformers reference.

Throughput (docs/s) on the first ``--docs`` SciFact documents, all configurations timed in the same run,
interleaved over ``--rounds`` rounds (best round kept), reported as ratios to the reference:

- reference: ``SentenceTransformer(model).encode(texts)``, sentence-transformers' default (torch fp32);
- torch-bf16: negmine's SentenceTransformerEmbedder, ``--precision bf16`` (what ``auto`` picks on bf16 CPUs);
- onnx: ``--backend onnx`` (ONNX Runtime, fp32); onnx-int8: ``--backend onnx --quantize int8``.

Quality: zero-shot nDCG@10 on the full SciFact test split (5,183 docs, 300 queries) for each negmine
configuration, through the shared embedding cache (so reruns encode nothing); the torch fp32 embedder is
the quality reference, deltas are in nDCG points (x100).

    python benchmarks/encode_throughput.py [--docs 1000] [--rounds 2] [--skip-quality]
    (--skip-quality writes results/encode_throughput_speed.json, leaving the nDCG run's file alone; any other
    argument than the defaults writes to results/scratch/, leaving the documented figures alone)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import changed_arguments, print_table, require_scifact, write_result  # noqa: E402

# results name -> the arguments of its documented run besides the defaults (README "Scale")
DOCUMENTED = {"encode_throughput_speed": ["--skip-quality"]}

CONFIGS = {
    "torch-bf16": {"precision": "bf16"},
    "onnx": {"backend": "onnx", "precision": "fp32"},
    "onnx-int8": {"backend": "onnx", "quantize": "int8", "precision": "fp32"},
}


def encoder_config(overrides: dict):
    from negmine.config import EncoderConfig

    return EncoderConfig(show_progress=False, batch_size=32, **overrides)


def reference_encoder():
    from sentence_transformers import SentenceTransformer

    from negmine.encode.default_model import resolve_model
    from negmine.config import DEFAULT_MODEL

    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    return lambda texts: model.encode(texts, batch_size=32, show_progress_bar=False)


def throughput(texts: list[str], rounds: int) -> dict[str, float]:
    """docs/s of each configuration: best of ``rounds`` interleaved timings."""
    from negmine.encode.factory import make_embedder

    encoders = {"reference": reference_encoder()}
    for name, overrides in CONFIGS.items():
        embedder = make_embedder(encoder_config(overrides))
        encoders[name] = embedder.encode
    for encode in encoders.values():
        encode(texts[:16])  # warm-up: first-call allocations, export already done at construction
    best = {name: float("inf") for name in encoders}
    for _ in range(rounds):
        for name, encode in encoders.items():
            start = time.perf_counter()
            encode(texts)
            best[name] = min(best[name], time.perf_counter() - start)
            print(f"  {name}: {len(texts) / best[name]:.1f} docs/s", flush=True)
    return {name: len(texts) / seconds for name, seconds in best.items()}


def quality(dataset) -> dict[str, float]:
    """nDCG@10 on SciFact test for torch fp32 (quality reference) and each configuration."""
    from negmine.encode.cache import EmbeddingCache, default_cache_dir
    from negmine.encode.factory import make_embedder
    from negmine.evaluate.dense_eval import retrieve_run
    from negmine.evaluate.metrics import evaluate_run

    cache = EmbeddingCache(default_cache_dir())
    scores = {}
    for name, overrides in {"torch-fp32": {"precision": "fp32"}, **CONFIGS}.items():
        start = time.perf_counter()
        embedder = make_embedder(encoder_config(overrides))
        run = retrieve_run(embedder, dataset, depth=100, cache=cache, name=name)
        scores[name] = float(evaluate_run(dataset.qrels, run, ["ndcg@10"]).mean["ndcg@10"])
        print(f"  {name}: nDCG@10 {scores[name]:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    return scores


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-quality", action="store_true")
    return parser


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    from negmine.config import DataConfig
    from negmine.io.load import load_data

    dataset = load_data(DataConfig(data_dir=require_scifact(), split="test"))
    load_before = os.getloadavg()
    speed = throughput(dataset.corpus.texts[: args.docs], args.rounds)
    ndcg = {} if args.skip_quality else quality(dataset)
    base = ndcg.get("torch-fp32")
    rows = []
    for name, docs_per_s in speed.items():
        score = ndcg.get("torch-fp32" if name == "reference" else name)
        delta = None if score is None or base is None else round(100 * (score - base), 2)
        rows.append([name, round(docs_per_s, 1), round(docs_per_s / speed["reference"], 2), score, delta])
    table = print_table(["config", "docs/s", "x reference", "nDCG@10", "delta (points)"], rows)
    name = "encode_throughput_speed" if args.skip_quality else "encode_throughput"
    write_result(name, {
        "docs": args.docs, "rounds": args.rounds, "load_average_before": load_before,
        "load_average_after": os.getloadavg(), "docs_per_s": speed, "ndcg@10": ndcg, "table": table,
    }, changed=changed_arguments(parser, args, DOCUMENTED.get(name, ())))


if __name__ == "__main__":
    main()
