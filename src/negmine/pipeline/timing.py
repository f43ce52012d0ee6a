"""Wall-clock time per pipeline stage, for the run summary."""

from __future__ import annotations

import contextlib
import time
from typing import Iterator


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
