"""Pilot (session 64, pre-registered in TRAINING_HISTORY.md): other training queries' positives demoted as negatives.

negmine never takes a query's own positives as its negatives, but a document labelled relevant to *another*
training query is a candidate like any other. In SciFact, claims come in clusters written from the same cited
papers, so a document that is evidence for one claim is more likely than a random candidate to be unlabelled
evidence for a neighbouring claim: a false negative. In the held-out mined file, 130 of the 1,833 negatives training
uses (7%) are another training query's positive, in 119 of the 611 rows (19%); after the reordering, 2 remain. Here each row's 5 mined negatives are reordered so
that those that are no other training query's positive come first (in their mined order), the others after; training
takes the first 3 (``train_scifact.SHARED``), so a row falls back to an other query's positive only when fewer than 3
of its 5 are free of them. "Other training queries" are those the mined file holds (held-out: the 601 training
queries, never the held-out ones), with every positive the training qrels give them. Everything else is
``negmine``'s defaults arm of ``train_scifact.py --heldout`` in the same work folder; the defaults' models are reused.

    python benchmarks/other_positives.py --work ~/.cache/negmine/bench-s53 [--seeds 42,1,2]
    python benchmarks/other_positives.py --work ~/.cache/negmine/bench-s53 --first

``--first`` is the reverse, pre-registered as a second arm: another query's positives move *before* the row's other
negatives (they are topical, evidence-like documents: hard negatives that teach which evidence supports which
claim, if they are not false negatives); models prefixed ``dev-pilot6-otherpositives-first``, JSON
``other_positives_first``.

A pilot on a rewritten mined file, not a negmine option: it becomes one only if it earns it (TRAINING_HISTORY.md's
rule: +0.5 nDCG@10 over the defaults on held-out).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pilot  # noqa: E402
import train_scifact as bench  # noqa: E402

SOURCES = {False: "pilot5-otherpositives", True: "pilot6-otherpositives-first"}
"""--first -> the model folders' prefix (held-out folders start with ``dev-``)."""

PARALLEL = ("negative_ids", "negatives", "negative_scores", "negative_ranks")
"""A row's per-negative lists, reordered together."""


def positives_by_query(qrels: dict[str, dict[str, int]], query_ids: set[str]) -> dict[str, set[str]]:
    """Document id -> the queries among ``query_ids`` that judge it relevant (score > 0)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for query_id in query_ids:
        for doc_id, score in qrels.get(query_id, {}).items():
            if score > 0:
                owners[doc_id].add(query_id)
    return owners


def demote(row: dict, owners: dict[str, set[str]], first: bool = False) -> dict:
    """``row`` with its negatives that are another query's positive moved after the others (``first``: before
    them), each group in its mined order."""
    others = [bool(owners.get(doc_id, set()) - {row["query_id"]}) for doc_id in row["negative_ids"]]
    order = sorted(range(len(others)), key=lambda i: (others[i] != first, i))
    return {**row, **{key: [row[key][i] for i in order] for key in PARALLEL if key in row}}


def rewrite(rows: list[dict], qrels: dict, used: int, first: bool = False) -> tuple[list[dict], dict]:
    """The reordered rows (:func:`demote`) and their counts: rows whose first ``used`` negatives changed, rows
    holding an other query's positive among them after the reordering, and such negatives before and after."""
    owners = positives_by_query(qrels, {row["query_id"] for row in rows})
    out = [demote(row, owners, first) for row in rows]

    def taken(r: dict) -> int:
        return sum(bool(owners.get(d, set()) - {r["query_id"]}) for d in r["negative_ids"][:used])

    stats = {"rows": len(rows), "rows_changed": sum(a["negative_ids"][:used] != b["negative_ids"][:used]
                                                    for a, b in zip(rows, out)),
             "other_positives_used_before": sum(map(taken, rows)), "other_positives_used_after": sum(map(taken, out)),
             "rows_still_holding_one": sum(taken(r) > 0 for r in out)}
    return out, stats


def main() -> None:
    from negmine.config import DataConfig
    from negmine.io.load import load_data

    def first_argument(parser) -> None:
        parser.add_argument("--first", action="store_true", help="other queries' positives first, not last")

    pilot = _pilot.setup(__doc__.splitlines()[0], "other_positives", first_argument, documented=("first",))
    first = pilot.args.first
    if first and pilot.args.results_name.startswith("other_positives"):
        name = pilot.args.results_name.replace("other_positives", "other_positives_first", 1)
        pilot = pilot._replace(args=argparse.Namespace(**{**vars(pilot.args), "results_name": name}))
    train = load_data(DataConfig(data_dir=pilot.data_dir, split="train"))
    rows, stats = rewrite(pilot.rows, train.qrels.judgments, bench.SHARED["num_negatives"], first)
    stats["first"] = first
    print(stats, flush=True)
    arm = "other-positives-first" if first else "other-positives-demoted"
    arm_mined = pilot.mined.with_name(f"{pilot.mined.stem}-{arm}.jsonl")
    arm_mined.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    _pilot.run(pilot, arm, SOURCES[first], lambda: None, stats, arm_mined=arm_mined)


if __name__ == "__main__":
    main()
