"""The ``negmine`` app itself: ``--version`` and ``python -m negmine``, as an installed user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import negmine
from negmine.cli import build_app

SRC = Path(negmine.__file__).resolve().parents[1]


def test_version_option_prints_the_package_version_and_exits_0():
    result = CliRunner().invoke(build_app(), ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"negmine {negmine.__version__}"


def test_version_option_needs_no_command_and_wins_over_one():
    result = CliRunner().invoke(build_app(), ["--version", "mine"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"negmine {negmine.__version__}"


def test_python_dash_m_negmine_runs_the_cli(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "negmine", "--version"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"negmine {negmine.__version__}"
    helped = subprocess.run([sys.executable, "-m", "negmine", "--help"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0, helped.stderr
    assert "Usage: python -m negmine" in helped.stdout and "mine" in helped.stdout
