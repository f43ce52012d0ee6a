"""The CPU-workers benchmark times the same work in both rows of a stage."""

from __future__ import annotations

import importlib
import types

import numpy as np
import pytest

from .conftest import FastClock


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


class _Index:
    """Stands for a BM25 index in ``search_rows``: the same top-k whatever ``search_workers``."""

    search_workers = 1

    def search(self, queries, depth):
        return types.SimpleNamespace(indices=np.zeros((len(queries), 1)), scores=np.ones((len(queries), 1)))


TEXTS = [f"document number {i} about topic {i % 7} with a few more words" for i in range(40)]


@pytest.mark.parametrize("step, rate, faster", [(0.001, 40_000, 1.0), (0.0, "-", "-")])
def test_stages_faster_than_the_clock_still_give_their_rows(bench, monkeypatch, step, rate, faster):
    """The rates (items / seconds) and speed-ups (one process / workers) divided by the timings unguarded: a clock
    that saw no time pass (a small run, a fast machine) raised ZeroDivisionError before any table (as
    ann_recall.py did in CI); such a rate is "-"."""
    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=FastClock(step)))
    signatures = bench.signatures_rows(TEXTS, workers=2)
    search = bench.search_rows(_Index(), "search", 2, TEXTS, per=40)
    for rows in (signatures, search):
        assert [row[1:] for row in rows] == [[1, 0.0, rate, 1.0, "-"], [2, 0.0, rate, faster, True]]
