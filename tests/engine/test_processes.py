from __future__ import annotations

import pytest

from negmine.engine.processes import ordered_process_map


def test_results_come_back_in_input_order_from_worker_processes():
    items = list(range(-20, 20))
    assert list(ordered_process_map(abs, iter(items), workers=3)) == [abs(i) for i in items]
    assert list(ordered_process_map(abs, [], workers=2)) == []


def test_a_worker_error_reaches_the_caller():
    with pytest.raises(TypeError):
        list(ordered_process_map(abs, ["not a number"], workers=2))


def test_workers_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        list(ordered_process_map(abs, [1], workers=0))


def _dies_in_a_worker(x):
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None and x == 3:
        os._exit(1)
    return x * 10


def test_a_broken_pool_falls_back_to_this_process_with_the_same_results():
    with pytest.warns(RuntimeWarning, match="worker processes failed .*computing the rest in this process"):
        got = list(ordered_process_map(_dies_in_a_worker, iter(range(12)), workers=2))
    assert got == [x * 10 for x in range(12)]


def test_workers_do_not_rerun_the_callers_main_script(tmp_path):
    from negmine.testing.scripts import run_script

    out = run_script(tmp_path / "no_guard.py",  # no `if __name__ == "__main__":` guard, as in a quick script
                     "from negmine.engine.processes import ordered_process_map\n"
                     "print('ran', flush=True)\n"
                     "print(list(ordered_process_map(abs, [-1, -2, -3], workers=2)))\n", timeout=120)
    assert out.stdout.splitlines() == ["ran", "[1, 2, 3]"]


def _slow_after_the_first(x):
    import time

    if x:
        time.sleep(60)  # a task nobody waits for: the tests below finish long before it would
    return x


def test_a_caller_that_stops_reading_ends_the_workers_instead_of_waiting_for_them():
    import multiprocessing
    import time

    results = ordered_process_map(_slow_after_the_first, range(8), workers=2)
    start = time.monotonic()
    assert next(results) == 0
    results.close()  # e.g. the caller hit an error or Ctrl-C while tasks 1-3 were queued or running
    assert time.monotonic() - start < 30, "closed without waiting for the 60 s tasks"
    assert multiprocessing.active_children() == []


def _sigterm_disposition(_):
    import signal

    return signal.getsignal(signal.SIGTERM)


@pytest.fixture
def sigterm_raises():
    """As after ``ray.init`` (and still after ``ray.shutdown``): SIGTERM turned into ``sys.exit``, inherited by
    forked workers, where a task would report the SystemExit as its result and the worker take the next task."""
    import signal
    import sys

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(signum))
    yield
    signal.signal(signal.SIGTERM, previous)


def test_workers_end_on_sigterm_whatever_handler_the_parent_installed(sigterm_raises):
    import signal

    assert list(ordered_process_map(_sigterm_disposition, [0, 1], workers=2)) == [signal.SIG_DFL] * 2


def _sigint_disposition(_):
    import signal

    return signal.getsignal(signal.SIGINT)


def test_workers_ignore_sigint_so_ctrl_c_leaves_one_traceback_the_parents():
    import signal

    # as in a terminal; a job started in the background of a non-interactive shell (CI) inherits SIGINT ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert list(ordered_process_map(_sigint_disposition, [0, 1], workers=2)) == [signal.SIG_IGN] * 2
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # this process still stops on Ctrl-C
    finally:
        signal.signal(signal.SIGINT, previous)


def test_stopped_workers_are_ended_and_reaped_even_if_sigterm_raises_in_the_parent(sigterm_raises):
    import multiprocessing
    import time

    for _ in range(3):  # whether a worker had a queued task to go on to depended on timing
        results = ordered_process_map(_slow_after_the_first, range(8), workers=2)
        start = time.monotonic()
        assert next(results) == 0
        time.sleep(0.5)  # the workers take tasks 1 and 2; 3 and 4 wait in the call queue
        results.close()
        assert time.monotonic() - start < 30
        assert multiprocessing.active_children() == []  # failed now and then when only the pool's thread reaped


