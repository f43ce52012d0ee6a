from __future__ import annotations

import re

import pytest

from negmine.errors import ConfigError
from negmine.io.output_lock import check_not_busy, hold_outputs, lock_path
from negmine.testing.output_holder import hold_in_other_process


@pytest.mark.parametrize(("option", "fix"), [("--output", "--output"), ("--export triplet", "--output"),
                                             ("--summary-json", "--summary-json")])
def test_an_output_another_run_holds_is_refused_naming_it_the_pid_and_the_fix(tmp_path, option, fix):
    out = tmp_path / "negatives.jsonl"
    with hold_in_other_process({option: out}) as other:
        with pytest.raises(ConfigError) as err:
            with hold_outputs({"--flags": tmp_path / "mine.jsonl", option: out}):
                pytest.fail("the lock was taken twice")
    assert str(err.value) == (
        f"{option} {out}: another negmine run (pid {other.pid}) is writing this output now (it holds "
        f"{lock_path(out)}); wait for that run to finish, or choose another {fix} for this one"
    )
    assert not (tmp_path / "mine.jsonl.lock").exists(), "the locks taken before the refusal are given back"


def test_two_spellings_of_one_output_share_its_lock(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with hold_in_other_process({"--output": tmp_path / "real" / "o.jsonl"}):
        with pytest.raises(ConfigError, match="another negmine run"):
            check_not_busy({"--output": tmp_path / "link" / "o.jsonl"})


def test_a_lock_ends_with_its_run_and_leaves_no_file_nor_the_folder_made_for_it(tmp_path):
    out = tmp_path / "new" / "sub" / "negatives.jsonl"
    with hold_outputs({"--output": out, "--report": None}):
        assert lock_path(out).is_file()
    assert not (tmp_path / "new").exists(), "a run refused before writing leaves no folder behind"
    with hold_outputs({"--output": out}):  # the next run takes it
        out.write_text("rows\n")
    assert sorted(p.name for p in out.parent.iterdir()) == ["negatives.jsonl"]


def test_an_inner_block_reuses_the_locks_its_caller_holds_and_leaves_them_held(tmp_path):
    """The audit holds its candidates file while mine() writes it: a second flock on the file, even from this
    process, is refused, so the inner block takes only what is not ``held`` and releases only what it took."""
    candidates, flags = tmp_path / "c.jsonl", tmp_path / "f.jsonl"
    with hold_outputs({"--candidates": candidates}) as outer:
        assert outer == {lock_path(candidates)}
        with pytest.raises(ConfigError, match="this run writes that file already"):
            check_not_busy({"--candidates": candidates})  # without held: refused by our own lock
        with hold_outputs({"--output": candidates, "--flags": flags}, held=outer) as inner:
            assert inner == {lock_path(candidates), lock_path(flags)}
        assert lock_path(candidates).is_file() and not lock_path(flags).exists(), "the caller's lock outlives the block"
        with hold_in_other_process({"--x": flags}):  # the inner block released what it took
            pass
        with pytest.raises(AssertionError, match="another negmine run"):  # the other process is refused
            with hold_in_other_process({"--x": candidates}):
                pass
    assert not lock_path(candidates).exists()


def test_a_killed_runs_lock_does_not_block_the_next_run(tmp_path):
    out = tmp_path / "negatives.jsonl"
    with hold_in_other_process({"--output": out}) as other:
        other.kill()
        other.wait(60)
        assert lock_path(out).exists(), "a killed run cannot remove its lock file"
        with hold_outputs({"--output": out}):  # the kernel dropped the killed run's lock
            pass
    assert not lock_path(out).exists(), "the next run removes the file the killed run left"


def test_a_run_giving_one_file_under_two_options_is_told_so(tmp_path):
    out = tmp_path / "audit.candidates.jsonl"
    with hold_outputs({"--output": out}):
        with pytest.raises(ConfigError, match=re.escape(f"--candidates {out}: this run writes that file already")):
            check_not_busy({"--candidates": out})


def test_an_output_folder_is_locked_inside_and_left_as_it_was(tmp_path):
    """Inside: a run may write in its output folder without rights on the folder's parent (a mount point)."""
    (tmp_path / "model").mkdir()
    with hold_in_other_process({}, {"--output": tmp_path / "model"}) as other:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
        with pytest.raises(ConfigError, match=re.escape(f"(pid {other.pid}) is writing this output now (it holds "
                                                        f"{tmp_path / 'model' / '.negmine.lock'})")):
            check_not_busy({}, {"--output": tmp_path / "model"})
    assert list((tmp_path / "model").iterdir()) == []
    check_not_busy({}, {"--output": tmp_path / "new"})
    assert not (tmp_path / "new").exists(), "a folder made only for the lock goes with it"


def _dead_pid() -> int:
    import subprocess
    import sys

    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


def _temp(folder, name: str, pid: int, host: str | None = None):
    """A temp file as negmine's atomic writes name them, for ``name`` in ``folder``, of process ``pid``."""
    from negmine.io.atomic import _host

    path = folder / f".{name}.{host or _host()}.{pid}.0badc0ffee01.tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("half a file")
    return path


def test_taking_the_locks_removes_the_temp_files_killed_runs_left_for_the_outputs(tmp_path):
    """They stayed until a run wrote that same file again: `ls -a` of an output folder showed e.g.
    `.neg.jsonl.host.4242.3f9a0c1d2e4b.tmp` after a killed run, also after later runs that stopped earlier."""
    import os

    dead = _dead_pid()
    out, run = tmp_path / "neg.jsonl", tmp_path / "run"
    stale = [_temp(tmp_path, "neg.jsonl", dead), _temp(run, "negmine_train.json", dead),
             _temp(run / "checkpoints", "negmine_run_settings.json", dead)]
    kept = [_temp(tmp_path, "neg.jsonl", os.getppid()),  # a process that runs (not a writer: no lock)
            _temp(tmp_path, "other.jsonl", dead),  # another file's: not an output of this run
            _temp(tmp_path, "neg.jsonl", dead, host="other-host"),  # a shared file system: its pid says nothing
            tmp_path / "notes.tmp", tmp_path / f".neg.jsonl.x.{dead}.0badc0ffee01.tmp.bak"]
    for path in kept[3:]:
        path.write_text("not a temp file of negmine")
    with hold_outputs({"--output": out}, {"--output-dir": run}):
        assert not [p for p in stale if p.exists()]
    assert all(p.exists() for p in kept)


def test_a_run_refused_by_a_live_holder_removes_no_temp_file(tmp_path):
    """Only a run that holds every lock sweeps: the holder may be writing the outputs now."""
    out = tmp_path / "neg.jsonl"
    with hold_in_other_process({"--output": out}) as other:
        live, dead = _temp(tmp_path, "neg.jsonl", other.pid), _temp(tmp_path, "neg.jsonl", _dead_pid())
        with pytest.raises(ConfigError, match="another negmine run"):
            with hold_outputs({"--output": out}):
                pass
        assert live.exists() and dead.exists()
        with hold_outputs({"--summary-json": tmp_path / "neg.summary.json"}):  # other outputs, in one folder
            pass
        assert live.exists() and dead.exists()
    with hold_outputs({"--output": out}):  # the holder has ended: its temp file is a leftover now
        assert not live.exists() and not dead.exists()
