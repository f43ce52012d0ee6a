import fcntl
import os
import threading

import pytest

from negmine.engine.run_lease import RunLease


def test_the_last_lease_to_end_removes_the_folder_and_its_lock(tmp_path):
    run = tmp_path / "runs" / "key"
    first, second = RunLease(run), RunLease(run)  # two runs sharing a work folder (separate open files)
    run.mkdir()
    (run / "documents.npy").write_bytes(b"x")
    assert first.remove_if_last() is False and run.is_dir(), "another run still uses it"
    assert second.remove_if_last() is True
    assert not run.exists() and not second.lock_path.exists()
    with pytest.raises(RuntimeError, match="has ended"):
        second.remove_if_last()
    second.release()  # idempotent


def test_release_keeps_the_folder(tmp_path):
    lease = RunLease(tmp_path / "key")
    (tmp_path / "key").mkdir()
    lease.release()
    assert (tmp_path / "key").is_dir()
    assert RunLease(tmp_path / "key").remove_if_last() is True and not (tmp_path / "key").exists()


def test_a_run_waiting_while_another_removes_the_folder_locks_the_new_lock_file(tmp_path):
    run = tmp_path / "key"
    lock = run.with_name("key.lock")
    holder = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # a run in the middle of removing the folder
    got: list[RunLease] = []
    waiter = threading.Thread(target=lambda: got.append(RunLease(run)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive(), "a new lease waits for the removal to finish"
    lock.unlink()
    os.close(holder)
    waiter.join(5)
    assert got and lock.exists(), "the waiter made a new lock file after the old one was removed"
    assert os.stat(lock).st_ino == os.fstat(got[0]._fd).st_ino, "it holds the file now at the path"
    other = RunLease(run)
    assert got[0].remove_if_last() is False, "the new file is the one every later run shares"
    assert other.remove_if_last() is True


def _finish_together(run, barrier, results):
    lease = RunLease(run)
    barrier.wait()  # both runs hold their lease
    barrier.wait()  # ... and finish at the same instant
    results.put(lease.remove_if_last())


def test_two_runs_finishing_at_the_same_instant_remove_the_folder_exactly_once(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for attempt in range(30):
        run = tmp_path / f"key{attempt}"
        run.mkdir()
        barrier, results = context.Barrier(2), context.Queue()
        runs = [context.Process(target=_finish_together, args=(run, barrier, results)) for _ in range(2)]
        for process in runs:
            process.start()
        removed = sorted(results.get(timeout=30) for _ in runs)
        for process in runs:
            process.join(30)
        # a failed shared-to-exclusive conversion drops the shared lock (flock(2)), so one of the two always wins
        assert removed == [False, True], f"attempt {attempt}: {removed}"
        assert not run.exists() and not run.with_name(f"key{attempt}.lock").exists()


def test_folders_made_for_the_lease_go_with_the_folder_when_empty(tmp_path):
    cache = tmp_path / "cache"  # a cache dir never used before
    lease = RunLease(cache / "runs" / "key")
    assert lease.created == [cache / "runs", cache]
    (cache / "runs" / "key").mkdir()
    assert lease.remove_if_last() is True
    assert sorted(tmp_path.iterdir()) == [], "runs/ and the cache dir it made are gone"


def test_folders_that_were_there_or_hold_anything_stay(tmp_path):
    (tmp_path / "cache").mkdir()
    first = RunLease(tmp_path / "cache" / "runs" / "a")
    assert first.created == [tmp_path / "cache" / "runs"]
    other = RunLease(tmp_path / "cache" / "runs" / "b")  # another run, other texts
    assert first.remove_if_last() is True
    assert sorted(p.name for p in (tmp_path / "cache" / "runs").iterdir()) == ["b.lock"]
    assert other.remove_if_last() is True and (tmp_path / "cache").is_dir(), "it was there before"
    kept = RunLease(tmp_path / "new" / "key")
    (tmp_path / "new" / "key").mkdir()
    kept.release()  # --keep-work
    assert (tmp_path / "new" / "key").is_dir()


def test_a_lease_whose_parent_another_run_removes_meanwhile_makes_it_again(tmp_path, monkeypatch):
    import negmine.engine.run_lease as module

    real_open, calls = os.open, []

    def racing_open(path, *args):
        calls.append(path)
        if len(calls) == 1:  # the last run to end removed the empty runs/ between mkdir and open
            os.rmdir(os.path.dirname(path))
        return real_open(path, *args)

    monkeypatch.setattr(module.os, "open", racing_open)
    lease = RunLease(tmp_path / "cache" / "runs" / "key")
    assert len(calls) == 2 and lease.lock_path.exists()
    assert lease.remove_if_last() is True and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_mining_without_the_cache_leaves_nothing_in_the_cache_dir(tmp_path, retriever):
    from pathlib import Path

    from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig, RetrieveConfig, SelectConfig
    from negmine.pipeline.mine import mine
    from negmine.testing.beir import write_beir
    from negmine.testing.hash_embedder import HashEmbedder

    from .conftest import word_corpus

    beir = write_beir(tmp_path / "beir", *word_corpus())
    cache = tmp_path / "cache"
    config = MineConfig(
        data=DataConfig(data_dir=beir), encoder=EncoderConfig(use_cache=False, show_progress=False, cache_dir=cache),
        retrieve=RetrieveConfig(method=retriever), select=SelectConfig(num_negatives=3),
        output=OutputConfig(path=Path(tmp_path / "out" / "neg.jsonl")),
    )
    mine(config, embedder=HashEmbedder(16))
    assert not cache.exists(), sorted(cache.rglob("*"))


@pytest.mark.parametrize("stop", [ValueError, KeyboardInterrupt])
def test_a_run_that_raises_before_its_work_folder_exists_leaves_no_lock_file(tmp_path, stop):
    cache = tmp_path / "cache"  # a cache dir never used before
    lease = RunLease(cache / "runs" / "key")
    with pytest.raises(stop), lease.released_on_error():
        raise stop("before the run made its work folder")
    assert not cache.exists(), sorted(cache.rglob("*"))  # the lock file and runs/ and cache/ made for it
    lease.release()  # ended: idempotent


def test_a_run_that_raises_keeps_a_lock_file_another_run_holds(tmp_path):
    run = tmp_path / "runs" / "key"
    failing, other = RunLease(run), RunLease(run)
    with pytest.raises(ValueError), failing.released_on_error():
        raise ValueError("failed")
    assert failing.lock_path.is_file(), "the other run still holds it"
    assert failing._fd is None, "the failed run's lease ended"
    run.mkdir()
    assert other.remove_if_last() is True and sorted((tmp_path / "runs").iterdir()) == []


def test_a_run_that_raises_after_making_its_work_folder_keeps_it_and_its_lock_file(tmp_path):
    run = tmp_path / "runs" / "key"
    lease = RunLease(run)
    with pytest.raises(KeyboardInterrupt), lease.released_on_error():
        run.mkdir()
        (run / "documents.npy").write_bytes(b"x")
        raise KeyboardInterrupt
    assert (run / "documents.npy").is_file() and lease.lock_path.is_file(), "kept for the rerun to resume"
    assert RunLease(run).remove_if_last() is True


def _mine_into(tmp_path, beir, retriever, cache):
    from pathlib import Path

    from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig, RetrieveConfig, SelectConfig
    from negmine.pipeline.mine import mine
    from negmine.testing.hash_embedder import HashEmbedder

    config = MineConfig(
        data=DataConfig(data_dir=beir), encoder=EncoderConfig(show_progress=False, cache_dir=cache),
        retrieve=RetrieveConfig(method=retriever), select=SelectConfig(num_negatives=2),
        output=OutputConfig(path=Path(tmp_path / "out" / "neg.jsonl")),
    )
    return mine(config, embedder=None if retriever == "bm25" else HashEmbedder(16))


def test_bm25_mining_a_corpus_without_bm25_words_leaves_nothing_in_the_cache_dir(tmp_path):
    from negmine.errors import ConfigError
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": letter for i, letter in enumerate("abcdefgh")}  # one-letter words: BM25 keeps none
    beir = write_beir(tmp_path / "beir", corpus, {"q1": "x"}, [("q1", "d1", 1)])
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError, match="BM25 cannot index this corpus"):
        _mine_into(tmp_path, beir, "bm25", cache)
    assert not cache.exists(), sorted(cache.rglob("*"))  # the run's runs/bm25-<key>.lock was left there


def test_dense_mining_stopped_by_ctrl_c_before_encoding_leaves_no_lock_file(tmp_path, monkeypatch):
    import negmine.engine.dense as dense
    from negmine.testing.beir import write_beir

    from .conftest import word_corpus

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dense, "encode_to_store", stopped)
    beir = write_beir(tmp_path / "beir", *word_corpus())
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(KeyboardInterrupt):
        _mine_into(tmp_path, beir, "dense", cache)
    assert sorted(p.name for p in cache.rglob("*")) == [], "runs/ and runs/<key>.lock"
