from __future__ import annotations

import json

import pytest

from negmine.encode.cache import EmbeddingCache
from negmine.encode.cache_contents import cache_entries
from negmine.encode.cache_prune import prune_cache
from negmine.errors import ConfigError


def names(entries) -> list[str]:
    return sorted(e.path.name for e in entries)


def test_prune_without_a_selector_is_refused_with_the_selectors(copied_cache):
    before = names(cache_entries(copied_cache))
    with pytest.raises(ConfigError) as info:
        prune_cache(copied_cache)
    message = str(info.value)
    assert message.startswith("negmine cache prune deletes nothing without a selector: give --runs")
    assert "--model NAME_OR_PATH" in message and "--older-than DAYS" in message and "negmine cache list" in message
    assert names(cache_entries(copied_cache)) == before
    with pytest.raises(ConfigError, match=r"--older-than must be a number of days >= 0, got -1; e.g. --older-than 30"):
        prune_cache(copied_cache, older_than_days=-1)


def test_prune_runs_deletes_the_run_folder_and_its_lock_only(copied_cache):
    entries = cache_entries(copied_cache)
    run = entries[-1]
    result = prune_cache(copied_cache, runs=True)
    assert names(result.deleted) == [run.path.name] and result.freed == run.size > 0 and not result.in_use
    assert not run.path.exists() and not run.path.with_name(run.path.name + ".lock").exists()
    assert names(cache_entries(copied_cache)) == names(entries[:-1])


def test_prune_runs_keeps_a_folder_a_running_job_holds(copied_cache):
    from negmine.engine.run_lease import RunLease

    run = cache_entries(copied_cache)[-1]
    lease = RunLease(run.path)  # a mining run using that work folder
    result = prune_cache(copied_cache, runs=True)
    assert names(result.in_use) == [run.path.name] and not result.deleted and result.freed == 0
    assert (run.path / "search" / "0.npz").exists()
    assert cache_entries(copied_cache)[-1].in_use
    lease.release()
    assert names(prune_cache(copied_cache, runs=True).deleted) == [run.path.name]


def test_dry_run_deletes_nothing_and_names_what_would_go(copied_cache):
    before = cache_entries(copied_cache)
    result = prune_cache(copied_cache, runs=True, dry_run=True)
    assert names(result.deleted) == [before[-1].path.name] and result.freed == before[-1].size
    assert [(e.path, e.size) for e in cache_entries(copied_cache)] == [(e.path, e.size) for e in before]


def _of_kind(cache, kind: str) -> list:
    """The cache's entries of one kind: namespaces list in the order of their folder names, hashes of the
    fingerprint, which a new FINGERPRINT_VERSION reorders."""
    return [e for e in cache_entries(cache) if e.kind == kind]


def test_prune_model_deletes_its_namespaces_and_keeps_one_in_use(copied_cache, tiny_model_path):
    entries = _of_kind(copied_cache, "embeddings")
    meta = json.loads((entries[0].path / "meta.json").read_text())
    shelf = EmbeddingCache(copied_cache).shelf(meta["fingerprint"], meta["prompt"])
    shelf.count()  # a job reading that namespace holds its lease
    result = prune_cache(copied_cache, model=str(tiny_model_path))
    assert names(result.deleted) == [entries[1].path.name] and names(result.in_use) == [entries[0].path.name]
    assert not entries[1].path.exists() and entries[0].path.exists()
    shelf.close()
    result = prune_cache(copied_cache, model=str(tiny_model_path))
    assert names(result.deleted) == [entries[0].path.name]
    assert [e.kind for e in cache_entries(copied_cache)] == ["cross-encoder scores", "run work folder"]


def test_a_job_opening_a_pruned_namespace_starts_it_afresh(copied_cache, tiny_model_path):
    import numpy as np

    entry = _of_kind(copied_cache, "embeddings")[0]
    meta = json.loads((entry.path / "meta.json").read_text())
    prune_cache(copied_cache, model=str(tiny_model_path))
    shelf = EmbeddingCache(copied_cache).shelf(meta["fingerprint"], meta["prompt"], "m")
    keys = np.arange(32, dtype=np.uint8).reshape(2, 16)
    assert not shelf.get(keys)[0].any()
    shelf.put(keys, np.ones((2, meta["dim"]), np.float32))
    assert shelf.get(keys)[0].all() and json.loads((entry.path / "meta.json").read_text())["model"] == "m"


def test_prune_model_takes_the_fingerprint_the_listing_shows(copied_cache):
    entry = _of_kind(copied_cache, "cross-encoder scores")[0]
    shown = entry.fingerprint[:11]
    assert names(prune_cache(copied_cache, model=shown[:-1], dry_run=True).deleted) == []  # too short to be sure
    assert names(prune_cache(copied_cache, model=shown).deleted) == [entry.path.name]


