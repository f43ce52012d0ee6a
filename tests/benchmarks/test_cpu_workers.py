"""The CPU-workers benchmark times the same work in both rows of a stage."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("cpu_workers")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_both_signature_rows_time_every_signature(bench, monkeypatch):
    """Below PARALLEL_MIN documents ``prefetch`` computes nothing (the lookups do), so timing ``prefetch`` alone
    timed no work: ``--docs 5000`` printed the 2-worker row at 0.000 s, 2,509x one process."""
    near_dup = importlib.import_module("negmine.audit.near_dup")
    signed = [0]
    real_signatures = near_dup.signatures

    def counting(texts, *args, **kwargs):
        signed[0] += len(texts)
        return real_signatures(texts, *args, **kwargs)

    per_timing = []
    real_timed = bench.timed

    def recording(function):
        before = signed[0]
        value = real_timed(function)
        per_timing.append(signed[0] - before)
        return value

    monkeypatch.setattr(near_dup, "signatures", counting)
    monkeypatch.setattr(bench, "timed", recording)
    texts = [f"document number {i} about topic {i % 7} with a few more words" for i in range(40)]
    rows = bench.signatures_rows(texts, workers=2)
    assert per_timing == [40, 40]
    assert [row[1] for row in rows] == [1, 2] and rows[1][-1] is True
