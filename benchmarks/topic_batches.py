"""Topic (TAS-B) batching with and without its no-duplicates repair, on a mined SciFact train file.

Mines SciFact train with negmine's defaults (bundled all-MiniLM-L6-v2; or reads ``--mined``), loads it as
``negmine train`` does (``--num-negatives 3``), clusters the distinct queries as ``--batching topic`` does (the
starting model, the bundled one, and the default cluster count, about two batches of queries per cluster), then
per epoch builds the batches twice with the same ``(seed, epoch)``: the plain cut (each cluster's shuffle cut into
batches, the leftovers pooled; the sampler before the repair) and the sampler's batches (clashing rows swapped
between batches). Reported per epoch and summed: batches in which a text (query, positive or negative) repeats,
the rows left sharing a text with a batch mate, the share of rows whose batch holds one cluster only (topic
purity), and the seconds the sampler took.

    python benchmarks/topic_batches.py [--mined FILE] [--batch-size 32] [--epochs 5] [--seed 42]

``--mined`` skips the mining (about 20 minutes on a busy 2-core machine) with a file mined as the documented run
mines, ``negmine mine $SCIFACT --split train``; it only places the input, so the run still writes the committed
results: give it no other file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import changed_arguments, print_table, require_scifact, write_result

LABEL_COLUMNS = ["label", "score"]  # sentence-transformers' data collator's valid_label_columns


def mine_scifact(out: Path) -> Path:
    from negmine.config import DataConfig, MineConfig, OutputConfig
    from negmine.pipeline.mine import mine

    mine(MineConfig(data=DataConfig(data_dir=require_scifact(), split="train"), output=OutputConfig(path=out)))
    return out


def batch_stats(batches: list[list[int]], values, topics) -> dict[str, float]:
    """Batches repeating a text, rows sharing a text with a batch mate, share of rows in single-cluster batches."""
    from negmine.train.samplers.row_texts import clashes

    repeating = sum(any(clashes(row, batch[:i], values) for i, row in enumerate(batch)) for batch in batches)
    clashing = sum(bool(clashes(row, [o for o in batch if o != row], values)) for batch in batches for row in batch)
    pure = sum(len(batch) for batch in batches if len({int(topics[row]) for row in batch}) == 1)
    return {"batches": len(batches), "repeating_batches": repeating, "clashing_rows": clashing,
            "single_cluster_rows": round(pure / sum(len(b) for b in batches), 4)}


def run(mined: Path, batch_size: int, epochs: int, seed: int) -> dict:
    import numpy as np

    from negmine.config import TrainConfig
    from negmine.train.api import load_model, topic_sampler
    from negmine.train.dataset import load_train_data
    from negmine.train.samplers.row_texts import RowValues, without_labels
    from negmine.train.samplers.topic import topic_batches

    config = TrainConfig(train_file=mined, batch_size=batch_size, seed=seed, batching="topic", show_progress=False)
    data = load_train_data(mined, config.num_negatives)
    factory = topic_sampler(load_model(config), data, config, "fp32")
    topics = factory.keywords["topics"]
    values = RowValues(without_labels(data.dataset, LABEL_COLUMNS)).read_all()
    sampler = factory(data.dataset, batch_size, False, valid_label_columns=LABEL_COLUMNS, seed=seed)
    per_epoch = []
    for epoch in range(epochs):
        plain = topic_batches(topics, batch_size, False, np.random.default_rng([seed, epoch]))
        sampler.set_epoch(epoch)
        start = time.perf_counter()
        swapped = list(sampler)
        seconds = time.perf_counter() - start
        assert sorted(r for b in swapped for r in b) == list(range(len(topics)))
        per_epoch.append({"epoch": epoch, "before": batch_stats(plain, values, topics),
                          "after": {**batch_stats(swapped, values, topics), "seconds": round(seconds, 3)}})
    return {"rows": len(topics), "queries": len(set(data.dataset["anchor"])), "clusters": int(len(set(topics))),
            "batch_size": batch_size, "epochs": per_epoch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mined", type=Path, help="a mined SciFact train file (default: mine one, negmine defaults)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mined = args.mined or mine_scifact(Path(tmp) / "scifact_train.jsonl")
        result = run(mined, args.batch_size, args.epochs, args.seed)
    print(f"{result['rows']} rows, {result['queries']} queries, {result['clusters']} clusters, batch {args.batch_size}")
    rows = [[e["epoch"], e["before"]["batches"], e["before"]["repeating_batches"], e["after"]["repeating_batches"],
             e["before"]["clashing_rows"], e["after"]["clashing_rows"], e["before"]["single_cluster_rows"],
             e["after"]["single_cluster_rows"], e["after"]["seconds"]] for e in result["epochs"]]
    print_table(["epoch", "batches", "repeating before", "after", "clashing rows before", "after",
                 "single-cluster rows before", "after", "sampler s"], rows)
    write_result("topic_batches", result, changed=changed_arguments(parser, args, neutral=("mined",)))


if __name__ == "__main__":
    main()
