"""Wall-clock time per pipeline stage, for the run summary."""

from __future__ import annotations

import contextlib
import time
from typing import Iterator


STAGES = ("load", "encode+retrieve", "select+write", "export")
"""The pipeline's stages in the order they run (:func:`negmine.pipeline.mine.mine`), the order the summary's
``seconds`` are printed in."""


def in_stage_order(seconds: dict[str, float]) -> list[tuple[str, float]]:
    """``seconds`` as (stage, seconds) in :data:`STAGES` order, any other stage after them as given. The summary
    file is written with sorted keys, so its ``seconds`` read back alphabetically: ``format_summary`` of a loaded
    summary printed 'encode+retrieve ..., export ..., load ..., select+write ...', not the run's order."""
    known = [(stage, seconds[stage]) for stage in STAGES if stage in seconds]
    return known + [(stage, value) for stage, value in seconds.items() if stage not in STAGES]


class StageTimer:
    """Accumulates seconds per named stage: ``with timer("encode"): ...``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start

    def rounded(self) -> dict[str, float]:
        return {stage: round(sec, 3) for stage, sec in self.seconds.items()}
