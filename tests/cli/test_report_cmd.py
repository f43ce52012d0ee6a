from __future__ import annotations

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
                             "output), whose report has no flags table; give the flags JSONL of an audit, or drop "
                             "--max-table-rows\n")
    result = runner.invoke(build_app(), ["report", str(model_dir), "--summary", str(tmp_path / "s.json")])
    assert result.exit_code == 2
    assert result.stderr == (f"error: --summary names an audit summary; {model_dir} is a directory (a negmine train "
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


def test_report_of_a_file_that_is_none_of_its_sources_lists_them(tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": 1}\n')
    result = runner.invoke(build_app(), ["report", str(other)])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {other}:1: field 'kind': missing, and the row has no 'negative_ids' either: "
                             "neither a flag of an audit (kind 'false_negative' or 'noisy_positive') nor a mined row; "
                             "negmine report takes the *.flags.jsonl file negmine audit wrote, the native JSONL negmine "
                             "mine -o wrote (with its <stem>.summary.json beside it), or the output directory of a "
                             "negmine train run\n")
    result = runner.invoke(build_app(), ["report", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and result.stderr == (
        f"error: {tmp_path / 'nope.jsonl'}: not found: give the *.flags.jsonl file negmine audit wrote, the native "
        "JSONL negmine mine -o wrote (with its <stem>.summary.json beside it), or the output directory of a negmine "
        "train run\n")