def test_older_than_selects_by_last_modification(copied_cache):
    entries = cache_entries(copied_cache)
    newest = max(e.modified for e in entries)
    assert not prune_cache(copied_cache, older_than_days=3, now=newest + 2 * 86400).deleted
    result = prune_cache(copied_cache, older_than_days=1, now=newest + 2 * 86400, dry_run=True)
    assert names(result.deleted) == names(entries)  # alone: every kind
    result = prune_cache(copied_cache, runs=True, older_than_days=1, now=newest + 2 * 86400)
    assert names(result.deleted) == [entries[-1].path.name]  # with --runs: the run folders among them


def test_prune_runs_removes_lock_files_of_gone_run_folders(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "bm25-d4d970ae93b94f1c006e48a181816a27.lock").touch()  # a --keep-work BM25 run that kept no folder
    result = prune_cache(tmp_path, runs=True)
    assert [p.name for p in result.stale_locks] == ["bm25-d4d970ae93b94f1c006e48a181816a27.lock"]
    assert list(runs.iterdir()) == []


def test_a_namespace_an_older_negmine_is_writing_is_kept(copied_cache, tiny_model_path):
    """A writer without a lease (negmine before 2026-12-05) shows in its live shard claim: the folder stays."""
    from negmine.io.atomic import owner_tag

    entry = cache_entries(copied_cache)[0]
    (entry.path / "9.claim").write_text(owner_tag())  # this process: alive
    result = prune_cache(copied_cache, model=str(tiny_model_path))
    assert names(result.in_use) == [entry.path.name] and (entry.path / "meta.json").exists()
    assert names(prune_cache(copied_cache, model=str(tiny_model_path), dry_run=True).in_use) == [entry.path.name]
    (entry.path / "9.claim").write_text("some-host-that-is-gone.1")  # another host: cannot tell, kept too
    assert names(prune_cache(copied_cache, model=str(tiny_model_path)).in_use) == [entry.path.name]


def user_files(work) -> list[str]:
    return sorted(p.name for p in work.iterdir() if p.name in ("notes.txt", "0123456789abcdef0123456789abcdef",
                                                                 "fedcba9876543210fedcba9876543210"))


def test_prune_runs_with_a_work_dir_deletes_its_run_folders_and_nothing_of_the_user(copied_cache, copied_work_dir):
    from negmine.encode.cache_contents import work_dir_entries

    (run,) = work_dir_entries(copied_work_dir)
    cached = cache_entries(copied_cache)[-1]
    gone = copied_work_dir / f"{'b' * 32}.lock"  # the lease file of a run whose folder is gone
    gone.touch()
    dry = prune_cache(copied_cache, runs=True, dry_run=True, work_dirs=[copied_work_dir])
    assert names(dry.deleted) == names([cached, run]) and run.path.is_dir()
    result = prune_cache(copied_cache, runs=True, work_dirs=[copied_work_dir])
    assert names(result.deleted) == names([cached, run]) and result.freed == cached.size + run.size
    assert gone in result.stale_locks and not gone.exists()
    assert not run.path.exists() and not run.path.with_name(run.path.name + ".lock").exists()
    assert user_files(copied_work_dir) == ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210",
                                           "notes.txt"]
    assert (copied_work_dir / "0123456789abcdef0123456789abcdef" / "photo.jpg").exists()


def test_prune_keeps_a_work_dir_run_a_job_holds(copied_cache, copied_work_dir):
    from negmine.encode.cache_contents import work_dir_entries
    from negmine.engine.run_lease import RunLease

    (run,) = work_dir_entries(copied_work_dir)
    lease = RunLease(run.path)
    try:
        result = prune_cache(copied_cache, runs=True, work_dirs=[copied_work_dir])
    finally:
        lease.release()
    assert names(result.in_use) == [run.path.name] and (run.path / "search" / "0.npz").exists()
    assert names(prune_cache(copied_cache, runs=True, work_dirs=[copied_work_dir]).deleted) == [run.path.name]


def test_older_than_alone_reaches_the_work_dir_runs(copied_cache, copied_work_dir):
    from negmine.encode.cache_contents import work_dir_entries

    (run,) = work_dir_entries(copied_work_dir)
    newest = max(e.modified for e in [*cache_entries(copied_cache), run])
    result = prune_cache(copied_cache, older_than_days=1, now=newest + 2 * 86400, dry_run=True,
                         work_dirs=[copied_work_dir])
    assert run.path in [e.path for e in result.deleted]


def test_a_bad_work_dir_is_refused_before_anything_is_deleted(copied_cache, tmp_path):
    from negmine.errors import InputError

    before = names(cache_entries(copied_cache))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: --work-dir: holds no run work folder of negmine"):
        prune_cache(copied_cache, runs=True, work_dirs=[tmp_path / "empty"])
    assert names(cache_entries(copied_cache)) == before
    assert (tmp_path / "empty").is_dir()


def test_the_caches_own_runs_folder_as_work_dir_is_read_once(copied_cache):
    run = cache_entries(copied_cache)[-1]
    twice = [copied_cache / "runs", copied_cache / "runs"]
    result = prune_cache(copied_cache, runs=True, dry_run=True, work_dirs=twice)
    assert [e.path for e in result.deleted] == [run.path]


