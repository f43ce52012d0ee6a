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
