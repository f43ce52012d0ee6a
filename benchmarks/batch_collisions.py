"""Batch collisions: how often a query meets a positive of its own query as an in-batch negative, per export.

The README's export section quotes these figures for the demo's BM25 mine; this script measures them from
scratch. It mines the demo as the Quickstart does with ``--retriever bm25`` (``negmine mine $DEMO --split train
--retriever bm25``, 5 negatives per pair) into a temporary folder, exports ``triplet``, ``n-tuple`` and
``flagembedding``, then replays the batches each trainer would build and counts, per training example and step,
whether a passage of the batch scored against it as a negative is a positive of its own query (a text equal to
one of the query's positives in the native file), and through which record it came:

- **FlagEmbedding** (``--fe-group 4``, ``--fe-batch 8``, ``--fe-epochs 200``): its default trainer shuffles the
  records each epoch (the Hugging Face Trainer's random sampler; the last, partial batch is kept,
  ``dataloader_drop_last=False``), and ``AbsEmbedderTrainDataset.__getitem__``
  (``FlagEmbedding/abc/finetune/embedder/AbsDataset.py``, github.com/FlagOpen/FlagEmbedding) draws one positive of
  ``pos`` (``random.choice``) and ``train_group_size - 1`` of ``neg`` (``random.sample``, over ``neg`` repeated
  when it is shorter) per record and step; ``_compute_in_batch_neg_loss`` (``AbsModeling.py``) scores each query
  against every passage of the batch, unmasked, its own drawn positive the target. Replayed with Python's
  ``random`` seeded by ``--seed``, the same calls, for two layouts: "before", one record per native row
  (``pos`` its one positive, ``neg`` its negatives: the export until 2026-12-05, rebuilt from the native rows),
  and "after", the ``flagembedding`` export as written now (one record per query). A "query-step" is one record
  in one batch.
- **sentence-transformers** (``--st-batch 16``, ``--st-epochs 30``): the ``triplet`` and ``n-tuple`` exports
  loaded with ``datasets.load_dataset("json", ...)``, batched by the installed sentence-transformers' own batch
  samplers (``SentenceTransformerTrainer.get_batch_sampler`` for ``BatchSamplers.BATCH_SAMPLER``, the default,
  and ``BatchSamplers.NO_DUPLICATES``, built as the trainer builds them: a ``torch.Generator`` seeded with
  ``--seed``, ``drop_last=False``, ``set_epoch`` before each epoch). MNRL and CachedMNRL score each anchor against
  every record's positive and negatives in the batch, its own positive the target. An "anchor-step" is one
  record in one batch; 30 epochs because the README's totals were 10,050 triplet and 2,010 n-tuple anchor-steps
  for 335 and 67 records.

Also reported: rows, FlagEmbedding records, the negatives each multi-positive query keeps, the negatives left out
for scoring above the hardest negative of one of the query's rows, and how many mined negatives are another
query's positive. ``--spread N`` repeats the replays with seeds 0..N-1 and reports each count's range, to tell a
changed figure from another draw.

    python benchmarks/batch_collisions.py [--seed 42] [--spread 10]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from _common import changed_arguments, print_table, write_result

OWN, SAME, OTHER = "own record", "same query's record", "other query's record"
EXPORTS = ("triplet", "n-tuple", "flagembedding")
SAMPLERS = ("BATCH_SAMPLER", "NO_DUPLICATES")
LABEL_COLUMNS = ["label", "score"]  # sentence-transformers' data collator's valid_label_columns


@dataclass(frozen=True)
class Example:
    """One record as a loss sees it in a batch: its query and its passages, ``passages[0]`` the target positive.
    Every passage of the batch but this target is one of its negatives (FlagEmbedding and MNRL alike)."""

    query: str
    passages: tuple[str, ...]


@dataclass(frozen=True)
class FeRecord:
    """A FlagEmbedding training record: ``{query, pos, neg}``."""

    query: str
    pos: tuple[str, ...]
    neg: tuple[str, ...]


# ------------------------------------------------------------------------------------------------ counting
def collision_sources(batch: Sequence[Example], positives: Mapping[str, frozenset[str]]) -> list[set[str]]:
    """Per example of ``batch``: through which records (:data:`OWN`, :data:`SAME`, :data:`OTHER`) it meets a
    positive of its own query (``positives[query]``, texts) among its in-batch negatives; empty if none."""
    found = []
    for i, example in enumerate(batch):
        own, sources = positives[example.query], set()
        for j, other in enumerate(batch):
            shown = other.passages[1:] if j == i else other.passages
            if not own.isdisjoint(shown):
                sources.add(OWN if j == i else SAME if other.query == example.query else OTHER)
        found.append(sources)
    return found


def tally(batches: Iterable[Sequence[Example]], positives: Mapping[str, frozenset[str]]) -> dict[str, int]:
    """Example-steps in ``batches``, how many met an own positive as a negative, and through which records (an
    example-step can count under more than one)."""
    counts = Counter({"steps": 0, "met": 0, OWN: 0, SAME: 0, OTHER: 0})
    for batch in batches:
        for sources in collision_sources(batch, positives):
            counts["steps"] += 1
            counts["met"] += bool(sources)
            counts.update(sources)
    return dict(counts)


# --------------------------------------------------------------------------------------------- FlagEmbedding
def fe_example(record: FeRecord, group: int, rng: random.Random) -> Example:
    """``AbsEmbedderTrainDataset.__getitem__``'s draw: one positive, ``group - 1`` negatives (with repeats only
    when ``neg`` is shorter)."""
    pos = record.pos[rng.choice(range(len(record.pos)))]
    indices = list(range(len(record.neg)))
    if len(record.neg) < group - 1:
        picks = rng.sample(indices * math.ceil((group - 1) / len(record.neg)), group - 1)
    else:
        picks = rng.sample(indices, group - 1)
    return Example(record.query, (pos, *(record.neg[k] for k in picks)))


def fe_batches(records: Sequence[FeRecord], group: int, batch: int, epochs: int, seed: int
               ) -> Iterator[list[Example]]:
    """Each epoch a shuffle of the records in batches of ``batch`` (the last one partial), each record drawn
    afresh."""
    rng = random.Random(seed)
    for _ in range(epochs):
        order = rng.sample(range(len(records)), len(records))
        for start in range(0, len(order), batch):
            yield [fe_example(records[k], group, rng) for k in order[start:start + batch]]


def rows_as_records(rows: Sequence[dict]) -> list[FeRecord]:
    """The layout before 2026-12-05: one record per native row."""
    return [FeRecord(row["query"], (row["positive"],), tuple(row["negatives"])) for row in rows if row["negatives"]]


def read_fe_records(path: Path) -> list[FeRecord]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [FeRecord(r["query"], tuple(r["pos"]), tuple(r["neg"])) for r in records]


# --------------------------------------------------------------------------------------- sentence-transformers
def st_sampler(dataset, kind: str, batch: int, seed: int):
    """The batch sampler ``SentenceTransformerTrainer`` builds for ``batch_sampler=BatchSamplers.<kind>``, through
    its own ``get_batch_sampler`` (which reads ``self.args.batch_sampler`` only)."""
    from types import SimpleNamespace

    import torch
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    trainer = SimpleNamespace(args=SimpleNamespace(batch_sampler=BatchSamplers[kind]))
    generator = torch.Generator()
    generator.manual_seed(seed)
    return SentenceTransformerTrainer.get_batch_sampler(trainer, dataset, batch_size=batch, drop_last=False,
                                                        valid_label_columns=LABEL_COLUMNS, generator=generator,
                                                        seed=seed)


def st_batches(dataset, kind: str, batch: int, epochs: int, seed: int) -> Iterator[list[Example]]:
    """The batches of ``epochs`` epochs, each record as an Example (anchor; positive, then its negatives)."""
    columns = dataset.column_names
    examples = [Example(r[columns[0]], tuple(r[c] for c in columns[1:])) for r in dataset.to_list()]
    sampler = st_sampler(dataset, kind, batch, seed)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for indices in sampler:
            yield [examples[k] for k in indices]


def load_export(path: Path, cache: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


# ------------------------------------------------------------------------------------------------- the mine
def mine_demo(work: Path) -> Path:
    """``negmine mine $DEMO --split train --retriever bm25 --export triplet --export n-tuple --export
    flagembedding`` into ``work``; the native file's path."""
    from negmine.config import DataConfig, MineConfig, OutputConfig, RetrieveConfig
    from negmine.demo import demo_path
    from negmine.pipeline.mine import mine

    native = work / "negatives.jsonl"
    mine(MineConfig(data=DataConfig(data_dir=demo_path(), split="train"), retrieve=RetrieveConfig(method="bm25"),
                    output=OutputConfig(path=native, formats=EXPORTS)))
    return native


