"""TQDM_MININTERVAL is checked before a run's work: an invalid value was refused only when the first progress bar
opened, after the data (minutes on a big corpus) had loaded, and one that is no number (``abc``) failed tqdm's
import with a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.errors import ConfigError
from negmine.progress_interval import check_progress_interval

runner = CliRunner()


def message(value: str) -> str:
    return (f"TQDM_MININTERVAL={value!r} is not a number of seconds: give one of 0 or more (the least time between "
            "two progress lines in a log; e.g. TQDM_MININTERVAL=60), or unset it (a line every 30 s)")


class Loaded(Exception):
    """Raised by a loader the test patched: the run got past its checks to its data."""


def _loaded(*args, **kwargs):
    raise Loaded


@pytest.fixture
def loaders(monkeypatch):
    """Every command's first reading of its data fails the test: BEIR and pairs data (mine, eval), an audited
    mined file's rows, a training file's rows (``negmine train``'s preflight read, and ``train``'s own)."""
    import negmine.audit.api
    import negmine.io.load
    import negmine.train.api
    import negmine.train.preflight

    monkeypatch.setattr(negmine.io.load, "load_data", _loaded)
    monkeypatch.setattr(negmine.audit.api, "check_input", _loaded)
    monkeypatch.setattr(negmine.train.preflight, "check_training_file", _loaded)
    monkeypatch.setattr(negmine.train.api, "load_train_data", _loaded)


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A BEIR folder and a mined file (never read: the loaders are patched)."""
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i}" for i in range(12)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein"}, [("q1", "d0", 1)])
    mined = tmp_path / "mined.jsonl"
    mined.write_text('{"query_id": "q1"}\n', encoding="utf-8")
    return beir, mined


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    beir, mined = _inputs(tmp_path)
    return {
        "mine": ["mine", str(beir), "--retriever", "bm25", "-o", str(tmp_path / "neg.jsonl")],
        "audit": ["audit", str(mined), "--judge", "score", "--out-dir", str(tmp_path / "a")],
        "eval": ["eval", str(beir), "--model", "bm25"],
        "train": ["train", str(mined), "-o", str(tmp_path / "model")],
    }


@pytest.mark.parametrize("command", ["mine", "audit", "eval", "train"])
@pytest.mark.parametrize("value", ["abc", "-1"])
def test_every_command_refuses_the_value_before_it_reads_its_data(tmp_path, monkeypatch, loaders, command, value):
    monkeypatch.setenv("TQDM_MININTERVAL", value)
    result = runner.invoke(build_app(), _commands(tmp_path)[command])  # bars on, stderr no terminal: lines
    assert not isinstance(result.exception, Loaded), f"{command} read its data before it refused {value!r}"
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message(value)}\n"


def _api_runs(tmp_path: Path) -> dict:
    from negmine.audit.api import run_audit
    from negmine.cli.audit_cmd import default_paths
    from negmine.config import (
        AuditConfig, DataConfig, EvalConfig, JudgeConfig, MineConfig, OutputConfig, RetrieveConfig, TrainConfig,
    )
    from negmine.evaluate.api import evaluate
    from negmine.pipeline.mine import mine
    from negmine.train.api import train

    beir, mined = _inputs(tmp_path)
    return {
        "mine": lambda: mine(MineConfig(data=DataConfig(data_dir=beir), retrieve=RetrieveConfig(method="bm25"),
                                        output=OutputConfig(path=tmp_path / "neg.jsonl"))),
        "run_audit": lambda: run_audit(AuditConfig(input=mined, judges=JudgeConfig(judges=("score",)),
                                                   **default_paths(mined, tmp_path / "a"))),
        "evaluate": lambda: evaluate(EvalConfig(data_dir=beir, split="test", models=("bm25",))),
        "train": lambda: train(TrainConfig(train_file=mined, output_dir=tmp_path / "model")),
    }


@pytest.mark.parametrize("entry_point", ["mine", "run_audit", "evaluate", "train"])
def test_the_api_entry_points_refuse_it_before_they_read_data(tmp_path, monkeypatch, loaders, entry_point):
    run = _api_runs(tmp_path)[entry_point]
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # the bars' stream: no terminal, so lines
    monkeypatch.setenv("TQDM_MININTERVAL", "-1")
    with pytest.raises(ConfigError) as info:
        run()
    assert str(info.value) == message("-1")


