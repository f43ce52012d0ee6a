"""The ANN recall benchmark runs end to end on a small shard and writes the table it prints."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(tmp_path, monkeypatch):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        module = importlib.import_module("ann_recall")
        monkeypatch.setattr(importlib.import_module("_common"), "RESULTS", tmp_path)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))


def run(bench, monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["ann_recall.py", "--docs", "12000", "--queries", "300", *args])
    bench.main()


def test_table_rows_per_index_with_and_without_a_target(bench, monkeypatch, tmp_path):
    run(bench, monkeypatch, "--indexes", "ivf", "--results-name", "t")
    rows = json.loads((tmp_path / "t.json").read_text())["rows"]
    assert [(r["index"], r["target recall"]) for r in rows] == [("flat (exact)", "-"), ("ivf", "-"), ("ivf", 0.9)]
    assert rows[2]["recall (all queries)"] >= 0.9 or rows[2]["breadth (nprobe / efSearch)"] == 0


def test_parts_time_the_fallback_pieces_against_a_full_build(bench, monkeypatch, tmp_path):
    run(bench, monkeypatch, "--parts", "--indexes", "ivf", "ivfpq", "--results-name", "p")
    rows = json.loads((tmp_path / "p.json").read_text())["rows"]
    assert [r["index"] for r in rows] == ["ivf", "ivfpq"]
    for row in rows:
        pieces = row["coarse k-means s"] + row["sample exact top-k s"]
        assert row["fallback to exact pays s"] == pytest.approx(pieces, abs=0.011) and row["full build s"] > 0
