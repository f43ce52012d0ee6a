"""Ctrl-C once stops a command (exit 130, what it kept and how to go on); a second while it stops says so and
changes nothing else; a third quits at once (exit 130)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

import negmine
from negmine.cli import interrupts
from negmine.cli.interrupts import (
    DONE_ENDING, LOADING_STOPPED, QUIT_NOW, STILL_STOPPING, _exit_status, install_ctrl_c, on_ctrl_c, stopped,
)

SRC = Path(negmine.__file__).resolve().parents[1]
WORDS = "cell gene protein cancer risk study patients effect blood brain heart disease virus immune".split()


@pytest.fixture
def sigint_kept():
    """Python's own SIGINT handler for the test, the test process's put back afterwards: a suite started as a
    background job (``nohup``, ``cmd &`` in a script) runs with SIGINT ignored, where install_ctrl_c rightly
    changes nothing."""
    saved = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


def _default_sigint() -> None:
    """In the child before exec: SIGINT's default action, so its Python installs its own handler even when this
    suite runs with SIGINT ignored (a child inherits an ignored signal, and the training never stopped)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_the_first_ctrl_c_raises_and_the_handler_stays_for_the_next_ones(sigint_kept):
    assert install_ctrl_c()
    assert signal.getsignal(signal.SIGINT) is on_ctrl_c and not stopped()
    try:
        with pytest.raises(KeyboardInterrupt):
            on_ctrl_c(signal.SIGINT, None)
        assert stopped()
        assert signal.getsignal(signal.SIGINT) is on_ctrl_c  # not SIG_IGN: a later press is counted
    finally:
        if interrupts._Presses.watched:  # the pipe of the thread counting later presses: closed, the thread ends
            os.close(signal.set_wakeup_fd(-1))


def test_the_exit_status_of_a_stopped_command_is_the_one_python_gives(capfd):
    assert [_exit_status(None), _exit_status(130), _exit_status(0)] == [0, 130, 0]
    assert _exit_status("error: no such file") == 1 and capfd.readouterr().err == "error: no such file\n"


def test_an_ignored_or_foreign_sigint_handler_is_left_alone(sigint_kept):
    """``nohup negmine ...`` or a script's background job starts with SIGINT ignored: it stays so."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert not install_ctrl_c() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    mine = lambda signum, frame: None  # noqa: E731
    signal.signal(signal.SIGINT, mine)
    assert not install_ctrl_c() and signal.getsignal(signal.SIGINT) is mine


def _mined(path: Path) -> Path:
    rows = [{"query_id": f"q{i}", "query": " ".join(WORDS[i : i + 2]), "positive_id": f"d{i}",
             "positive": WORDS[i] + " increase", "positive_score": 0.9, "negative_ids": [f"n{i}a", f"n{i}b"],
             "negative_scores": [0.5, 0.4], "negative_ranks": [1, 2],
             "negatives": [WORDS[(i + 5) % 14] + " decrease", WORDS[(i + 9) % 14] + " low level"]} for i in range(8)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _wait_for_a_checkpoint(checkpoints: Path, job: subprocess.Popen, bound: float = 300) -> None:
    """Return once the run has saved a checkpoint to the end (a ``checkpoint-N`` folder's trainer_state.json, which
    the trainer writes last). Not checkpoint-1 by name: the trainer keeps the last two checkpoints, so at
    ``--checkpoint-steps 1`` checkpoint-1 is removed when checkpoint-3 is saved, two steps and saves later (one
    took 0.1 to 2 s on this shared 2-core machine; a machine 4x faster makes the window about two looks 0.05 s
    apart), and a missed window waited out ``bound`` (a bound against a hang, not a timed assertion)."""
    deadline = time.monotonic() + bound
    while not list(checkpoints.glob("checkpoint-*/trainer_state.json")):
        assert job.poll() is None, job.stderr.read()
        assert time.monotonic() < deadline, f"no checkpoint saved in {checkpoints}"
        time.sleep(0.05)


def test_the_wait_for_a_checkpoint_sees_one_saved_after_checkpoint_1_was_removed(tmp_path):
    """What a fast machine shows at the first look: checkpoints 2 and 3, checkpoint-1 already rotated out. The wait
    for checkpoint-1 by name waited out its 300 s bound and failed the Ctrl-C tests."""
    for step in (2, 3):
        (tmp_path / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (tmp_path / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_a_checkpoint(tmp_path / "checkpoints", job, bound=10)
    finally:
        job.kill()
        job.wait()


PROGRAM = """import atexit, os, sys, time
{stop}
sys.argv = ["negmine", *sys.argv[1:]]
from negmine.cli import main
main()
"""
STOP_WAITS = """def stop():  # a stop that waits in Python (for a file), as for workers or a Ray shutdown at exit
    print("the stop waits", file=sys.stderr, flush=True)
    while not os.path.exists(os.environ["RELEASE"]):
        time.sleep(0.05)
