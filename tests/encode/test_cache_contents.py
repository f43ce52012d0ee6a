from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from negmine.encode.cache import EmbeddingCache
from negmine.encode.cache_contents import cache_entries, held


def disk_bytes(*paths: Path) -> int:
    files = [Path(d) / f for p in paths for d, _, fs in os.walk(p) for f in fs] if paths[0].is_dir() else []
    files += [p for p in paths if p.is_file()]
    return sum(f.stat().st_blocks * 512 for f in files)


def test_entries_of_a_mined_cache_name_model_prompt_counts_and_sizes(mined_cache, tiny_model_path):
    entries = cache_entries(mined_cache)
    # namespaces first, in the order of their folder names (hashes of the fingerprint: a new FINGERPRINT_VERSION
    # reorders them), then the run folder
    assert sorted(e.kind for e in entries[:3]) == ["cross-encoder scores", "embeddings", "embeddings"]
    assert entries[3].kind == "run work folder" and len(entries) == 4
    embeddings = [e for e in entries if e.kind == "embeddings"]
    model = str(Path(tiny_model_path).resolve())  # recorded as an absolute path, whatever the working folder
    by_prompt = {json.loads((e.path / "meta.json").read_text())["prompt"]: e for e in embeddings}
    assert by_prompt["query: "].about == f"{model}, prompt 'query: '"
    assert by_prompt[""].about == f"{model}, prompt ''"
    assert by_prompt["query: "].count == 2 and by_prompt["query: "].unit == "texts"
    for entry in entries[:3]:  # the count is the cache's own count of distinct texts or pairs
        meta = json.loads((entry.path / "meta.json").read_text())
        assert entry.count == EmbeddingCache(mined_cache).count(meta["fingerprint"], meta["prompt"]) > 0
        assert entry.fingerprint == meta["fingerprint"]
        assert entry.size == disk_bytes(entry.path) + disk_bytes(entry.path.with_name(entry.path.name + ".lock"))
    scores = next(e for e in entries if e.kind == "cross-encoder scores")
    assert scores.unit == "pairs" and scores.fingerprint.startswith("ce-")
    assert scores.about == str(Path(scores.model).resolve()) and Path(scores.model).name.startswith("tiny_ce")
    run = entries[3]
    assert run.path.parent.name == "runs" and run.unit == "shards"
    assert run.count == 5  # 12 documents in shards of 5, 2 queries in one, one search shard
    assert run.about == "12 documents, 2 queries (32-dim)"
    assert run.size == disk_bytes(run.path) + disk_bytes(run.path.with_name(run.path.name + ".lock"))
    assert not any(e.in_use for e in entries)
    assert all(e.modified > 0 for e in entries)


def test_listing_reads_no_vectors(copied_cache):
    """Sizes and counts come from headers and file sizes: vectors files overwritten with zeros list the same."""
    before = cache_entries(copied_cache)
    for vectors in copied_cache.glob("*/*.vecs.npy"):
        vectors.write_bytes(b"\0" * vectors.stat().st_size)
    after = cache_entries(copied_cache)
    assert [(e.path, e.count, e.size, e.about) for e in after] == [(e.path, e.count, e.size, e.about) for e in before]


def test_a_namespace_in_use_is_marked(copied_cache):
    entry = cache_entries(copied_cache)[0]
    meta = json.loads((entry.path / "meta.json").read_text())
    shelf = EmbeddingCache(copied_cache).shelf(meta["fingerprint"], meta["prompt"])
    shelf.count()  # a shelf in use holds its lease
    assert cache_entries(copied_cache)[0].in_use and held(shelf.lock_path)
    shelf.close()
    assert not cache_entries(copied_cache)[0].in_use


def test_a_namespace_written_before_the_model_was_recorded_shows_its_fingerprint(copied_cache):
    entry = cache_entries(copied_cache)[0]
    meta = json.loads((entry.path / "meta.json").read_text())
    del meta["model"]
    (entry.path / "meta.json").write_text(json.dumps(meta))
    about = cache_entries(copied_cache)[0].about
    assert about.startswith(f"model not recorded, fingerprint {meta['fingerprint'][:11]},"), about


def test_a_missing_cache_has_no_entries_and_strays_are_listed(tmp_path):
    assert cache_entries(tmp_path / "none") == []
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model.onnx").write_bytes(b"x" * 5000)
    (entry,) = cache_entries(tmp_path)
    assert entry.kind == "other" and entry.count is None and entry.size >= 5000


def test_a_work_dir_lists_its_run_folders_only(copied_work_dir):
    """A --work-dir is the user's folder: its run folder is listed as under runs/, nothing else of it."""
    from negmine.encode.cache_contents import run_entry, work_dir_entries

    (entry,) = work_dir_entries(copied_work_dir)
    assert entry.kind == "run work folder" and entry.path.parent == copied_work_dir and not entry.in_use
    assert (entry.about, entry.count) == ("12 documents, 2 queries (32-dim)", 5)
    assert entry == run_entry(entry.path)
    (entry.path / "documents.npy").rename(copied_work_dir / "moved.npy")  # the lease file beside it is enough
    assert [e.path for e in work_dir_entries(copied_work_dir)] == [entry.path]


def test_a_work_dir_lists_a_run_in_use_and_the_lock_of_a_gone_run(copied_work_dir):
    from negmine.encode.cache_contents import work_dir_entries
    from negmine.engine.run_lease import RunLease

    (entry,) = work_dir_entries(copied_work_dir)
    lease = RunLease(entry.path)
    try:
        assert work_dir_entries(copied_work_dir)[0].in_use
    finally:
        lease.release()
    gone = copied_work_dir / f"bm25-{'a' * 32}.lock"
    gone.touch()
    assert [(e.kind, e.path) for e in work_dir_entries(copied_work_dir)] == [
        ("run work folder", entry.path), ("other", gone)]


@pytest.mark.parametrize("case", ["missing", "file", "empty", "user files only"])
def test_a_work_dir_without_a_run_of_negmine_is_refused(tmp_path, case):
    from negmine.encode.cache_contents import work_dir_entries
    from negmine.errors import InputError

    folder = tmp_path / "work"
    if case == "file":
        folder.write_text("x")
    elif case != "missing":
        folder.mkdir()
    if case == "user files only":
        (folder / "0123456789abcdef0123456789abcdef").mkdir()
        (folder / "notes.txt").write_text("x")
    with pytest.raises(InputError) as info:
        work_dir_entries(folder)
    message = str(info.value)
    what = {"missing": "not found", "file": "not a folder"}.get(case, "holds no run work folder of negmine (a folder "
                                                                       "named by a run key, 32 hex digits or bm25-")
    assert message.startswith(f"{folder}: --work-dir: {what}"), message
    assert message.endswith("give the folder a run was given as negmine mine --work-dir DIR or negmine audit "
                            "--work-dir DIR (its work folders are DIR/<run key>/), or leave --work-dir out: the work "
                            "folders of runs without one are under <cache dir>/runs, which negmine cache reads anyway"), \
        message
    assert case in ("missing", "file") or "documents.npy" in message
