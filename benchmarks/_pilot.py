"""What the held-out pilots share (``evidence_windows.py``, ``curriculum.py``): ``train_scifact.py --heldout``'s
mined file and its defaults' models (reused from the work folder), one patched arm trained on the same file with the
same seeds, and one table with the paired test against the defaults.

``--test`` is a pilot's test run (for one that earned it on held-out): SciFact train -> test as ``train_scifact.py``'s
headline, with the reference-mined arm (``st-mined``) trained too and the pilot's arm also tested against it; the
JSON's name gains ``_test``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable, NamedTuple

import train_scifact as bench
from _common import changed_arguments, print_table, require_scifact, write_result


class Pilot(NamedTuple):
    """The held-out set-up a pilot trains against."""

    args: argparse.Namespace
    changed: list[str]
    data_dir: Path
    test: object  # negmine's Dataset of the held-out queries
    mined: Path  # the defaults' mined file (held-out: without the held-out queries)
    rows: list[dict]  # its rows, as written
    reference: Path | None  # test runs: the reference's mined file

def setup(description: str, results_name: str,
          add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
          documented: tuple[str, ...] = ()) -> Pilot:
    """Parse ``--work``, ``--seeds``, ``--results-name`` (and the pilot's own, from ``add_arguments``: those named
    in ``documented`` are documented runs each, which write their own results name); mine (or reuse) the held-out
    training file."""
    parser = argparse.ArgumentParser(description=description)
    if add_arguments is not None:
        add_arguments(parser)
    parser.add_argument("--work", type=Path, default=bench.build_parser().get_default("work"),
                        help="train_scifact's work folder: its held-out mined file and defaults' models are reused")
    parser.add_argument("--seeds", default="42,1,2")
    parser.add_argument("--results-name", default=results_name)
    parser.add_argument("--test", action="store_true", help="train on all of SciFact train, score on its test split")
    args = parser.parse_args()
    changed = changed_arguments(parser, args, (), bench.NEUTRAL + documented + ("test",))
    if args.test and args.results_name == results_name:
        args.results_name += "_test"
    data_dir = require_scifact()
    if args.test:
        from negmine.config import DataConfig
        from negmine.io.load import load_data

        test = load_data(DataConfig(data_dir=data_dir, split="test"))
        mined = bench.mine_negmine(data_dir, args.work, "negmine-top", False)
        reference = bench.mine_reference(data_dir, args.work)
    else:
        test, reference = bench.heldout_dataset(data_dir), None
        mined = bench.without_heldout(bench.mine_negmine(data_dir, args.work, "negmine-top", True), args.work)
    rows = [json.loads(line) for line in mined.read_text().splitlines()]
    return Pilot(args, changed, data_dir, test, mined, rows, reference)


def run(pilot: Pilot, arm: str, source: str, patch: Callable[[], None], stats: dict,
        arm_mined: Path | None = None) -> None:
    """Train and score the defaults (reused where trained), in a test run the reference-mined arm, and then, after
    ``patch()``, the pilot's arm (model folders prefixed ``source``, ``dev-`` first on held-out; trained on
    ``arm_mined`` when given, a rewrite of the defaults' mined file) at each seed; print and write the table."""
    from negmine.evaluate.metrics import evaluate_run

    dev = "" if pilot.args.test else "dev-"
    arms = [("negmine", dev + "negmine-top", pilot.mined, {})]
    if pilot.reference is not None:
        arms.append((bench.BASELINE, "st", pilot.reference, bench.VARIANTS[bench.BASELINE].overrides))
    arms.append((arm, dev + source, arm_mined or pilot.mined, {}))
    results: dict[str, list] = {name: [] for name, *_ in arms}
    seeds = [int(s) for s in pilot.args.seeds.split(",")]
    for name, prefix, mined, overrides in arms:
        if name == arm:
            patch()
        for seed in seeds:
            model, _ = bench.train_variant(prefix, mined, overrides, seed, pilot.args.work, pilot.data_dir)
            run_file = bench.evaluate_model(str(model), f"{name}@{seed}", pilot.test, pilot.args.work)
            results[name].append(evaluate_run(pilot.test.qrels, run_file, bench.METRICS))
    report(results, arm, stats, pilot.args.results_name, pilot.changed)


def report(results: dict, arm: str, stats: dict, name: str, changed: list[str]) -> None:
    means = {k: bench.seed_mean(k, v) for k, v in results.items()}
    test = bench.paired_tests(means["negmine"], means[arm])
    versus = {"vs_defaults": test}
    if bench.BASELINE in means:
        versus["vs_reference"] = bench.paired_tests(means[bench.BASELINE], means[arm])
        versus["defaults_vs_reference"] = bench.paired_tests(means[bench.BASELINE], means["negmine"])
    rows = [[k, *(f"{m.mean[x]:.4f}" for x in bench.METRICS), ", ".join(f"{r.mean['ndcg@10']:.3f}" for r in results[k])]
            for k, m in means.items()]
    table = print_table(["run", *bench.METRICS, "nDCG@10 per seed"], rows)
    for label, tests in versus.items():
        nd = tests["ndcg@10"]
        print(f"{arm if label != 'defaults_vs_reference' else 'negmine'} {label.replace('_', ' ')}: "
              f"nDCG@10 {100 * nd['mean_delta']:+.2f} (CI {100 * nd['ci95'][0]:+.2f}..{100 * nd['ci95'][1]:+.2f}, "
              f"p {nd['p_value']:.3f})")
    write_result(name, {"pilot": stats, "metrics": {k: m.mean for k, m in means.items()},
                        "per_seed": {k: [r.mean for r in v] for k, v in results.items()},
                        **versus, "table": table}, changed=changed)
