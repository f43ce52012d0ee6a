"""The CPU-workers benchmark times the same work in both rows of a stage."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture
def bench(benchmarks):
    return benchmarks("cpu_workers")


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
