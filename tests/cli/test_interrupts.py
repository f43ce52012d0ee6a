"""A second Ctrl-C while a stopped command reports the first and exits changes nothing (exit 130, one message)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import negmine
from negmine.cli.interrupts import install_interrupt_once, interrupt_once

SRC = Path(negmine.__file__).resolve().parents[1]
WORDS = "cell gene protein cancer risk study patients effect blood brain heart disease virus immune".split()


@pytest.fixture
def sigint_kept():
    """Python's own SIGINT handler for the test, the test process's put back afterwards: a suite started as a
    background job (``nohup``, ``cmd &`` in a script) runs with SIGINT ignored, where install_interrupt_once rightly
    changes nothing."""
    saved = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


def _default_sigint() -> None:
    """In the child before exec: SIGINT's default action, so its Python installs its own handler even when this
    suite runs with SIGINT ignored (a child inherits an ignored signal, and the training never stopped)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_the_first_interrupt_raises_and_ignores_the_next_ones(sigint_kept):
    assert install_interrupt_once()
    assert signal.getsignal(signal.SIGINT) is interrupt_once
    with pytest.raises(KeyboardInterrupt):
        interrupt_once(signal.SIGINT, None)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # kept by the interpreter through its shutdown


def test_an_ignored_or_foreign_sigint_handler_is_left_alone(sigint_kept):
    """``nohup negmine ...`` or a script's background job starts with SIGINT ignored: it stays so."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert not install_interrupt_once() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    mine = lambda signum, frame: None  # noqa: E731
    signal.signal(signal.SIGINT, mine)
    assert not install_interrupt_once() and signal.getsignal(signal.SIGINT) is mine


def _mined(path: Path) -> Path:
    rows = [{"query_id": f"q{i}", "query": " ".join(WORDS[i : i + 2]), "positive_id": f"d{i}",
             "positive": WORDS[i] + " increase", "positive_score": 0.9, "negative_ids": [f"n{i}a", f"n{i}b"],
             "negative_scores": [0.5, 0.4], "negative_ranks": [1, 2],
             "negatives": [WORDS[(i + 5) % 14] + " decrease", WORDS[(i + 9) % 14] + " low level"]} for i in range(8)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _wait_for(path: Path, job: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300  # a bound against a hang, not a timed assertion
    while not path.is_file():
        assert job.poll() is None, job.stderr.read()
        assert time.monotonic() < deadline, f"{path} not written"
        time.sleep(0.05)


def test_a_second_ctrl_c_while_train_stops_still_exits_130_with_the_message(tmp_path, tiny_model_path):
    """The second SIGINT is sent as soon as the first one's message is out: the process is then shutting down
    (about a second for a training run: torch's teardown), after Python put the default SIGINT action back, and
    was killed by it (exit -2), or, a moment earlier, the KeyboardInterrupt escaped the message (a traceback)."""
    out = tmp_path / "o"
    command = [sys.executable, "-m", "negmine", "train", str(_mined(tmp_path / "m.jsonl")), "-o", str(out), "--model",
               str(tiny_model_path), "--max-steps", "100000", "--batch-size", "4", "--num-negatives", "2",
               "--checkpoint-steps", "1", "--logging-steps", "1000", "--no-progress", "--precision", "fp32"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    job = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           preexec_fn=_default_sigint)
    watchdog = threading.Timer(600, job.kill)  # a bound against a hang (reading stderr blocks), not a timed assertion
    watchdog.start()
    try:
        _wait_for(out / "checkpoints" / "checkpoint-1" / "trainer_state.json", job)
        job.send_signal(signal.SIGINT)
        lines = []
        for line in job.stderr:
            lines.append(line)
            if line.startswith("interrupted;"):
                job.send_signal(signal.SIGINT)
                break
        rest = job.stderr.read()
        code = job.wait(timeout=300)
    finally:
        watchdog.cancel()
        if job.poll() is None:
            job.kill()
    stderr = "".join(lines) + rest
    assert code == 130, stderr
    assert re.search(r"(\A|\n)interrupted; outputs already written are complete, partial ones were discarded\n"
                     r"rerun the same command with --resume to continue from checkpoint-\d+\n\Z", stderr), stderr[-500:]
    assert "Traceback" not in stderr
