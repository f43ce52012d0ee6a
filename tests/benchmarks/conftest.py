"""Fixtures for the benchmark scripts' tests: the scripts import ``_common`` as a top-level module, so they are
imported with ``benchmarks/`` on ``sys.path``, and no test may write the committed ``benchmarks/results``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def import_benchmark():
    """``importlib.import_module`` with ``benchmarks/`` on ``sys.path`` for the module's tests."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture
def benchmarks(import_benchmark, tmp_path, monkeypatch):
    """``import_benchmark``, with ``_common.RESULTS`` at ``tmp_path``: a script's results land there."""
    monkeypatch.setattr(import_benchmark("_common"), "RESULTS", tmp_path)
    return import_benchmark


class FastClock:
    """A ``perf_counter`` that advances ``step`` seconds per read: every timed piece takes ``step`` (0: a clock
    that reads the same value twice, as a small run on a fast machine can see)."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now