atexit.register(stop)
"""
STOP_HANGS = """def stop():  # a stop that never ends, in C code (a lock taken twice), where Python runs no handler
    import ctypes
    pthread = ctypes.CDLL(None)
    lock = ctypes.create_string_buffer(64)  # zeroed: PTHREAD_MUTEX_INITIALIZER
    pthread.pthread_mutex_lock(lock)
    print("the stop hangs", file=sys.stderr, flush=True)
    pthread.pthread_mutex_lock(lock)
atexit.register(stop)
"""
INTERRUPTED = ("interrupted; outputs already written are complete, partial ones were discarded\n"
               r"rerun the same command with --resume to continue from checkpoint-\d+\n")


class Train:
    """``negmine train`` on a tiny model in a child process, as from a terminal, stopped by the test's SIGINTs once
    it saved a checkpoint; its stderr read line by line. ``stop``: code run before the command (:data:`PROGRAM`)."""

    def __init__(self, tmp_path: Path, model: Path, stop: str = "") -> None:
        self.out = tmp_path / "o"
        command = [sys.executable, "-c", PROGRAM.format(stop=stop), "train", str(_mined(tmp_path / "m.jsonl")), "-o",
                   str(self.out), "--model", str(model), "--max-steps", "100000", "--batch-size", "4",
                   "--num-negatives", "2", "--checkpoint-steps", "1", "--logging-steps", "1000", "--no-progress",
                   "--precision", "fp32"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               "RELEASE": str(tmp_path / "release")}
        self.job = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True, preexec_fn=_default_sigint)
        self.lines: list[str] = []

    def __enter__(self) -> "Train":
        _wait_for_a_checkpoint(self.out / "checkpoints", self.job)
        # a bound against a hang (reading stderr blocks; the old code ignored every press after the first, so a
        # stop that hung never ended), not a timed assertion: a stopped run ends in seconds
        self.watchdog = threading.Timer(300, self.job.kill)
        self.watchdog.start()
        return self

    def __exit__(self, *exc) -> None:
        self.watchdog.cancel()
        if self.job.poll() is None:
            self.job.kill()
            self.job.wait()

    def ctrl_c_until(self, start: str) -> None:
        """Send SIGINT, then read stderr up to a line that starts with ``start`` (or its end)."""
        self.job.send_signal(signal.SIGINT)
        for line in self.job.stderr:
            self.lines.append(line)
            if line.startswith(start):
                return

    def end(self) -> tuple[int, str]:
        """The exit code and the whole stderr."""
        rest = self.job.stderr.read()
        return self.job.wait(), "".join(self.lines) + rest


def test_one_ctrl_c_stops_train_with_what_it_kept_and_exit_130(tmp_path, tiny_model_path):
    with Train(tmp_path, tiny_model_path) as run:
        run.ctrl_c_until("rerun ")
        code, stderr = run.end()
    assert code == 130, stderr
    assert re.search(rf"(\A|\n){INTERRUPTED}\Z", stderr), stderr[-500:]


def test_a_second_ctrl_c_right_after_the_report_still_exits_130_with_the_message(tmp_path, tiny_model_path):
    """The second SIGINT is sent as soon as the first one's message is out: the process is then shutting down.
    It was killed by it (exit -2: the interpreter's teardown, about a second for a training run, runs with SIGINT's
    default action), or, a moment earlier, the KeyboardInterrupt escaped the message (a traceback). Now the
    process says it is still stopping, unless it ended before the signal came."""
    with Train(tmp_path, tiny_model_path) as run:
        run.ctrl_c_until("interrupted;")
        run.job.send_signal(signal.SIGINT)
        code, stderr = run.end()
    assert code == 130, stderr
    assert stderr.count(STILL_STOPPING) <= 1
    assert re.search(rf"(\A|\n){INTERRUPTED}\Z", stderr.replace(STILL_STOPPING + "\n", "")), stderr[-500:]
    assert "Traceback" not in stderr


def test_a_second_ctrl_c_while_the_stop_waits_says_so_and_the_stop_goes_on(tmp_path, tiny_model_path):
    """The old code ignored it: the user could not tell a stop that waits from a process deaf to Ctrl-C."""
    with Train(tmp_path, tiny_model_path, STOP_WAITS) as run:
        run.ctrl_c_until("the stop waits")
        run.ctrl_c_until("still stopping")
        (tmp_path / "release").touch()
        code, stderr = run.end()
    assert code == 130, stderr
    assert re.search(rf"(\A|\n){INTERRUPTED}the stop waits\n{re.escape(STILL_STOPPING)}\n\Z", stderr), stderr[-500:]


def test_a_third_ctrl_c_quits_at_once_even_from_a_stop_stuck_in_c_code(tmp_path, tiny_model_path):
    """The old code ignored every press after the first: a stop that hung took Ctrl-\\ or kill. Python runs its
    signal handlers in the main thread only, between bytecodes: here it is stuck in C code, and the presses are
    counted by the thread reading the signal wake-up pipe."""
    with Train(tmp_path, tiny_model_path, STOP_HANGS) as run:
        run.ctrl_c_until("the stop hangs")
        run.ctrl_c_until("still stopping")
        run.job.send_signal(signal.SIGINT)
        code, stderr = run.end()
    assert code == 130, stderr
    assert re.search(rf"(\A|\n){INTERRUPTED}the stop hangs\n{re.escape(STILL_STOPPING)}\n{re.escape(QUIT_NOW)}\n\Z",
                     stderr), stderr[-500:]


def test_a_ctrl_c_while_the_command_loads_exits_130_with_a_line_not_a_traceback():
    """Before the command runs (imports), the KeyboardInterrupt escaped main(): Python printed its traceback and
    killed itself with SIGINT (exit -2 to a script); then (until 2026-12-07) the traceback stayed, with exit 130:
    30 lines of numpy's or torch's imports, in 1 of the 16 presses of a Ctrl-C sweep of ``negmine mine``. Now one
    line says nothing was written (typer ends a Ctrl-C during option parsing with exit 130 itself)."""
    program = ("import os, signal, time\nimport negmine.cli as cli\n"
               "def loading():\n    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(60)\n"
               "cli.build_app = loading\ncli.main()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=_default_sigint)
    assert (done.returncode, done.stderr) == (130, LOADING_STOPPED + "\n")


EXIT_WAITS = """def wait():  # an exit function that waits (for a file), as tqdm's or torch's take time at exit
    print("the exit waits", file=sys.stderr, flush=True)
    while not os.path.exists(os.environ["RELEASE"]):
        time.sleep(0.05)
