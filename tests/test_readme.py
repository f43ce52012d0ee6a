"""The README's quickstart, run as written: its bash block and its Python snippet, with the bundled model.

Slow (the real all-MiniLM-L6-v2 encodes the demo corpus and trains a few steps): ``python -m pytest -m slow``.
A command renamed, an option dropped or an output moved breaks this test before it breaks a reader.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a markdown text (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(heading)}[^\n]*\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if match is None:
        raise ValueError(f"README.md has no '## {heading}' section")
    return match.group(1)


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def test_section_and_code_blocks_parse_markdown():
    text = "# t\n## Quickstart (x)\nintro\n```bash\necho 1\n```\n```python\nx = 1\n```\n## Next\n```bash\nno\n```\n"
    body = section(text, "Quickstart")
    assert code_blocks(body, "bash") == ["echo 1\n"]
    assert code_blocks(body, "python") == ["x = 1\n"]
    with pytest.raises(ValueError, match="no '## Missing' section"):
        section(text, "Missing")


def test_readme_set_up_is_the_ci_command():
    set_up = code_blocks(section(README.read_text(encoding="utf-8"), "Set up"), "bash")[0].splitlines()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert set_up[0] == 'pip install -e ".[dev]" -c constraints/cpu.txt'
    assert set_up[1] == "python -m pytest -q"
    for line in set_up:
        assert line in ci, line


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The quickstart's bash block run verbatim in a fresh folder outside the checkout (the demo's path comes
    from the installed package) with an empty embedding cache, as on a clean checkout."""
    work = tmp_path_factory.mktemp("quickstart")
    script = code_blocks(section(README.read_text(encoding="utf-8"), "Quickstart"), "bash")[0]
    env = {**os.environ, "NEGMINE_CACHE": str(work / "cache")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"quickstart failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return work, done


@pytest.mark.slow
def test_quickstart_bash_block_writes_every_output_it_names(quickstart):
    work, done = quickstart
    out = work / "out"
    rows = [json.loads(line) for line in (out / "negatives.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows and all(len(row["negatives"]) == 5 for row in rows)
    assert json.loads((out / "negatives.summary.json").read_text(encoding="utf-8"))["pairs_out"] == len(rows)
    assert (out / "audit" / "audit.report.html").is_file() and (out / "audit" / "audit.flags.jsonl").is_file()
    assert (out / "model" / "training_report.html").is_file()
    table = done.stdout.splitlines()  # eval: one row per model, the first is the baseline
    assert any(line.startswith("all-MiniLM-L6-v2 (baseline)  20 ") for line in table), done.stdout[-3000:]
    assert any(line.startswith("model ") for line in table), done.stdout[-3000:]
    assert "p-values vs baseline 'all-MiniLM-L6-v2'" in done.stdout


def run_python_block(heading: str, folder: Path) -> None:
    """Execute the first Python block of the README section ``heading`` with ``folder`` as working directory."""
    snippet = code_blocks(section(README.read_text(encoding="utf-8"), heading), "python")[0]
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        exec(compile(snippet, f"README.md {heading}", "exec"), {})
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_quickstart_python_snippet_runs(quickstart, capsys):
    work, _ = quickstart
    run_python_block("Quickstart", work)
    assert int(capsys.readouterr().out.strip()) > 0
    assert (work / "out" / "negatives.jsonl").is_file()


@pytest.mark.slow
def test_train_and_evaluate_python_loop_runs_after_the_quickstart(quickstart, capsys):
    """The "Train and evaluate" section's Python loop, in the folder the quickstart left (as a reader runs it)."""
    work, _ = quickstart
    run_python_block("Train and evaluate", work)
    printed = capsys.readouterr().out
    assert re.search(r"^\[(0\.\d+(, )?)+\]$", printed, flags=re.M), printed[-2000:]
    assert "all-MiniLM-L6-v2 (baseline)" in printed
    assert (work / "out" / "model-py" / "training_report.html").is_file()