def _namespace(root, fingerprint: str, prompt: str = "") -> None:
    """A namespace of ``fingerprint`` holding one 4-dim vector (its lease ended)."""
    import numpy as np

    from negmine.encode.cache import text_keys

    with EmbeddingCache(root) as cache:
        cache.put(fingerprint, prompt, text_keys(["cell gene"]), np.ones((1, 4), np.float32))


def test_delete_namespaces_takes_exact_fingerprints_with_every_prompt(tmp_path):
    """``negmine train`` removes its re-minings' namespaces by their whole fingerprint: ``prune --model``'s prefix
    match would take step 40's with step 4's (and a digest's other steps), which another run may be writing."""
    from negmine.encode.cache_prune import delete_namespaces

    step4 = "st-abc|train-step=4"
    for fingerprint, prompt in [(step4, ""), (step4, "query: "), ("st-abc|train-step=40", ""), ("st-abc", "")]:
        _namespace(tmp_path, fingerprint, prompt)
    result = delete_namespaces(tmp_path, {step4, "st-never-written"})
    assert sorted((e.fingerprint, e.about.rsplit(", ", 1)[-1]) for e in result.deleted) == [
        (step4, "prompt ''"), (step4, "prompt 'query: '")]
    assert result.freed == sum(e.size for e in result.deleted) > 0 and not result.in_use
    assert sorted(e.fingerprint for e in cache_entries(tmp_path)) == ["st-abc", "st-abc|train-step=40"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".lock") == sorted(
        e.path.name + ".lock" for e in cache_entries(tmp_path))  # the deleted ones' lock files went too


def test_delete_namespaces_keeps_one_a_process_holds(tmp_path):
    import numpy as np

    from negmine.encode.cache import text_keys
    from negmine.encode.cache_prune import delete_namespaces

    _namespace(tmp_path, "st-abc|train-step=2")
    with EmbeddingCache(tmp_path) as reader:  # another run reading it: its shelf holds the folder's lease
        assert reader.get("st-abc|train-step=2", "", text_keys(["cell gene"]))[0].all()
        result = delete_namespaces(tmp_path, {"st-abc|train-step=2"})
        assert [e.fingerprint for e in result.in_use] == ["st-abc|train-step=2"] and not result.deleted
        assert np.array_equal(reader.get("st-abc|train-step=2", "", text_keys(["cell gene"]))[1], np.ones((1, 4)))
    assert [e.fingerprint for e in delete_namespaces(tmp_path, {"st-abc|train-step=2"}).deleted] == [
        "st-abc|train-step=2"]
    assert cache_entries(tmp_path) == []


def test_prune_model_takes_a_whole_fingerprint_alone_and_never_a_prefix_of_the_step(tmp_path):
    """A re-mining's fingerprint given whole (as ``negmine train`` names it when it keeps a namespace in use) selects
    that namespace only: until 2026-12-06 ``...|train-step=100`` also took steps 1000 and 1005 (a prefix), and the
    listing showed those two as ``...|train-step=100``."""
    digest = "st-" + "ab" * 32
    steps = [4, 40, 100, 1000, 1005]
    for fingerprint in [digest, *(f"{digest}|train-step={step}" for step in steps)]:
        _namespace(tmp_path, fingerprint)
    for step in steps:
        picked = prune_cache(tmp_path, model=f"{digest}|train-step={step}", dry_run=True).deleted
        assert [e.fingerprint for e in picked] == [f"{digest}|train-step={step}"]
    shown = {e.fingerprint: e.about for e in cache_entries(tmp_path)}
    assert shown[f"{digest}|train-step=1000"] == (
        "model not recorded, fingerprint st-abababab|train-step=1000, prompt ''")
    assert shown[digest] == "model not recorded, fingerprint st-abababab, prompt ''"
    picked = prune_cache(tmp_path, model="st-abababab|train-step=1000", dry_run=True).deleted
    assert [e.fingerprint for e in picked] == [f"{digest}|train-step=1000"]  # what the listing shows
    assert [e.fingerprint for e in prune_cache(tmp_path, model="st-abababab", dry_run=True).deleted] == [digest]
    assert not prune_cache(tmp_path, model="st-abababab|train-step=10", dry_run=True).deleted
    assert not prune_cache(tmp_path, model=f"{digest}|train-step=", dry_run=True).deleted


def test_prune_model_given_an_entrys_whole_fingerprint_takes_no_longer_one(tmp_path):
    """A fingerprint (a plugin's, of any form) equal to one entry's selects exactly, not the longer ones it begins."""
    for fingerprint in ["plugin-0123456789", "plugin-01234567890"]:
        _namespace(tmp_path, fingerprint)
    picked = prune_cache(tmp_path, model="plugin-0123456789", dry_run=True).deleted
    assert [e.fingerprint for e in picked] == ["plugin-0123456789"]
    assert len(prune_cache(tmp_path, model="plugin-01234567", dry_run=True).deleted) == 2  # cut short: the prefix
