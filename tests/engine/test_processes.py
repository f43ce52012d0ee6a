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
    import subprocess
    import sys

    script = tmp_path / "no_guard.py"  # no `if __name__ == "__main__":` guard, as in a quick script
    script.write_text("from negmine.engine.processes import ordered_process_map\n"
                      "print('ran', flush=True)\n"
                      "print(list(ordered_process_map(abs, [-1, -2, -3], workers=2)))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["ran", "[1, 2, 3]"]
