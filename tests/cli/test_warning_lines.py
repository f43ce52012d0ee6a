"""negmine's warnings on the command line: one ``warning: <message>`` line each; the Python API reports every one
as a ``warnings.warn`` with a NegmineWarning category (its loggers carry progress only), so one filter covers all."""

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
# these tests check how negmine's warnings print: under Python's default filter, as a user's command runs, not the
# error filter of pyproject's pytest settings
pytestmark = pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")

TOKENLESS = ("1 of 11 queries has no BM25 token (no word of two or more letters or digits that the corpus has), "
             "e.g. '?? !!': BM25 retrieves no document for it (mining with method='bm25' (--retriever bm25) gives "
             "its pairs no negatives; method='dense' or 'hybrid' (--retriever dense or hybrid) does)")


def _pairs(tmp_path: Path) -> Path:
    """10 pairs, one of them repeated (a warning of the pairs reader, once a logged one), and one whose query has no
    BM25 word (a warning of the BM25 index)."""
    rows = [{"anchor": f"cell protein {i}", "positive": f"cell protein gene study {i}"} for i in range(10)]
    rows += [rows[0], {"anchor": "?? !!", "positive": "gene study blood"}]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _mine(tmp_path: Path, *extra: str):
    return runner.invoke(build_app(), [
        "mine", "--pairs", str(_pairs(tmp_path)), "--retriever", "bm25", "--num-negatives", "2", "--keep-partial",
        "--no-sd-margin", "--workers", "1", "-o", str(tmp_path / "neg.jsonl"), *extra])


def test_mine_prints_each_warning_as_one_warning_line(tmp_path):
    result = _mine(tmp_path, "--no-progress")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path / 'p.jsonl'}: 1 repeated (query, positive) row kept once",
        f"warning: {TOKENLESS}",
    ]


def test_the_installed_command_prints_the_same_lines(tmp_path):
    """In a process of its own, without pytest's warning and log capture: no Python-format warning, and no second
    copy of a warning from logging's last-resort handler."""
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
        f"warning: {tmp_path / 'p.jsonl'}: 1 repeated (query, positive) row kept once",
        f"warning: {TOKENLESS}",
    ]


def test_a_warning_line_between_progress_bars_starts_its_own_line(tmp_path):
    """tqdm.write clears the bar being drawn ("\\r") and draws it again below the line."""
    result = _mine(tmp_path, "--progress")
    assert result.exit_code == 0, result.output
    assert re.search(rf"(^|[\r\n])warning: {re.escape(TOKENLESS)}\n", result.stderr), result.stderr
    assert "UserWarning" not in result.stderr


def test_in_a_log_each_bar_writes_lines_ending_with_its_full_count(tmp_path):
    """stderr is no terminal here, as in ``2> run.log``: negmine's bars write whole lines (no carriage return), the
    last of each stage with its full count, bm25s' own bars none, and each warning is one line of its own."""
    result = _mine(tmp_path, "--progress")
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr and result.stderr.endswith("\n")
    lines = result.stderr.splitlines()
    assert f"warning: {TOKENLESS}" in lines
    last = {line.split(":")[0]: line for line in lines if not line.startswith("warning: ")}
    assert sorted(last) == ["bm25 search", "bm25 tokenise", "select"], lines
    assert all(re.search(r"\| (\d+)/\1 \[", line) for line in last.values()), last


def test_the_command_leaves_no_hook_or_handler_behind(tmp_path):
    shown, handlers = warnings.showwarning, list(logging.getLogger("negmine").handlers)
    assert _mine(tmp_path, "--no-progress").exit_code == 0
    assert warnings.showwarning is shown
    assert logging.getLogger("negmine").handlers == handlers


