"""Pilot (session 60, pre-registered in TRAINING_HISTORY.md): an easy-to-hard curriculum over each epoch.

Every arm of ``train_scifact.py`` sees its rows in a random order. Here a row's difficulty is the mining model's
margin in the mined file, ``positive_score - max(negative_scores[:3])`` (the 3 negatives training uses;
``train_scifact.SHARED``): the rows are split into four quartiles by it and each epoch's no-duplicates pass takes
them easiest quartile first, shuffled within a quartile by the sampler's seeded generator. The no-duplicates pass
then fills batches in that order (a conflicting row is deferred to a later batch, so the order holds up to a few
places). Everything else is ``negmine``'s defaults arm of ``train_scifact.py --heldout`` in the same work folder;
the defaults' models are reused.

    python benchmarks/curriculum.py --work ~/.cache/negmine/bench-s53 [--seeds 42,1,2]
    python benchmarks/curriculum.py --work ~/.cache/negmine/bench-s53 --order hard-first

``--order hard-first`` is the reverse (anti-curriculum: hardest quartile first), pre-registered with it as a second
arm; its models are prefixed ``dev-pilot3-anticurriculum`` and its JSON is ``curriculum_hard_first``. ``--test``: the
pre-registered test run (``_pilot``), models ``pilot3-anticurriculum-*``, JSON ``curriculum_hard_first_test``.

A pilot by monkeypatching the sampler's shuffle, not a negmine option: it becomes one only if it earns it
(TRAINING_HISTORY.md's rule: +0.5 nDCG@10 over the defaults on held-out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pilot  # noqa: E402
import train_scifact as bench  # noqa: E402

QUARTILES = 4
SOURCES = {"easy-first": "pilot2-curriculum", "hard-first": "pilot3-anticurriculum"}
"""--order -> the model folders' prefix (pilot versions 2 and 3; held-out folders start with ``dev-``)"""


def quartile_of(rows: list[dict], num_negatives: int) -> dict[tuple[str, str], int]:
    """(query, positive) -> 0 (largest margins: easiest) .. QUARTILES - 1 (smallest: hardest)."""
    margins = np.array([r["positive_score"] - max(r["negative_scores"][:num_negatives]) for r in rows])
    edges = np.quantile(margins, np.linspace(0, 1, QUARTILES + 1)[1:-1])
    hardness = QUARTILES - 1 - np.searchsorted(edges, margins, side="right")
    return {(r["query"], r["positive"]): int(h) for r, h in zip(rows, hardness)}


def curriculum_order(levels: np.ndarray, generator, hard_first: bool = False) -> np.ndarray:
    """Row indices: level 0 first (``hard_first``: the last level first), each level's rows in a permutation drawn
    from ``generator``."""
    import torch

    parts = []
    for level in (reversed(range(QUARTILES)) if hard_first else range(QUARTILES)):
        rows = np.flatnonzero(levels == level)
        parts.append(rows[torch.randperm(len(rows), generator=generator).numpy()])
    return np.concatenate(parts)


class _TorchWithCurriculum:
    """``torch`` as the sentence-transformers sampler module sees it, with ``randperm`` giving the curriculum's
    order of the dataset the pass is over (set by the patched ``_iter_one_pass``)."""

    def __init__(self, torch_module, levels_of, hard_first: bool) -> None:
        self._torch, self._levels_of, self.dataset, self._hard_first = torch_module, levels_of, None, hard_first

    def __getattr__(self, name):
        return getattr(self._torch, name)

    def randperm(self, n, generator=None, dtype=None):
        levels = self._levels_of(self.dataset)
        if len(levels) != n:
            raise RuntimeError(f"curriculum pilot: {len(levels)} levels for a pass over {n} rows")
        return self._torch.from_numpy(curriculum_order(levels, generator, self._hard_first)).to(dtype)


def patch_sampler(quartiles: dict[tuple[str, str], int], hard_first: bool = False) -> None:
    """Make every no-duplicates pass go through the rows in curriculum order."""
    import torch
    from sentence_transformers.base import sampler

    def levels_of(dataset) -> np.ndarray:
        rows = [dataset[i] for i in range(len(dataset))]
        return np.array([quartiles[(row["anchor"], row["positive"])] for row in rows])

    proxy = _TorchWithCurriculum(torch, levels_of, hard_first)
    original = sampler.NoDuplicatesBatchSampler._iter_one_pass

    def _iter_one_pass(self, *args, **kwargs):
        proxy.dataset = self.dataset
        yield from original(self, *args, **kwargs)

    sampler.torch = proxy
    sampler.NoDuplicatesBatchSampler._iter_one_pass = _iter_one_pass


def main() -> None:
    def order_argument(parser) -> None:
        parser.add_argument("--order", choices=sorted(SOURCES), default="easy-first")

    pilot = _pilot.setup(__doc__.splitlines()[0], "curriculum", order_argument, documented=("order",))
    order = pilot.args.order
    if order == "hard-first" and pilot.args.results_name.startswith("curriculum"):
        name = pilot.args.results_name.replace("curriculum", "curriculum_hard_first", 1)
        pilot = pilot._replace(args=argparse.Namespace(**{**vars(pilot.args), "results_name": name}))
    quartiles = quartile_of(pilot.rows, bench.SHARED["num_negatives"])
    stats = {"rows": len(pilot.rows), "order": order, "rows_per_level": np.bincount(list(quartiles.values())).tolist()}
    print(stats, flush=True)
    arm = "curriculum" if order == "easy-first" else "anti-curriculum"
    _pilot.run(pilot, arm, SOURCES[order], lambda: patch_sampler(quartiles, order == "hard-first"), stats)


if __name__ == "__main__":
    main()
