from __future__ import annotations

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app

runner = CliRunner()


def test_report_of_a_training_directory_refuses_the_audit_only_options(tmp_path):
    # --max-table-rows was ignored for a training output (its report has no flags table), exit 0 or a read error
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    result = runner.invoke(build_app(), ["report", str(model_dir), "--max-table-rows", "50"])
    assert result.exit_code == 2
    assert result.stderr == (f"error: --max-table-rows would be ignored: {model_dir} is a directory (a negmine train "
                             "output), whose report has no table of rows; give an audit's flags JSONL, a mined file "
                             "or eval results JSON, or drop --max-table-rows\n")
    result = runner.invoke(build_app(), ["report", str(model_dir), "--summary", str(tmp_path / "s.json")])
    assert result.exit_code == 2
    assert result.stderr == (f"error: --summary names an audit or mining summary; {model_dir} is a directory (a negmine train "
                             "output), whose summary is read from it: drop --summary\n")


def test_report_of_a_mined_file_renders_its_page_beside_it(mined_demo, tmp_path):
    import shutil

    mined = tmp_path / "mined.jsonl"
    shutil.copy(mined_demo, mined)
    result = runner.invoke(build_app(), ["report", str(mined), "--max-table-rows", "3"])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {tmp_path / 'mined.summary.json'}: mining summary not found beside {mined}: "
                             "negmine mine writes it next to its output as <stem>.summary.json (--summary-json names "
                             "another path); give it with --summary, or mine the file again\n")
    summary = tmp_path / "run.json"
    shutil.copy(mined_demo.with_name("mined.summary.json"), summary)
    result = runner.invoke(build_app(), ["report", str(mined), "--summary", str(summary), "--max-table-rows", "3"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "mined.mining-report.html"
    assert result.stdout == f"report: {page}\n"
    assert "The 3 of 38 rows with the smallest gap" in page.read_text(encoding="utf-8")


def test_report_of_a_mining_summary_names_the_mined_file_it_describes(mined_demo, tmp_path):
    """A *.json file is read as eval results: `negmine report out/negatives.summary.json` (indented, as negmine mine
    writes it, or on one line) names the mined file to give instead, as it did before eval results were a source.
    It opened with "field 'comparison': missing;", as if the summary were damaged eval results."""
    import json

    summary = mined_demo.with_name("mined.summary.json")
    one_line = tmp_path / "one.summary.json"
    one_line.write_text(json.dumps(json.loads(summary.read_text())) + "\n")
    for path in (summary, one_line):
        result = runner.invoke(build_app(), ["report", str(path)])
        assert result.exit_code == 2
        assert result.stderr == (f"error: {path}: this is a negmine mine run's summary, "
                                 f"not eval results: give the mined file it describes, negmine report {mined_demo}\n")
    assert not list(tmp_path.glob("*.html")) and not list(summary.parent.glob("*.html"))


def test_report_of_a_file_that_is_none_of_its_sources_lists_them(tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": 1}\n')
    result = runner.invoke(build_app(), ["report", str(other)])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {other}:1: field 'kind': missing, and the row has no 'negative_ids' either: "
                             "neither a flag of an audit (kind 'false_negative' or 'noisy_positive') nor a mined row; "
                             "negmine report takes the *.flags.jsonl file negmine audit wrote, the native JSONL negmine "
                             "mine -o wrote (with its <stem>.summary.json beside it), the results JSON negmine eval -o "
                             "wrote (named *.json), or the output directory of a negmine train run\n")
    result = runner.invoke(build_app(), ["report", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and result.stderr == (
        f"error: {tmp_path / 'nope.jsonl'}: not found: give the *.flags.jsonl file negmine audit wrote, the native "
        "JSONL negmine mine -o wrote (with its <stem>.summary.json beside it), the results JSON negmine eval -o wrote "
        "(named *.json), or the output directory of a negmine train run\n")


@pytest.fixture
def eval_results(tmp_path):
    """negmine eval's results JSON for the demo's test split, two hash embedders standing in for models."""
    from negmine.config import EncoderConfig, EvalConfig
    from negmine.demo import demo_path
    from negmine.evaluate.api import evaluate
    from negmine.testing.hash_embedder import HashEmbedder

    config = EvalConfig(data_dir=demo_path(), split="test", models=("hash/a", "hash/b"),
                        output=tmp_path / "results.json",
                        encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False))
    evaluate(config, embedders={"hash/a": HashEmbedder(256), "hash/b": HashEmbedder(8)})
    return tmp_path / "results.json"


def test_report_of_eval_results_writes_the_page_beside_them(eval_results, tmp_path):
    result = runner.invoke(build_app(), ["report", str(eval_results), "--max-table-rows", "3"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "results.report.html"
    assert result.stdout == f"report: {page}\n"
    html = page.read_text(encoding="utf-8")
    assert "<title>negmine eval</title>" in html and "The 3 of 20 queries with the largest |delta| on ndcg@10" in html
    other = runner.invoke(build_app(), ["report", str(eval_results), "-o", str(tmp_path / "page.html")])
    assert other.exit_code == 0 and (tmp_path / "page.html").read_bytes() != page.read_bytes()  # all 20 rows


def test_report_of_eval_results_refuses_summary(eval_results, tmp_path):
    result = runner.invoke(build_app(), ["report", str(eval_results), "--summary", str(tmp_path / "s.json")])
    assert result.exit_code == 2
    assert result.stderr == (f"error: --summary names an audit or mining summary; {eval_results} is negmine eval's results "
                             "JSON, whose report reads nothing else: drop --summary\n")
    assert not (tmp_path / "results.report.html").exists()


def test_report_of_a_json_that_is_no_eval_results_names_the_file_and_what_it_takes(tmp_path):
    other = tmp_path / "negatives.summary.json"
    other.write_text('{"pairs_in": 3}')
    result = runner.invoke(build_app(), ["report", str(other)])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {other}: field 'comparison': missing; this is not a negmine eval results JSON "
                             "(the file negmine eval ... -o FILE.json writes, with 'comparison', 'data' and 'config'); "
                             "negmine report takes the *.flags.jsonl file negmine audit wrote, the native JSONL negmine "
                             "mine -o wrote (with its <stem>.summary.json beside it), the results JSON negmine eval -o "
                             "wrote (named *.json), or the output directory of a negmine train run\n")
    missing = runner.invoke(build_app(), ["report", str(tmp_path / "results.json")])
    assert missing.exit_code == 2
    assert missing.stderr == (f"error: {tmp_path / 'results.json'}: not found: give the *.flags.jsonl file negmine "
                              "audit wrote, the native JSONL negmine mine -o wrote (with its <stem>.summary.json beside "
                              "it), the results JSON negmine eval -o wrote (named *.json), or the output directory of a "
                              "negmine train run\n")
