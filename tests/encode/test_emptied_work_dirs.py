"""``cache prune`` records the ``--work-dir`` folders it deletes runs from, so ``list`` and ``prune`` take them
without a run left, while a folder never used that way stays refused."""

from __future__ import annotations

import pytest

from negmine.encode.cache_contents import cache_entries, work_dir_entries
from negmine.encode.cache_prune import prune_cache
from negmine.encode.emptied_work_dirs import RECORD_NAME, record_work_dirs, recorded_work_dirs, was_emptied
from negmine.errors import InputError


def test_prune_records_the_work_dir_it_emptied_and_then_takes_it(copied_cache, copied_work_dir):
    assert prune_cache(copied_cache, runs=True, dry_run=True, work_dirs=[copied_work_dir]).deleted
    assert not was_emptied(copied_cache, copied_work_dir)  # a dry run records nothing
    result = prune_cache(copied_cache, runs=True, work_dirs=[copied_work_dir])
    assert any(e.path.parent == copied_work_dir for e in result.deleted)
    assert recorded_work_dirs(copied_cache) == {str(copied_work_dir.resolve())}
    with pytest.raises(InputError, match=r"--work-dir: holds no run work folder of negmine"):
        work_dir_entries(copied_work_dir)  # the user's files are left: nothing a run made
    assert work_dir_entries(copied_work_dir, emptied=True) == []
    again = prune_cache(copied_cache, runs=True, work_dirs=[copied_work_dir])
    assert not again.deleted and not again.in_use and not again.stale_locks
    (record,) = [e for e in cache_entries(copied_cache) if e.path.name == RECORD_NAME]
    assert record.kind == "other" and record.about.startswith("the --work-dir folders prune emptied of runs")


def test_a_prune_that_deleted_nothing_in_a_work_dir_records_nothing(copied_cache, copied_work_dir):
    prune_cache(copied_cache, runs=True, work_dirs=[copied_work_dir], older_than_days=1e6)  # nothing that old
    assert not (copied_cache / RECORD_NAME).exists()
    prune_cache(copied_cache, runs=True)  # the cache's own runs/ only
    assert not (copied_cache / RECORD_NAME).exists()


def test_the_record_adds_folders_and_reads_an_unreadable_one_as_empty(tmp_path):
    record_work_dirs(tmp_path, [tmp_path / "a"])
    record_work_dirs(tmp_path, [tmp_path / "b", tmp_path / "a"])
    assert recorded_work_dirs(tmp_path) == {str(tmp_path / "a"), str(tmp_path / "b")}
    (tmp_path / RECORD_NAME).write_text('{"not": "a list"')
    assert recorded_work_dirs(tmp_path) == set() and not was_emptied(tmp_path, tmp_path / "a")
    record_work_dirs(tmp_path / "no-cache-here", [tmp_path / "a"])  # no cache folder: none made for the record
    assert not (tmp_path / "no-cache-here").exists()
