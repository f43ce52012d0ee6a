"""The pool hooks a mining run builds from its config: near-duplicate exclusion (default on) and denoising.

Order per pair: exclusions -> near-duplicates -> judges (``--denoise``) -> a caller's own hook ->
positive-aware filters -> strategy. Removals are counted in the run's ``removed`` counter (reported in
the summary next to the filters); the judges' evidence goes to ``<output>.denoise.flags.jsonl``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from negmine.audit.denoise import DenoiseHook
from negmine.audit.near_dup_hook import NearDuplicateHook
from negmine.config import MineConfig
from negmine.io.atomic import atomic_write
from negmine.io.records import Dataset, Pair
from negmine.select.pool import Pool

Hook = Callable[[Pair, Pool], Pool]


class MineHooks:
    """Runs its steps in order; ``finish`` writes the denoising evidence and returns summary entries."""

    def __init__(self, steps: list[Hook], denoise: DenoiseHook | None = None) -> None:
        self.steps = steps
        self.denoise = denoise

    def __call__(self, pair: Pair, pool: Pool) -> Pool:
        for step in self.steps:
            pool = step(pair, pool)
        return pool

    def finish(self, output: Path) -> dict:
        if self.denoise is None:
            return {}
        path = denoise_flags_path(output)
        with atomic_write(path) as handle:
            for record in self.denoise.records:
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        return {"denoise": {"flags": str(path), "candidates_judged": self.denoise.judged,
                            "false_negatives_removed": len(self.denoise.records)}}


def denoise_flags_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.denoise.flags.jsonl")


def build_mine_hooks(
    config: MineConfig,
    dataset: Dataset,
    doc_vectors: np.ndarray | None,
    removed: Counter,
    cache=None,
    extra: Hook | None = None,
) -> MineHooks | None:
    """The hooks ``config`` asks for (None when there are none). Judge models are loaded here, once."""
    steps: list[Hook] = []
    if config.near_dup.enabled:
        steps.append(NearDuplicateHook(config.near_dup, dataset, doc_vectors, removed))
    denoise = _denoise_hook(config, dataset, doc_vectors, removed, cache) if config.denoise.enabled else None
    if denoise is not None:
        steps.append(denoise)
    if extra is not None:
        steps.append(extra)
    return MineHooks(steps, denoise) if steps else None


def _denoise_hook(config: MineConfig, dataset: Dataset, doc_vectors, removed: Counter, cache) -> DenoiseHook:
    from negmine.audit.judges import build_judges
    from negmine.audit.resources import load_resources
    from negmine.select.filters import filter_masks
    from negmine.select.strategy import window

    judge_config = config.denoise.judges
    names = judge_config.resolved(config.denoise.DEFAULT_JUDGES)
    resources = load_resources(judge_config, names, config.encoder, cache, row_vectors=doc_vectors)
    rank_min, rank_max = window(config.select)

    def eligible(pool: Pool) -> np.ndarray:
        masks = filter_masks(pool, config.filters, rank_min, rank_max)
        return np.logical_and.reduce(list(masks.values())) if masks else np.ones(len(pool), dtype=bool)

    judges = build_judges(judge_config, names, resources)
    return DenoiseHook(judges, judge_config, dataset, config.denoise.depth, eligible, removed)
