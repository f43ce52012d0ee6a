"""Issue 3 benchmark: negmine mining vs sentence_transformers.util.mine_hard_negatives on SciFact train.

Same model (bundled all-MiniLM-L6-v2), same settings (top, 10 negatives, relative margin 0.05, candidates
from the whole corpus), timed in one run: negmine with a cold cache, negmine with a warm cache, and the
reference. Prints a ratio table, the overlap of the negative sets and data-quality counts. A fourth run, warm
cache with the default near-duplicate exclusion off, shows what the exclusion (MinHash signatures of every
distinct candidate document) costs.

    python benchmarks/mine_scifact.py [--precision auto|bf16|fp32]   (negmine's encoder; the reference runs its default fp32)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import changed_arguments, print_table, require_scifact, write_result

NUM_NEGATIVES = 10
RELATIVE_MARGIN = 0.05


def run_negmine(data_dir: Path, out: Path, cache_dir: Path, precision: str, near_dup: bool = True) -> tuple[float, dict]:
    from negmine.config import (DataConfig, EncoderConfig, FilterConfig, MineConfig, NearDupConfig, OutputConfig,
                                SelectConfig)
    from negmine.pipeline.mine import mine

    config = MineConfig(
        data=DataConfig(data_dir=data_dir, split="train"),
        encoder=EncoderConfig(cache_dir=cache_dir, precision=precision, show_progress=False),
        filters=FilterConfig(relative_margin=RELATIVE_MARGIN, sd_margin=None),  # the reference's rule
        select=SelectConfig(strategy="top", num_negatives=NUM_NEGATIVES),
        output=OutputConfig(path=out),
        near_dup=NearDupConfig() if near_dup else NearDupConfig(cosine=None, overlap=None),
    )
    start = time.perf_counter()
    result = mine(config)
    return time.perf_counter() - start, result.summary


def run_reference(data_dir: Path) -> tuple[float, list[dict]]:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives

    from negmine.config import DEFAULT_MODEL
    from negmine.encode.default_model import resolve_model
    from negmine.io.beir import load_beir

    data = load_beir(data_dir, "train")
    pairs = data.pairs()
    ds = Dataset.from_dict(
        {"query": [data.queries.text(p.query_id) for p in pairs], "positive": [data.corpus.text(p.positive_id) for p in pairs]}
    )
    start = time.perf_counter()
    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    out = mine_hard_negatives(
        ds, model, corpus=list(data.corpus.texts), num_negatives=NUM_NEGATIVES, relative_margin=RELATIVE_MARGIN,
        sampling_strategy="top", output_format="n-tuple", batch_size=64, use_faiss=True, verbose=False,
    )
    seconds = time.perf_counter() - start
    rows = [
        {"query": r["query"], "positive": r["positive"], "negatives": [r[f"negative_{i}"] for i in range(1, NUM_NEGATIVES + 1)]}
        for r in out
    ]
    return seconds, rows


def quality(rows: list[dict], data) -> dict:
    """Leaks of labelled positives (any positive of the same query) among the negatives."""
    positive_texts = {}
    for p in data.pairs():
        positive_texts.setdefault(data.queries.text(p.query_id), set()).add(data.corpus.text(p.positive_id))
    leaks = sum(1 for r in rows for n in r["negatives"] if n in positive_texts.get(r["query"], ()))
    return {"rows": len(rows), "negatives": sum(len(r["negatives"]) for r in rows), "positive_leaks": leaks}


def overlap(ours: list[dict], ref: list[dict]) -> dict:
    ref_by_pair = {(r["query"], r["positive"]): set(r["negatives"]) for r in ref}
    jaccards, common = [], 0
    for r in ours:
        theirs = ref_by_pair.get((r["query"], r["positive"]))
        if theirs is None:
            continue
        mine_set = set(r["negatives"])
        common += 1
        jaccards.append(len(mine_set & theirs) / len(mine_set | theirs))
    return {"pairs_in_both": common, "mean_jaccard": sum(jaccards) / max(len(jaccards), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", default="auto", help="negmine encoder precision (auto | bf16 | fp32)")
    args = parser.parse_args()
    data_dir = require_scifact()
    from negmine.io.beir import load_beir

    data = load_beir(data_dir, "train")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold_s, cold_summary = run_negmine(data_dir, tmp / "cold.jsonl", tmp / "cache", args.precision)
        warm_s, warm_summary = run_negmine(data_dir, tmp / "warm.jsonl", tmp / "cache", args.precision)
        off_s, _ = run_negmine(data_dir, tmp / "off.jsonl", tmp / "cache", args.precision, near_dup=False)
        identical = (tmp / "cold.jsonl").read_bytes() == (tmp / "warm.jsonl").read_bytes()
        ours = [json.loads(line) for line in (tmp / "cold.jsonl").read_text().splitlines()]
    ref_s, ref_rows = run_reference(data_dir)
    q_ours, q_ref = quality(ours, data), quality(ref_rows, data)
    ov = overlap(ours, ref_rows)
    print()
    table = print_table(
        ["run", "seconds", "speed-up vs reference", "rows", "positive leaks"],
        [
            ["reference mine_hard_negatives", ref_s, 1.0, q_ref["rows"], q_ref["positive_leaks"]],
            ["negmine cold cache", cold_s, ref_s / cold_s, q_ours["rows"], q_ours["positive_leaks"]],
            ["negmine warm cache", warm_s, ref_s / warm_s, q_ours["rows"], q_ours["positive_leaks"]],
            ["negmine warm, near-dup exclusion off", off_s, ref_s / off_s, "-", "-"],
        ],
    )
    print(f"\nnegative-set overlap with the reference: mean Jaccard {ov['mean_jaccard']:.3f} over {ov['pairs_in_both']} pairs")
    print(f"cold and warm outputs byte-identical: {identical}")
    write_result(
        "mine_scifact",
        {
            "settings": {"strategy": "top", "num_negatives": NUM_NEGATIVES, "relative_margin": RELATIVE_MARGIN, "precision": args.precision},
            "seconds": {"reference": ref_s, "negmine_cold": cold_s, "negmine_warm": warm_s,
                        "negmine_warm_near_dup_off": off_s},
            "ratios": {"cold_speedup": ref_s / cold_s, "warm_speedup": ref_s / warm_s},
            "quality": {"negmine": q_ours, "reference": q_ref},
            "overlap": ov,
            "warm_identical_to_cold": identical,
            "negmine_cold_summary": cold_summary,
            "negmine_warm_summary": warm_summary,
            "table": table,
        },
        changed=changed_arguments(parser, args),
    )


if __name__ == "__main__":
    main()
