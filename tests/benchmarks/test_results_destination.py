"""A benchmark run with other arguments than its documented run writes to results/scratch/, not over the
committed figures the README quotes (a user's ``cpu_workers.py --docs 5000`` replaced ``cpu_workers.json``)."""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))
HELPERS = sorted(p for p in BENCHMARKS.glob("_*.py") if p.name != "_common.py")  # shared by scripts: _pilot
WITH_VARIANTS = ("ann_recall", "encode_throughput", "scale_synthetic", "train_scifact")


def small_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--index-docs", type=int, default=50)
    parser.add_argument("--engines", nargs="+", default=["local", "ray"])
    parser.add_argument("--parts", action="store_true")
    parser.add_argument("--results-name", default="")
    return parser


def test_changed_arguments_name_each_option_that_differs_from_the_documented_run(benchmarks):
    changed_arguments = benchmarks("_common").changed_arguments
    parser = small_parser()
    assert changed_arguments(parser, parser.parse_args([])) == []
    assert changed_arguments(parser, parser.parse_args(["--docs", "1000"])) == []  # the default, given
    args = parser.parse_args(["--docs", "5000", "--index-docs", "7", "--engines", "local", "--parts"])
    assert changed_arguments(parser, args) == ["--docs 5000", "--index-docs 7", "--engines local", "--parts"]


def test_neutral_options_and_a_documented_variant_count_as_documented(benchmarks):
    changed_arguments = benchmarks("_common").changed_arguments
    parser = small_parser()
    named = parser.parse_args(["--results-name", "mine"])
    assert changed_arguments(parser, named) == ["--results-name mine"]
    assert changed_arguments(parser, named, neutral=("results_name",)) == []
    variant = ["--parts", "--engines", "local"]
    assert changed_arguments(parser, parser.parse_args(variant), variant) == []
    assert changed_arguments(parser, parser.parse_args(["--parts"]), variant) == ["--engines local ray"]
    assert changed_arguments(parser, parser.parse_args(["--engines", "local"]), variant) == ["no --parts"]


def test_a_changed_run_writes_to_scratch_and_leaves_the_committed_file(benchmarks, tmp_path, capsys):
    common = benchmarks("_common")
    committed = tmp_path / "cpu_workers.json"
    committed.write_text('{"committed": true}\n')
    path = common.write_result("cpu_workers", {"docs": 5000}, changed=["--docs 5000"])
    assert path == tmp_path / "scratch" / "cpu_workers.json" and json.loads(path.read_text())["docs"] == 5000
    assert json.loads(path.read_text())["changed_arguments"] == ["--docs 5000"]
    assert json.loads(path.read_text())["command"][0] == Path(sys.argv[0]).name  # the file says which run made it
    assert committed.read_text() == '{"committed": true}\n'
    assert capsys.readouterr().out == (f"arguments differ from the documented run (--docs 5000): wrote {path}; "
                                       "the committed results are untouched\n")


def test_the_documented_run_writes_to_results(benchmarks, tmp_path, capsys):
    path = benchmarks("_common").write_result("cpu_workers", {"docs": 100_000}, changed=[])
    assert path == tmp_path / "cpu_workers.json" and json.loads(path.read_text())["docs"] == 100_000
    assert not (tmp_path / "scratch").exists()
    assert capsys.readouterr().out == f"wrote {path}\n"


def write_result_calls(script: Path) -> list[ast.Call]:
    """The script's calls of ``write_result``, and those of the helper modules it imports (``import _pilot``: the
    pilots write their table through ``_pilot.report``)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    helpers = [ast.parse(h.read_text(encoding="utf-8")) for h in HELPERS if h.stem in imported]
    return [node for module in (tree, *helpers) for node in ast.walk(module)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "write_result"]


@pytest.mark.parametrize("script", SCRIPTS + HELPERS, ids=lambda p: p.name)
def test_every_benchmark_tells_write_result_which_arguments_changed(script):
    """Checked here, not after an hour of benchmark: ``changed`` is required, so a call without it fails."""
    calls = write_result_calls(script)
    assert calls, f"{script.name} writes no result"
    assert all("changed" in {k.arg for k in call.keywords} for call in calls)


def test_a_script_writing_through_a_helper_is_checked_on_the_helpers_calls(tmp_path, monkeypatch):
    """curriculum.py and evidence_windows.py call no write_result themselves: their helper's calls count, and a
    helper call without ``changed`` fails the script."""
    helper, script = tmp_path / "_helper.py", tmp_path / "pilot.py"
    helper.write_text("def report(): write_result('x', {})\n")
    script.write_text("import _helper\n_helper.report()\n")
    monkeypatch.setattr(sys.modules[__name__], "HELPERS", [helper])
    calls = write_result_calls(script)
    assert len(calls) == 1 and "changed" not in {k.arg for k in calls[0].keywords}
    script.write_text("_helper = None\n")
    assert write_result_calls(script) == []


@pytest.mark.parametrize("name", WITH_VARIANTS)
def test_each_documented_variant_parses_to_its_own_documented_run(benchmarks, name):
    bench, changed_arguments = benchmarks(name), benchmarks("_common").changed_arguments
    for argv in bench.DOCUMENTED.values():
        parser = bench.build_parser()
        assert changed_arguments(parser, parser.parse_args(argv), argv) == []
        assert changed_arguments(parser, parser.parse_args(argv)) != []  # not the plain run


def test_train_scifact_counts_work_and_results_name_as_documented_and_only_as_not(benchmarks):
    bench, changed_arguments = benchmarks("train_scifact"), benchmarks("_common").changed_arguments
    parser = bench.build_parser()
    heldout = parser.parse_args(["--heldout", "--work", "/tmp/elsewhere"])
    assert changed_arguments(parser, heldout, bench.DOCUMENTED["train_scifact_heldout"], bench.NEUTRAL) == []
    partial = parser.parse_args(["--only", "negmine", "--results-name", "train_scifact_s41"])
    assert changed_arguments(parser, partial, (), bench.NEUTRAL) == ["--only negmine"]