def test_ctrl_c_stops_a_job_without_waiting_for_queued_or_running_tasks(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "job.py"
    script.write_text("import time\n"
                      "from negmine.engine.processes import ordered_process_map\n"
                      "def slow(x):\n    time.sleep(60)\n    return x\n"
                      "if __name__ == '__main__':\n"
                      "    print('started', flush=True)\n"
                      "    print(list(ordered_process_map(slow, range(8), workers=2)))\n")
    # as from a terminal: a job started in the background of a non-interactive shell (some CI runners) inherits
    # SIGINT ignored, and Python then keeps ignoring it
    job = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert job.stdout.readline().strip() == "started"
    time.sleep(1)
    start = time.monotonic()
    os.killpg(job.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole process group
    _, err = job.communicate(timeout=50)
    assert time.monotonic() - start < 30, "the job waited for tasks of 60 s"
    assert "KeyboardInterrupt" in err and job.returncode != 0
    assert "Process ForkProcess" not in err and "Process SpawnProcess" not in err, err  # no worker traceback


def _scaled(shared, x):
    import os

    return shared["factor"] * x, os.getpid()


def test_a_shared_object_reaches_every_call_and_the_workers_not_this_process():
    import os

    shared = {"factor": 3}
    got = list(ordered_process_map(_scaled, range(10), workers=2, shared=shared))
    assert [value for value, _ in got] == [3 * x for x in range(10)]
    assert os.getpid() not in {pid for _, pid in got}


def _scaled_dies_in_a_worker(shared, x):
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None and x == 2:
        os._exit(1)
    return shared * x


def test_after_a_broken_pool_this_process_calls_with_the_shared_object_too():
    with pytest.warns(RuntimeWarning, match="computing the rest in this process"):
        got = list(ordered_process_map(_scaled_dies_in_a_worker, range(8), workers=2, shared=10))
    assert got == [10 * x for x in range(8)]


def test_spawned_workers_get_the_shared_object_too(tmp_path):
    from negmine.testing.scripts import SPAWN_WORKERS, indented, run_script

    out = run_script(tmp_path / "spawned_shared.py",
                     "from negmine.engine.processes import ordered_process_map\n"
                     "def add(shared, x):\n    return shared + x\n"
                     "if __name__ == '__main__':\n"
                     + indented(SPAWN_WORKERS)
                     + "    print(list(ordered_process_map(add, range(5), workers=2, shared=100)))\n", timeout=120)
    assert out.stdout.strip() == "[100, 101, 102, 103, 104]"


def _gone(pid: int) -> bool:
    """True when process ``pid`` has ended (no such process, or a zombie nobody reaped yet)."""
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forked workers and /proc: Linux")
def test_workers_of_a_killed_run_end_with_it_and_free_its_output_lock(tmp_path):
    """``kill -9`` of a run (or the OOM killer) reaches the run's process, not its workers. The forked workers
    share its open lock files, so when they lived on (blocked on the task queue, forever) every rerun was
    refused: 'another negmine run (pid N) is writing this output now' for a pid that no longer existed."""
    import subprocess
    import sys
    import time

    from negmine.io.output_lock import hold_outputs

    pids, output = tmp_path / "pids", tmp_path / "out" / "result.json"
    pids.mkdir()
    script = tmp_path / "job.py"
    script.write_text("import os, sys, time\n"
                      "from pathlib import Path\n"
                      "from negmine.engine.processes import ordered_process_map\n"
                      "from negmine.io.output_lock import hold_outputs\n"
                      "def stuck(x):\n"
                      "    Path(sys.argv[1], str(os.getpid())).touch()\n"
                      "    while True:\n        time.sleep(1)\n"
                      "if __name__ == '__main__':\n"
                      "    with hold_outputs({'--output': sys.argv[2]}):\n"
                      "        list(ordered_process_map(stuck, range(2), workers=2))\n")
    with open(tmp_path / "job.err", "w") as err:  # a file: the workers would hold a pipe open
        job = subprocess.Popen([sys.executable, str(script), str(pids), str(output)], stderr=err)
    while len(list(pids.iterdir())) < 2:
        assert job.poll() is None, (tmp_path / "job.err").read_text()
        time.sleep(0.05)
    workers = [int(p.name) for p in pids.iterdir()]
    job.kill()  # the run's process only, as kill -9 PID or the OOM killer
    job.wait(60)
    deadline = time.monotonic() + 60  # a bound on the wait, not a speed: before, the workers never ended
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [pid for pid in workers if not _gone(pid)]
    for pid in alive:
        __import__("os").kill(pid, 9)
    assert alive == [], "the killed run's workers lived on"
    with hold_outputs({"--output": output}):  # the rerun gets the output (before: ConfigError, output busy)
        pass
