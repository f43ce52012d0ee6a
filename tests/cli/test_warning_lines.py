"""negmine's warnings on the command line: one ``warning: <message>`` line each, whatever reported them (a
``warnings.warn``, a logged warning); the Python API still reports them through ``warnings`` and ``logging``."""

from __future__ import annotations

import ast
import json
import logging
import re
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import negmine
from negmine import errors
from negmine.cli import build_app
from negmine.cli.warning_lines import cli_warnings

runner = CliRunner()

TOKENLESS = ("1 of 11 queries have no BM25 token (no word of two or more letters or digits that the corpus has), "
             "e.g. '?? !!': BM25 retrieves no document for them (mining with --retriever bm25 gives their pairs no "
             "negatives; --retriever dense or hybrid does)")


def _pairs(tmp_path: Path) -> Path:
    """10 pairs, one of them repeated (a logged warning), and one whose query has no BM25 word (a warnings.warn)."""
    rows = [{"anchor": f"cell protein {i}", "positive": f"cell protein gene study {i}"} for i in range(10)]
    rows += [rows[0], {"anchor": "?? !!", "positive": "gene study blood"}]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _mine(tmp_path: Path, *extra: str):
    return runner.invoke(build_app(), [
        "mine", "--pairs", str(_pairs(tmp_path)), "--retriever", "bm25", "--num-negatives", "2", "--keep-partial",
        "--no-sd-margin", "--workers", "1", "-o", str(tmp_path / "neg.jsonl"), *extra])


def test_mine_prints_a_logged_warning_and_a_python_warning_as_one_warning_line_each(tmp_path):
    result = _mine(tmp_path, "--no-progress")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path / 'p.jsonl'}: 1 repeated (query, positive) rows kept once",
        f"warning: {TOKENLESS}",
    ]


def test_the_installed_command_prints_the_same_lines(tmp_path):
    """In a process of its own, without pytest's warning and log capture: no Python-format warning, and no second
    copy of a logged warning from logging's last-resort handler."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(negmine.__file__).parents[1])}
    result = subprocess.run(
        [sys.executable, "-m", "negmine", "mine", "--pairs", str(_pairs(tmp_path)), "--retriever", "bm25",
         "--num-negatives", "2", "--keep-partial", "--no-sd-margin", "--workers", "1", "-o", str(tmp_path / "n.jsonl"),
         "--no-progress"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path / 'p.jsonl'}: 1 repeated (query, positive) rows kept once",
        f"warning: {TOKENLESS}",
    ]


def test_a_warning_line_between_progress_bars_starts_its_own_line(tmp_path):
    """tqdm.write clears the bar being drawn ("\\r") and draws it again below the line."""
    result = _mine(tmp_path, "--progress")
    assert result.exit_code == 0, result.output
    assert re.search(rf"(^|[\r\n])warning: {re.escape(TOKENLESS)}\n", result.stderr), result.stderr
    assert "UserWarning" not in result.stderr


def test_the_command_leaves_no_hook_or_handler_behind(tmp_path):
    shown, handlers = warnings.showwarning, list(logging.getLogger("negmine").handlers)
    assert _mine(tmp_path, "--no-progress").exit_code == 0
    assert warnings.showwarning is shown
    assert logging.getLogger("negmine").handlers == handlers


def test_the_python_api_still_warns_and_logs(tmp_path, caplog, capsys):
    from negmine.config import DataConfig, FilterConfig, MineConfig, OutputConfig, RetrieveConfig, SelectConfig
    from negmine.pipeline.mine import mine

    config = MineConfig(data=DataConfig(pairs=_pairs(tmp_path)), retrieve=RetrieveConfig(method="bm25"),
                        select=SelectConfig(num_negatives=2, keep_partial=True), filters=FilterConfig(sd_margin=None),
                        output=OutputConfig(tmp_path / "neg.jsonl"))
    with pytest.warns(UserWarning, match=re.escape(TOKENLESS)) as caught, caplog.at_level(logging.WARNING, "negmine"):
        mine(config)
    assert [w.category for w in caught if "BM25 token" in str(w.message)] == [errors.NegmineWarning]
    assert f"{tmp_path / 'p.jsonl'}: 1 repeated (query, positive) rows kept once" in caplog.messages
    assert "warning: " not in capsys.readouterr().err


def test_each_distinct_message_prints_once(capsys):
    """Also across a catch_warnings block, which resets the record of warnings shown (negmine has some)."""
    log = logging.getLogger("negmine.some.module")
    with cli_warnings():
        for _ in range(2):
            warnings.warn("the same", errors.NegmineWarning)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
            log.warning("logged %d", 1)
        warnings.warn("another", errors.WorkerFallbackWarning)
        log.error("broken")
    assert capsys.readouterr().err.splitlines() == [
        "warning: the same", "warning: logged 1", "warning: another", "error: broken"]


def test_info_logs_stay_hidden_and_other_libraries_warnings_keep_their_format(capsys):
    """Another library's warning goes to the showwarning in place before (Python's format; here a recorder)."""
    shown = []
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, category, filename, lineno, *rest: shown.append(
            (str(message), category, filename, lineno))
        with cli_warnings():
            logging.getLogger("negmine.some.module").info("an info line")
            warnings.warn_explicit("a library's note", UserWarning, "/lib/thing.py", 7)
            warnings.warn("negmine's note", errors.NegmineWarning)
    assert shown == [("a library's note", UserWarning, "/lib/thing.py", 7)]
    assert capsys.readouterr().err == "warning: negmine's note\n"


def test_warnings_filters_still_apply(capsys):
    with cli_warnings():
        warnings.simplefilter("ignore")
        warnings.warn("filtered out", errors.NegmineWarning)
    assert capsys.readouterr().err == ""


def _warn_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn":
            yield node


def test_every_warning_negmine_issues_has_a_negmine_category():
    """The command line rewords NegmineWarning subclasses only: a warnings.warn without one would print in
    Python's format (path, line, category and source line)."""
    source = Path(negmine.__file__).parent
    bad = []
    for path in sorted(source.rglob("*.py")):
        for call in _warn_calls(ast.parse(path.read_text(encoding="utf-8"))):
            category = call.args[1] if len(call.args) > 1 else next(
                (k.value for k in call.keywords if k.arg == "category"), None)
            name = getattr(category, "id", None)
            if not (name and issubclass(getattr(errors, name, type), errors.NegmineWarning)):
                bad.append(f"{path.relative_to(source)}:{call.lineno}")
    assert bad == []
