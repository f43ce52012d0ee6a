"""The ANN recall benchmark runs end to end on a small shard and writes the table it prints."""

from __future__ import annotations

import importlib
import json
import sys
import types

import pytest

from .conftest import FastClock


@pytest.fixture
def bench(benchmarks):
    return benchmarks("ann_recall")


def run(bench, monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["ann_recall.py", "--docs", "12000", "--queries", "300", *args])
    bench.main()


def run_small(bench, monkeypatch, *args: str) -> None:
    """``main`` with ``args`` as given, on 2,000 x 50 vectors whatever ``--docs`` and ``--queries`` say."""
    real = bench.vectors
    monkeypatch.setattr(bench, "vectors", lambda n_docs, n_queries, noise=1.2: real(2_000, 50, noise))
    monkeypatch.setattr(sys, "argv", ["ann_recall.py", *args])
    bench.main()


def test_table_rows_per_index_with_and_without_a_target(bench, monkeypatch, tmp_path):
    run(bench, monkeypatch, "--indexes", "ivf", "--results-name", "t")
    rows = json.loads((tmp_path / "scratch" / "t.json").read_text())["rows"]  # not the documented run
    assert [(r["index"], r["target recall"]) for r in rows] == [("flat (exact)", "-"), ("ivf", "-"), ("ivf", 0.9)]
    assert rows[2]["recall (all queries)"] >= 0.9 or rows[2]["breadth (nprobe / efSearch)"] == 0


def test_parts_time_the_fallback_pieces_against_a_full_build(bench, monkeypatch, tmp_path):
    run(bench, monkeypatch, "--parts", "--indexes", "ivf", "ivfpq", "--results-name", "p")
    rows = json.loads((tmp_path / "scratch" / "p.json").read_text())["rows"]
    assert [r["index"] for r in rows] == ["ivf", "ivfpq"]
    for row in rows:
        pieces = row["coarse k-means s"] + row["sample exact top-k s"]
        assert row["fallback to exact pays s"] == pytest.approx(pieces, abs=0.011) and row["full build s"] > 0


def test_a_scaled_down_run_writes_to_scratch_and_leaves_the_committed_result_alone(bench, monkeypatch, tmp_path,
                                                                                   capsys):
    """``--docs 5000`` used to overwrite results/ann_recall.json, the figures the README quotes."""
    committed = tmp_path / "ann_recall.json"
    committed.write_text('{"committed": true}\n')
    run_small(bench, monkeypatch, "--docs", "5000")
    assert committed.read_text() == '{"committed": true}\n'
    assert json.loads((tmp_path / "scratch" / "ann_recall.json").read_text())["docs"] == 5000
    scratch = tmp_path / "scratch" / "ann_recall.json"
    assert (f"arguments differ from the documented run (--docs 5000): wrote {scratch}; "
            "the committed results are untouched") in capsys.readouterr().out


def test_the_documented_runs_write_to_results(bench, monkeypatch, tmp_path):
    run_small(bench, monkeypatch)
    assert json.loads((tmp_path / "ann_recall.json").read_text())["queries"] == 20_000
    monkeypatch.setattr(importlib.import_module("negmine.retrieve.ann"), "build_index", lambda *a: None)  # IVF-PQ: 20 s
    run_small(bench, monkeypatch, "--parts")  # names its own file
    run_small(bench, monkeypatch, "--noise", "0.5", "--results-name", "ann_recall_clustered")
    run_small(bench, monkeypatch, "--docs", "200000", "--queries", "2000", "--indexes", "hnsw",
              "--results-name", "ann_recall_hnsw")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ann_recall.json", "ann_recall_clustered.json", "ann_recall_hnsw.json", "ann_recall_parts.json"]


def test_a_documented_name_with_other_arguments_goes_to_scratch(bench, monkeypatch, tmp_path):
    run_small(bench, monkeypatch, "--noise", "0.5", "--docs", "5000", "--results-name", "ann_recall_clustered")
    run_small(bench, monkeypatch, "--parts", "--indexes", "ivf")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == [
        "scratch/ann_recall_clustered.json", "scratch/ann_recall_parts.json"]


@pytest.mark.parametrize("step, faster", [(0.001, 1.0), (0.0, "-")])
def test_searches_faster_than_the_rounding_still_give_a_ratio(bench, monkeypatch, tmp_path, step, faster):
    """CI's machine searched the small shard in under 5 ms: the seconds rounded to 0.0 and the ratio divided by it."""
    # the script's clock alone: time.perf_counter itself is read by whatever else runs in this process meanwhile
    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=FastClock(step)))
    run_small(bench, monkeypatch, "--indexes", "ivf", "--results-name", "fast")
    rows = json.loads((tmp_path / "scratch" / "fast.json").read_text())["rows"]
    assert [r["x exact"] for r in rows] == [1.0, faster, faster]
    assert [r["seconds"] for r in rows] == [round(step, 3)] * 3
