"""A hung test fails, named, after a bound instead of holding CI to its limit (a fresh checkout's CI ran out its
90 minutes with two tests unfinished and no name printed, 2026-12-07)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import SLOW_TEST_TIMEOUT, pytest_collection_modifyitems, timeout_of


def test_the_suite_runs_with_a_bound_per_test(request):
    assert request.config.pluginmanager.hasplugin("timeout"), "pytest-timeout (dev extra) is not installed"
    assert float(request.config.getini("timeout")) == 300
    assert request.config.getini("timeout_method") == "thread"


class _Item:
    def __init__(self, *marks: pytest.MarkDecorator, config: pytest.Config | None = None) -> None:
        self.marks, self.config = [mark.mark for mark in marks], config

    def get_closest_marker(self, name: str):
        return next((mark for mark in self.marks if mark.name == name), None)

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.marks.append(marker.mark)


def test_slow_tests_get_the_longer_bound_and_a_test_s_own_mark_wins():
    fast, slow, own = _Item(), _Item(pytest.mark.slow), _Item(pytest.mark.slow, pytest.mark.timeout(60))
    pytest_collection_modifyitems([fast, slow, own])
    assert fast.get_closest_marker("timeout") is None
    assert slow.get_closest_marker("timeout").args == (SLOW_TEST_TIMEOUT,)
    assert own.get_closest_marker("timeout").args == (60,)


def test_a_hung_test_fails_with_its_name_and_the_stack_where_it_hangs(tmp_path):
    (tmp_path / "test_hang.py").write_text(textwrap.dedent("""
        import threading

        def test_waits_forever():
            threading.Event().wait()
    """), encoding="utf-8")
    (tmp_path / "conftest.py").write_text((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
                           "timeout=4", "-o", "timeout_method=thread", "-n", "1",
                           "test_hang.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "crashed while running 'test_hang.py::test_waits_forever'" in done.stdout, done.stdout
    assert 'test_hang.py", line 5 in test_waits_forever' in done.stderr, done.stderr  # where it hangs


def test_a_test_s_bound_is_its_mark_else_the_ini_s(request):
    assert timeout_of(_Item(pytest.mark.timeout(42), config=request.config)) == 42
    assert timeout_of(request.node) == 300


def test_each_test_runs_in_a_folder_and_with_a_cache_of_its_own():
    """A default relative output (audit.flags.jsonl) went to the checkout, where two tests on two workers took each
    other's output lock, and every test shared ~/.cache/negmine (tests/conftest.py's autouse fixture)."""
    repo = Path(__file__).resolve().parents[1]
    assert not Path.cwd().resolve().is_relative_to(repo) and not any(Path.cwd().iterdir())
    assert Path(os.environ["NEGMINE_CACHE"]) == Path.cwd() / ".negmine-cache"