atexit.register(wait)
"""
TEARDOWN_WAITS = """class Teardown:  # freed in the interpreter's teardown, after the exit functions; waits for a file
    def __del__(self):
        print("the teardown waits", file=sys.stderr, flush=True)
        while not os.path.exists(os.environ["RELEASE"]):
            time.sleep(0.05)
teardown = Teardown()
"""


@contextlib.contextmanager
def _cache_list(tmp_path: Path, stop: str) -> Iterator[subprocess.Popen]:
    """``negmine cache list`` (a command that ends at once, on its own) in a child process, as from a terminal, with
    ``stop`` run before it (:data:`PROGRAM`); its stderr read by the test. Killed as the block ends, or after 300 s:
    a bound against a hang, not a timed assertion."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "RELEASE": str(tmp_path / "release"), "NEGMINE_CACHE": str(tmp_path / "cache")}
    job = subprocess.Popen([sys.executable, "-c", PROGRAM.format(stop=stop), "cache", "list"], env=env, cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    timer = threading.Timer(300, job.kill)
    timer.start()
    try:
        yield job
    finally:
        timer.cancel()
        job.kill()


def _ctrl_c_as_the_exit_waits(job: subprocess.Popen) -> str:
    """Once ``job`` (run with :data:`EXIT_WAITS`) says its exit function waits, one SIGINT; the line it then says."""
    assert job.stderr.readline() == "the exit waits\n"
    job.send_signal(signal.SIGINT)
    return job.stderr.readline()


def test_a_ctrl_c_in_the_exit_functions_of_a_finished_command_says_it_is_done_not_a_traceback(tmp_path):
    """A Ctrl-C pressed as a command finishes (its last line out, ``negmine mine``'s exit functions and teardown
    take about 1.5 s): it raised KeyboardInterrupt inside an exit function (tqdm's: ``Exception ignored in atexit
    callback`` and a traceback, measured in a Ctrl-C sweep of ``negmine mine``). Now it says the command is done;
    the exit status stays the command's."""
    with _cache_list(tmp_path, EXIT_WAITS) as job:
        said = _ctrl_c_as_the_exit_waits(job)
        (tmp_path / "release").touch()
        stderr = said + job.stderr.read()
        code = job.wait()
    assert (code, stderr) == (0, DONE_ENDING + "\n")


def test_a_ctrl_c_in_the_teardown_of_a_finished_command_does_not_kill_it(tmp_path):
    """After its exit functions the interpreter tears down with SIGINT's default action: a Ctrl-C then killed the
    process (exit -2 to a script, 3 of 5 presses 0.05 to 0.2 s after ``negmine mine``'s last line in a Ctrl-C
    sweep). A finished command now ends without that teardown: what it frees at the end (here a global that waits)
    the system frees."""
    with _cache_list(tmp_path, TEARDOWN_WAITS) as job:
        line = job.stderr.readline()
        if line == "the teardown waits\n":  # the old code: the teardown ran, and SIGINT killed it there
            job.send_signal(signal.SIGINT)
            (tmp_path / "release").touch()
        stderr = line + job.stderr.read()
        code = job.wait()
    assert (code, stderr) == (0, "")


def test_a_second_ctrl_c_as_a_finished_command_ends_quits_at_once(tmp_path):
    """A finished command whose exit hangs: the first press says it is done, the next quits (exit 130)."""
    with _cache_list(tmp_path, EXIT_WAITS) as job:
        said = _ctrl_c_as_the_exit_waits(job)
        job.send_signal(signal.SIGINT)
        stderr = said + job.stderr.read()
        code = job.wait()
    assert (code, stderr) == (130, f"{DONE_ENDING}\n{QUIT_NOW}\n")


def test_a_ctrl_c_typer_catches_outside_the_command_says_what_a_stopped_command_says():
    """A press during option parsing or the root callback, outside the command's report: typer turned its
    KeyboardInterrupt into exit 130 without a word."""
    program = ("import os, signal, sys, time\nimport negmine.cli.warning_lines as lines\n"
               "def parsing():\n    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(60)\n"
               "lines.cli_warnings = parsing\nsys.argv = ['negmine', 'cache', 'list']\n"
               "from negmine.cli import main\nmain()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=_default_sigint)
    assert (done.returncode, done.stderr) == (130, interrupts.INTERRUPTED + "\n")


def test_a_finished_command_counts_the_presses_as_it_ends_in_one_place(sigint_kept, monkeypatch, capfd):
    """The wake-up thread started as a finished command ended counted a press that came while it started, and so did
    the handler: one press said the command was done, then quit (exit 130; 1 of 3 presses right after ``negmine
    audit``'s last line in a Ctrl-C sweep). The handler alone counts them now: no wake-up fd is taken."""
    ended = []
    monkeypatch.setattr(interrupts, "end_stopped", ended.append)
    assert install_ctrl_c()
    try:
        interrupts.end_process(0)
        assert signal.set_wakeup_fd(-1) == -1  # none was set
        on_ctrl_c(signal.SIGINT, None)  # a press as the command ends: no KeyboardInterrupt, one line
        assert (ended, interrupts._Presses.count, capfd.readouterr().err) == ([0], 2, DONE_ENDING + "\n")
    finally:
        interrupts._Presses.count, interrupts._Presses.done = 0, False