@pytest.mark.parametrize("value", ["abc", ""])
def test_a_value_tqdms_import_fails_on_is_refused_with_bars_off_too(monkeypatch, value):
    """tqdm reads TQDM_MININTERVAL as it is imported, and fails on a text that is no number (set empty too) with a
    ValueError traceback; once it is imported, it reads it no more."""
    monkeypatch.setenv("TQDM_MININTERVAL", value)
    monkeypatch.delitem(sys.modules, "tqdm")  # as in a new process: not imported yet
    with pytest.raises(ConfigError) as info:
        check_progress_interval(show=False)
    assert str(info.value) == message(value)
    monkeypatch.undo()
    monkeypatch.setenv("TQDM_MININTERVAL", value)
    check_progress_interval(show=False)  # tqdm imported: neither it nor a bar reads it


def test_a_number_tqdm_takes_is_left_to_it_on_a_terminal(monkeypatch):
    """``-1`` is refused where the bars write lines to a log, not on a terminal, where tqdm draws them: as before."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TQDM_MININTERVAL", "-1")
    monkeypatch.setattr(sys, "stderr", Terminal())
    check_progress_interval(show=True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with pytest.raises(ConfigError):
        check_progress_interval(show=True)
    check_progress_interval(show=False)  # no bar: nothing reads it
    monkeypatch.setenv("TQDM_MININTERVAL", "2.5")
    check_progress_interval(show=True)


def test_a_new_process_says_so_where_tqdms_import_failed_with_a_traceback(tmp_path):
    """``negmine mine ... --no-progress`` with TQDM_MININTERVAL=abc: a ValueError traceback from tqdm's import (the
    BM25 library imports it), or, with a corpus that cannot load, that file's error; now the variable's, first."""
    beir, _ = _inputs(tmp_path)
    (beir / "corpus.jsonl").write_text("{not json\n", encoding="utf-8")  # loading it would fail: another message
    env = {**os.environ, "TQDM_MININTERVAL": "abc", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "negmine", "mine", str(beir), "--retriever", "bm25", "--no-progress",
                           "-o", str(tmp_path / "neg.jsonl")], env=env, capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stderr) == (2, f"error: {message('abc')}\n")


def test_another_tqdm_variable_its_import_fails_on_is_named(monkeypatch):
    """tqdm casts every ``TQDM_<option>`` to the option's type as it is imported: ``TQDM_NCOLS=abc`` was a ValueError
    traceback (``invalid literal for int()``) naming no variable, from whichever library imported tqdm first."""
    monkeypatch.setenv("TQDM_NCOLS", "abc")
    monkeypatch.setenv("TQDM_DESC", "a text option")  # a text: tqdm takes it, and it is not named
    for name in [m for m in sys.modules if m == "tqdm" or m.startswith("tqdm.")]:
        monkeypatch.delitem(sys.modules, name)  # as in a new process: not imported yet
    with pytest.raises(ConfigError) as info:
        check_progress_interval(show=False)
    assert str(info.value) == (
        "tqdm cannot start: TQDM_NCOLS='abc' is not a value of that option (invalid literal for int() with base 10: "
        "'abc'); tqdm reads every TQDM_<option> environment variable as its option (TQDM_NCOLS=80, TQDM_DISABLE=1): "
        "give it a value of the option's type, or unset it")


def test_a_new_process_names_another_tqdm_variable_before_it_reads_data(tmp_path):
    beir, _ = _inputs(tmp_path)
    (beir / "corpus.jsonl").write_text("{not json\n", encoding="utf-8")  # loading it would fail: another message
    env = {**os.environ, "TQDM_NCOLS": "abc", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "negmine", "mine", str(beir), "--retriever", "bm25", "--no-progress",
                           "-o", str(tmp_path / "neg.jsonl")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: tqdm cannot start: TQDM_NCOLS='abc' is not a value of that option"), done.stderr