def query_positives(rows: Sequence[dict]) -> dict[str, frozenset[str]]:
    """Each query's positive texts (its rows' positives and promoted documents), keyed by query text: the
    exports carry texts only, so a query text shared by two query ids would merge them (refused)."""
    ids: dict[str, str] = {}
    found: dict[str, set[str]] = {}
    for row in rows:
        if ids.setdefault(row["query"], row["query_id"]) != row["query_id"]:
            raise SystemExit(f"query ids {ids[row['query']]} and {row['query_id']} share a text; "
                             "this replay tells queries apart by text")
        found.setdefault(row["query"], set()).update([row["positive"], *row.get("extra_positives", ())])
    return {query: frozenset(texts) for query, texts in found.items()}


def left_out_above_bound(rows: Sequence[dict]) -> dict[str, int]:
    """Distinct (query, negative) pairs of the multi-positive queries that their FlagEmbedding record leaves out
    for scoring above the hardest negative of one of the query's rows (``left_out``, counted independently of the
    exporter), and how many of those score above the query's weakest positive (``of_them_above_weakest_positive``)."""
    by_query: dict[str, list[dict]] = {}
    for row in rows:
        if row["negatives"]:
            by_query.setdefault(row["query_id"], []).append(row)
    counts = Counter({"left_out": 0, "of_them_above_weakest_positive": 0})
    for group in by_query.values():
        bound = min(max(row["negative_scores"]) for row in group)
        weakest = min(row["positive_score"] for row in group)
        relevant = {row["positive_id"] for row in group}
        scores = {d: s for row in group for d, s in zip(row["negative_ids"], row["negative_scores"])}
        above = [score for doc, score in scores.items() if doc not in relevant and score > bound]
        counts["left_out"] += len(above)
        counts["of_them_above_weakest_positive"] += sum(score > weakest for score in above)
    return dict(counts)


