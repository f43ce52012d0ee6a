from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from negmine.encode.cache import EmbeddingCache, text_keys
from negmine.encode.inflight import InFlight
from negmine.io.atomic import _host, owner_tag

KEYS = text_keys(["a", "b", "c", "d"])


def _inflight(tmp_path, **bounds) -> InFlight:
    return InFlight(EmbeddingCache(tmp_path).shelf("fp"), **bounds)


def _claim_as(inflight: InFlight, owner: str, keys: np.ndarray, n: int = 1):
    inflight.folder.mkdir(parents=True, exist_ok=True)
    path = inflight.folder / f"{owner}.{n}.npy"
    np.save(path, keys)
    return path


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)  # that process has exited


def test_own_claims_are_not_waited_for_and_are_withdrawn(tmp_path):
    inflight = _inflight(tmp_path)
    token, clash = inflight.claim(KEYS[:2])
    assert not clash.any()
    assert [p.name for p in inflight.folder.iterdir()] == [f"{owner_tag()}.{token}.npy"]
    assert not inflight.claimed_elsewhere(KEYS).any()
    assert _inflight(tmp_path).claimed_elsewhere(KEYS).tolist() == [False, False, False, False]  # same process
    inflight.release(token)
    assert list(inflight.folder.iterdir()) == []
    inflight.claim(KEYS[:1]), inflight.claim(KEYS[1:2])
    inflight.release_all()
    assert list(inflight.folder.iterdir()) == []


def test_claims_of_live_processes_here_and_elsewhere_are_honoured(tmp_path):
    inflight = _inflight(tmp_path)
    _claim_as(inflight, f"{_host()}.{os.getppid()}", KEYS[:1])
    _claim_as(inflight, "otherhost.12", KEYS[2:3])  # another host of a shared file system: taken as live
    assert inflight.claimed_elsewhere(KEYS).tolist() == [True, False, True, False]


def test_the_claim_of_a_dead_process_is_removed_and_its_texts_are_free(tmp_path):
    inflight = _inflight(tmp_path)
    claim = _claim_as(inflight, f"{_host()}.{_dead_pid()}", KEYS)
    temp = inflight.folder / f".{claim.name}.{_host()}.{_dead_pid()}.abcdef.tmp"  # killed while writing a claim
    temp.write_bytes(b"")
    assert not inflight.claimed_elsewhere(KEYS).any()
    assert list(inflight.folder.iterdir()) == []


def test_a_claim_older_than_the_wait_bound_is_ignored(tmp_path):
    inflight = _inflight(tmp_path, wait_seconds=60)
    claim = _claim_as(inflight, "otherhost.12", KEYS)
    old = time.time() - 120
    os.utime(claim, (old, old))
    assert not inflight.claimed_elsewhere(KEYS).any()


def test_a_withdrawn_claim_frees_its_texts(tmp_path):
    inflight = _inflight(tmp_path)
    claim = _claim_as(inflight, "otherhost.12", KEYS[:2])
    assert inflight.claimed_elsewhere(KEYS).sum() == 2
    claim.unlink()
    assert not inflight.claimed_elsewhere(KEYS).any()


def test_waiting_ends_after_the_wait_bound_without_arrivals(tmp_path):
    inflight = _inflight(tmp_path, wait_seconds=0.3, poll_seconds=0.05)
    _claim_as(inflight, "otherhost.12", KEYS)
    inflight.pause(arrived=True)
    t0 = time.monotonic()
    while inflight.waiting:
        assert time.monotonic() - t0 < 5
        inflight.pause(arrived=False)
    assert 0.25 <= time.monotonic() - t0 and not inflight.claimed_elsewhere(KEYS).any()


def test_of_two_claims_written_at_the_same_moment_the_first_by_name_keeps_the_texts(tmp_path):
    """Two runs that both looked before either claimed: the claim whose file name sorts first keeps the shared
    texts and the other gives them up (one total order: exactly one gives way, neither waits for the other)."""
    inflight = _inflight(tmp_path)
    _claim_as(inflight, "-early.12", KEYS[:2])  # "-" sorts before any host name's letters and digits
    _claim_as(inflight, "zzzz-late.12", KEYS[1:3])
    token, clash = inflight.claim(KEYS)
    assert clash.tolist() == [True, True, False, False]
    (mine,) = [p for p in inflight.folder.iterdir() if p.name.startswith(owner_tag())]
    assert [bytes(k) for k in np.load(mine)] == [bytes(k) for k in KEYS[2:]]
    inflight.release(token)
    assert sorted(p.name for p in inflight.folder.iterdir()) == ["-early.12.1.npy", "zzzz-late.12.1.npy"]
    _claim_as(inflight, "-early.12", KEYS[2:], n=2)
    token, clash = inflight.claim(KEYS[2:])
    assert clash.all() and token not in inflight._mine  # nothing left to claim: no claim file of this run


def test_claim_file_names_are_never_reused_in_a_process(tmp_path):
    """A mine encodes its documents then its queries into the same shelf (both prompts empty) through two
    InFlight objects: a reader that kept the first claim's keys by file name must not take the second claim for
    it (it would wait on the documents and encode the queries again)."""
    shelf = EmbeddingCache(tmp_path).shelf("fp")
    names = []
    for keys in (KEYS[:2], KEYS[2:]):
        inflight = InFlight(shelf)
        token, _ = inflight.claim(keys)
        names += [p.name for p in inflight.folder.iterdir()]
        inflight.release(token)
    assert len(set(names)) == 2, names
