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