def negatives_that_are_other_positives(rows: Sequence[dict]) -> int:
    """Mined negatives (one per row and negative) that are a positive of another query in the file, by id."""
    positive_of: dict[str, set[str]] = {}
    for row in rows:
        positive_of.setdefault(row["positive_id"], set()).add(row["query_id"])
    return sum(bool(positive_of.get(doc, set()) - {row["query_id"]}) for row in rows for doc in row["negative_ids"])


def mine_figures(rows: Sequence[dict], fe_records: Sequence[FeRecord]) -> dict:
    per_query = Counter(row["query_id"] for row in rows)
    multi = {row["query"] for row in rows if per_query[row["query_id"]] > 1}
    return {
        "rows": len(rows),
        "negatives": sum(len(row["negatives"]) for row in rows),
        "flagembedding_records": len(fe_records),
        "multi_positive_queries": len(multi),
        "negatives_kept_per_multi_positive_query": sorted(len(r.neg) for r in fe_records if r.query in multi),
        "negatives_above_a_rows_hardest": left_out_above_bound(rows),
        "negatives_that_are_another_querys_positive": negatives_that_are_other_positives(rows),
    }


# ------------------------------------------------------------------------------------------------- replays
def replay(work: Path, rows: Sequence[dict], args: argparse.Namespace, seed: int) -> dict[str, dict[str, int]]:
    """Every arm's tally for one seed: ``{arm: tally}``."""
    positives = query_positives(rows)
    arms = {
        "flagembedding before (one record per row)": rows_as_records(rows),
        "flagembedding after (one record per query)": read_fe_records(work / "negatives.flagembedding.jsonl"),
    }
    out = {name: tally(fe_batches(records, args.fe_group, args.fe_batch, args.fe_epochs, seed), positives)
           for name, records in arms.items()}
    for fmt in ("triplet", "n-tuple"):
        dataset = load_export(work / f"negatives.{fmt}.jsonl", work / "hf-cache")
        for kind in SAMPLERS:
            out[f"{fmt} {kind}"] = tally(st_batches(dataset, kind, args.st_batch, args.st_epochs, seed), positives)
    return out