def test_a_warnings_filter_silences_every_warning_of_a_command(tmp_path):
    """The repeated-rows line was a logged warning, which neither a warnings filter nor ``PYTHONWARNINGS=ignore``
    silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=errors.NegmineWarning)
        result = _mine(tmp_path, "--no-progress")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_the_python_api_warns_with_a_negmine_category_only(tmp_path, caplog, capsys):
    from negmine.config import DataConfig, FilterConfig, MineConfig, OutputConfig, RetrieveConfig, SelectConfig
    from negmine.pipeline.mine import mine

    config = MineConfig(data=DataConfig(pairs=_pairs(tmp_path)), retrieve=RetrieveConfig(method="bm25"),
                        select=SelectConfig(num_negatives=2, keep_partial=True), filters=FilterConfig(sd_margin=None),
                        output=OutputConfig(tmp_path / "neg.jsonl"))
    repeated = f"{tmp_path / 'p.jsonl'}: 1 repeated (query, positive) row kept once"
    # pytest.warns re-emits the warnings its match leaves out: the outer block takes the repeated-rows one
    with pytest.warns(errors.NegmineWarning, match=re.escape(repeated)), \
            pytest.warns(UserWarning, match=re.escape(TOKENLESS)) as caught, \
            caplog.at_level(logging.WARNING, "negmine"):
        mine(config)
    assert [w.category for w in caught if "BM25 token" in str(w.message)] == [errors.NegmineWarning]
    assert [w.category for w in caught if "row kept once" in str(w.message)] == [errors.NegmineWarning]
    assert repeated in [str(w.message) for w in caught]
    assert caplog.records == [], "no logged warning besides"
    assert "warning: " not in capsys.readouterr().err


def test_each_distinct_message_prints_once(capsys):
    """Also across a catch_warnings block, which resets the record of warnings shown (negmine has some)."""
    with cli_warnings():
        for _ in range(2):
            warnings.warn("the same", errors.NegmineWarning)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
            warnings.warn("from another place", errors.NegmineWarning)
        warnings.warn("another", errors.WorkerFallbackWarning)
    assert capsys.readouterr().err.splitlines() == ["warning: the same", "warning: from another place",
                                                    "warning: another"]


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


LOG_WARNING_METHODS = {"warning", "warn", "error", "exception", "critical", "fatal"}


MATH_MODULES = {"math", "torch", "np", "numpy"}
"""Modules whose ``log`` is the logarithm, not a logger's."""


def _logged_warnings(tree: ast.AST):
    """Calls such as ``logger.warning(...)``, ``logging.error(...)`` or ``logger.log(logging.WARNING, ...)`` (any
    level but a literal INFO or DEBUG: a ``record.levelno`` passed on may be a warning). ``super().log(...)`` is an
    override handing on to its base class (the trainer's ``log(logs)`` of loss entries), not a logger."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id == "warnings":
            continue
        if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
            continue
        if isinstance(owner, ast.Name) and owner.id in MATH_MODULES:  # math.log(x): the natural logarithm
            continue
        if node.func.attr in LOG_WARNING_METHODS - {"warn"} or (node.func.attr == "warn" and isinstance(
                owner, ast.Name) and owner.id in {"logger", "log", "logging"}):
            yield node
        elif node.func.attr == "log" and not (node.args and getattr(node.args[0], "attr", "") in {"INFO", "DEBUG"}):
            yield node


@pytest.mark.parametrize("source, found", [
    ("logger.warning('x')", 1), ("logging.error('x')", 1), ("log.warn('x')", 1),
    ("logger.log(logging.WARNING, 'x')", 1), ("logger.log(record.levelno, 'x')", 1),
    ("logger.log(logging.INFO, 'x')", 0), ("warnings.warn('x', NegmineWarning)", 0),
    ("super().log(logs, start_time)", 0), ("self.log(logs)", 1),
    ("math.log(2.0)", 0), ("torch.log(x)", 0), ("np.log(x)", 0),
])
def test_the_logged_warning_finder(source, found):
    """The finder the test below relies on: a logger's warning is found, a trainer override's super().log is not."""
    assert len(list(_logged_warnings(ast.parse(source)))) == found


def test_negmine_logs_no_warning():
    """A user-facing warning is a ``warnings.warn`` with a NegmineWarning category, never a logged one: one filter
    (``warnings.filterwarnings(..., category=NegmineWarning)``) then silences, records or raises all of them, and the
    command line prints them through one hook. The loggers carry progress (INFO, DEBUG) only."""
    source = Path(negmine.__file__).parent
    bad = [f"{path.relative_to(source)}:{call.lineno}" for path in sorted(source.rglob("*.py"))
           for call in _logged_warnings(ast.parse(path.read_text(encoding="utf-8")))]
    assert bad == []