def spread(runs: Sequence[dict[str, dict[str, int]]]) -> dict[str, dict[str, list[int]]]:
    """Per arm and count, ``[min, max]`` over the seeds' runs."""
    return {arm: {key: [min(run[arm][key] for run in runs), max(run[arm][key] for run in runs)]
                  for key in runs[0][arm]} for arm in runs[0]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42, help="seed of the replays whose counts the README quotes")
    parser.add_argument("--spread", type=int, default=10, help="also replay with seeds 0..N-1, for each count's range")
    parser.add_argument("--fe-group", type=int, default=4, help="FlagEmbedding's train_group_size")
    parser.add_argument("--fe-batch", type=int, default=8)
    parser.add_argument("--fe-epochs", type=int, default=200)
    parser.add_argument("--st-batch", type=int, default=16)
    parser.add_argument("--st-epochs", type=int, default=30)
    return parser


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    from negmine.export.native import read_native

    with tempfile.TemporaryDirectory(prefix="batch_collisions_") as tmp:
        work = Path(tmp)
        rows = list(read_native(mine_demo(work)))
        figures = mine_figures(rows, read_fe_records(work / "negatives.flagembedding.jsonl"))
        runs = {seed: replay(work, rows, args, seed) for seed in dict.fromkeys([args.seed, *range(args.spread)])}
    print_table(["demo BM25 mine", "value"], [[key.replace("_", " "), value] for key, value in _flat(figures)])
    ranges = spread(list(runs.values())) if args.spread else {}
    headers = ["arm", "steps", "met an own positive", f"via {SAME}", f"via {OTHER}", f"via {OWN}"]
    print(f"seed {args.seed}" + (f"; [min-max] over seeds {', '.join(map(str, runs))}" if ranges else ""))
    print_table(headers, [[arm, f"{counts['steps']:,}", *(_cell(counts[k], ranges.get(arm, {}).get(k))
                                                          for k in ("met", SAME, OTHER, OWN))]
                          for arm, counts in runs[args.seed].items()])
    write_result("batch_collisions", {
        "settings": vars(args), "mine": figures, "replay": runs[args.seed],
        "spread_seeds": list(runs) if ranges else [], "spread": ranges,
    }, changed=changed_arguments(parser, args))


def _flat(figures: dict) -> list[tuple[str, object]]:
    return [(f"{key} {inner}", v) for key, value in figures.items()
            for inner, v in (value.items() if isinstance(value, dict) else [("", value)])]


def _cell(value: int, bounds: list[int] | None) -> str:
    return f"{value:,}" if bounds is None else f"{value:,} [{bounds[0]:,}-{bounds[1]:,}]"


if __name__ == "__main__":
    main()
