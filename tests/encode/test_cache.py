from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re

import numpy as np
import pytest

from negmine.encode.cache import (
    EmbeddingCache,
    default_cache_dir,
    namespace_id,
    text_key,
    text_keys,
)
from negmine.errors import NegmineWarning


def _vecs(n, dim=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def test_text_key_is_blake2b_128():
    assert text_key("héllo") == hashlib.blake2b("héllo".encode(), digest_size=16).digest()
    keys = text_keys(["a", "b", "a"])
    assert keys.shape == (3, 16) and keys.dtype == np.uint8
    assert bytes(keys[0]) == text_key("a") and np.array_equal(keys[0], keys[2])


def test_lone_surrogate_text_has_a_key():
    assert len(text_key("bad \ud800 text")) == 16


def test_put_then_get_roundtrip_and_miss(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys, vecs = text_keys(["x", "y", "z"]), _vecs(3)
    cache.put("fp", "", keys, vecs)
    found, got = cache.get("fp", "", text_keys(["z", "nope", "x"]))
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(got, vecs[[2, 0]])
    assert cache.count("fp", "") == 3


def test_layout_on_disk(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "query: ", text_keys(["x"]), _vecs(1))
    cache.put("fp", "query: ", text_keys(["y", "z"]), _vecs(2))
    folder = tmp_path / hashlib.sha256(b"fp\0query: ").hexdigest()
    assert folder.name == namespace_id("fp", "query: ")
    assert sorted(p.name for p in folder.iterdir()) == [
        "0.keys.npy", "0.vecs.npy", "1.keys.npy", "1.vecs.npy", "meta.json"
    ]
    assert json.loads((folder / "meta.json").read_text()) == {"fingerprint": "fp", "prompt": "query: ", "dim": 4}
    assert np.load(folder / "1.keys.npy").shape == (2, 16)
    assert np.load(folder / "1.vecs.npy").dtype == np.float32


def test_prompt_and_fingerprint_separate_entries(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = text_keys(["same text"])
    cache.put("fp", "query: ", keys, _vecs(1, seed=1))
    assert not cache.get("fp", "passage: ", keys)[0].any()
    assert not cache.get("fp", "", keys)[0].any()
    assert not cache.get("other-fp", "query: ", keys)[0].any()
    assert cache.get("fp", "query: ", keys)[0].all()


def test_new_instance_and_concurrent_writer_are_seen(tmp_path):
    first, second = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    first.put("fp", "", text_keys(["a"]), _vecs(1))
    assert second.get("fp", "", text_keys(["a"]))[0].all()
    second.put("fp", "", text_keys(["b"]), _vecs(1, seed=3))  # written after ``first`` built its index
    found, got = first.get("fp", "", text_keys(["a", "b"]))
    assert found.all()
    np.testing.assert_array_equal(got[1], _vecs(1, seed=3)[0])


def test_claimed_shard_number_is_skipped(tmp_path):
    cache = EmbeddingCache(tmp_path)
    shelf = cache.shelf("fp")
    shelf.folder.mkdir(parents=True)
    (shelf.folder / "0.claim").touch()  # another process is writing shard 0
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    assert (shelf.folder / "1.keys.npy").exists() and not (shelf.folder / "1.claim").exists()
    assert cache.get("fp", "", text_keys(["a"]))[0].all()


def test_incomplete_shard_is_ignored(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    folder = cache.shelf("fp").folder
    np.save(folder / "1.vecs.npy", _vecs(1))  # crash before the keys file was written
    fresh = EmbeddingCache(tmp_path)
    assert fresh.get("fp", "", text_keys(["a"]))[0].all()
    assert not fresh.get("fp", "", text_keys(["b"]))[0].any()
    fresh.put("fp", "", text_keys(["b"]), _vecs(1, seed=5))
    # the orphan vectors (no claim, no keys) are removed first, so the new shard takes its number
    assert sorted(p.name for p in folder.glob("1.*")) == ["1.keys.npy", "1.vecs.npy"]
    np.testing.assert_array_equal(EmbeddingCache(tmp_path).get("fp", "", text_keys(["b"]))[1], _vecs(1, seed=5))


def test_duplicate_key_resolves_to_lowest_shard(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = text_keys(["dup"])
    cache.put("fp", "", keys, np.ones((1, 4), np.float32))
    cache.put("fp", "", keys, np.full((1, 4), 2.0, np.float32))
    for instance in (cache, EmbeddingCache(tmp_path)):
        np.testing.assert_array_equal(instance.get("fp", "", keys)[1], np.ones((1, 4)))
    assert cache.count("fp", "") == 1


def test_keys_sharing_the_search_prefix_are_told_apart(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = np.zeros((3, 16), np.uint8)
    keys[1, 15], keys[2, 15] = 1, 2  # identical first 8 bytes
    vecs = _vecs(3)
    cache.put("fp", "", keys[[2, 0]], vecs[[2, 0]])
    found, got = cache.get("fp", "", keys)
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(got, vecs[[0, 2]])


def test_many_keys_over_many_shards(tmp_path):
    cache = EmbeddingCache(tmp_path)
    texts = [f"text {i}" for i in range(5000)]
    keys, vecs = text_keys(texts), _vecs(5000, dim=8)
    for start in range(0, 5000, 700):
        cache.put("fp", "", keys[start : start + 700], vecs[start : start + 700])
    order = np.random.default_rng(1).permutation(5000)[:3000]
    found, got = EmbeddingCache(tmp_path).get("fp", "", keys[order])
    assert found.all()
    np.testing.assert_array_equal(got, vecs[order])


def test_dimension_mismatch_refused(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1, dim=4))
    with pytest.raises(ValueError, match="holds 4-dim vectors; refusing to add 8-dim"):
        cache.put("fp", "", text_keys(["b"]), _vecs(1, dim=8))


def test_a_meta_file_recording_another_dimension_than_every_shard_is_written_again(tmp_path):
    """meta.json edited to another size than the shards': each shard is found unreadable and removed (its texts
    are encoded again), and the next write refused the model's own vectors with a ValueError, once every text was
    encoded (a traceback ending negmine mine and negmine eval). Now the file is written again, with a warning."""
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1, dim=4))
    shelf = cache.shelf("fp", "")
    meta = shelf.folder / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "dim": 16}))
    reopened = EmbeddingCache(tmp_path)
    with pytest.warns(NegmineWarning) as caught:
        found, _ = reopened.get("fp", "", text_keys(["a"]))
        reopened.put("fp", "", text_keys(["a"]), _vecs(1, dim=4))
    assert not found.any()  # one shard against meta.json, told no size: a tie, which meta.json wins (shard_sizes)
    assert str(caught[-1].message) == (f"embedding cache file {meta} records 16-dim vectors, but no shard of the "
                                       "folder holds such vectors and its model gives 4-dim ones (the file was edited "
                                       "or damaged); it is written again for 4-dim vectors")
    assert json.loads(meta.read_text())["dim"] == 4
    found, got = EmbeddingCache(tmp_path).get("fp", "", text_keys(["a"]))
    assert found.all()
    np.testing.assert_array_equal(got, _vecs(1, dim=4))


def test_without_a_size_a_meta_file_recording_another_size_than_most_shards_leaves_them_in_use(tmp_path):
    """``get`` and ``put`` told no model size checked the shards against meta.json: one edited to another size made
    every shard count as damaged, removed and encoded again (the shelves told their model's size were fixed in
    session 57). The size most of the folder's files give wins, meta.json one vote (small leftovers, session 58)."""
    cache = EmbeddingCache(tmp_path)
    texts = ["a", "b", "c"]
    for i, text in enumerate(texts):
        cache.put("fp", "", text_keys([text]), _vecs(1, seed=i))
    folder = cache.shelf("fp").folder
    meta = folder / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "dim": 16}))
    with _negmine_warnings() as messages:
        found, got = EmbeddingCache(tmp_path).get("fp", "", text_keys(texts))
    assert found.all()
    np.testing.assert_array_equal(got, np.concatenate([_vecs(1, seed=i) for i in range(3)]))
    assert messages == [f"embedding cache file {meta} records 16-dim vectors, but 3 of the folder's shards hold 4-dim "
                        "ones (the file was edited or damaged); the folder's shards of 4-dim vectors (the size most "
                        "of its shards hold) are used and the file is written again for 4-dim vectors"]
    assert json.loads(meta.read_text())["dim"] == 4
    assert sorted(p.name for p in folder.glob("*.npy")) == [f"{i}.{k}.npy" for i in range(3) for k in ("keys", "vecs")]


def test_without_a_size_a_shard_of_another_size_than_most_is_the_damaged_one(tmp_path):
    cache = EmbeddingCache(tmp_path)
    for i, text in enumerate(["a", "b", "c"]):
        cache.put("fp", "", text_keys([text]), _vecs(1, seed=i))
    folder = cache.shelf("fp").folder
    np.save(folder / "0.vecs.npy", _vecs(1, dim=5))
    with _negmine_warnings() as messages:
        found, _ = EmbeddingCache(tmp_path).get("fp", "", text_keys(["a", "b", "c"]))
    assert found.tolist() == [False, True, True]
    assert len(messages) == 1 and "shard 0" in messages[0] and "1 x 5 vectors for 1 keys of 4-dim" in messages[0]


def test_bad_shapes_refused(tmp_path):
    cache = EmbeddingCache(tmp_path)
    with pytest.raises(ValueError, match=r"cache keys must have shape \(n, 16\)"):
        cache.put("fp", "", np.zeros((2, 8), np.uint8), _vecs(2))
    with pytest.raises(ValueError, match="2 keys for vectors of shape"):
        cache.put("fp", "", text_keys(["a", "b"]), _vecs(3))


def test_default_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert EmbeddingCache().root == tmp_path / "c"
    monkeypatch.delenv("NEGMINE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "negmine"


def test_vectors_readable_without_meta_file(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a", "b"]), _vecs(2, dim=6))
    (cache.shelf("fp").folder / "meta.json").unlink()
    found, got = EmbeddingCache(tmp_path).get("fp", "", text_keys(["b"]))
    assert found.all() and got.shape == (1, 6)
    assert EmbeddingCache(tmp_path).get("fp", "", text_keys(["zz"]))[1].shape == (0, 0)


# ---- leftovers of killed writers ---------------------------------------------------------------------------
_KILLED_WRITER = """
import os, signal, sys
import numpy as np
import negmine.encode.cache as cache_module
from negmine.io.atomic import atomic_write

real_save = cache_module.atomic_save_npy

def save(path, array):
    if sys.argv[2] == "during" and str(path).endswith(".vecs.npy"):
        with atomic_write(path, "wb") as handle:  # killed while the vectors' temp file is being written
            np.save(handle, array)
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    real_save(path, array)
    if sys.argv[2] == "between" and str(path).endswith(".vecs.npy"):
        os.kill(os.getpid(), signal.SIGKILL)  # killed after the vectors file, before the keys file

cache_module.atomic_save_npy = save
cache_module.EmbeddingCache(sys.argv[1]).put("fp", "", cache_module.text_keys(["a", "b"]), np.ones((2, 4), np.float32))
"""


def _kill_a_writer(root, moment: str) -> int:
    import signal
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(root), moment], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc.returncode


@pytest.mark.parametrize("moment", ["between", "during"])
def test_a_writer_killed_mid_shard_leaves_nothing_after_the_next_write(tmp_path, moment):
    from negmine.io.atomic import _host

    _kill_a_writer(tmp_path, moment)
    folder = EmbeddingCache(tmp_path).shelf("fp").folder
    left = sorted(p.name for p in folder.iterdir() if p.name != "meta.json")
    assert "0.claim" in left and len(left) == 2, left  # the claim and the vectors (or their temp file)
    assert (folder / "0.claim").read_text().startswith(f"{_host()}."), "the claim names its writer"
    cache = EmbeddingCache(tmp_path)
    assert not cache.get("fp", "", text_keys(["a"]))[0].any()
    cache.put("fp", "", text_keys(["c"]), _vecs(1))
    assert sorted(p.name for p in folder.iterdir()) == ["0.keys.npy", "0.vecs.npy", "meta.json"]
    assert EmbeddingCache(tmp_path).get("fp", "", text_keys(["a", "c"]))[0].tolist() == [False, True]


def _dead_pid() -> int:
    import subprocess
    import sys

    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)  # that process has exited


def test_a_writer_killed_after_its_keys_file_keeps_its_shard(tmp_path):
    from negmine.io.atomic import _host

    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    folder = cache.shelf("fp").folder
    (folder / "0.claim").write_text(f"{_host()}.{_dead_pid()}")  # killed before it removed its claim
    assert cache.shelf("fp").remove_dead_claims() == [folder / "0.claim"]
    assert EmbeddingCache(tmp_path).get("fp", "", text_keys(["a"]))[0].all()


def test_claims_of_live_or_foreign_writers_stay(tmp_path):
    import os
    import time

    from negmine.encode.cache import UNOWNED_CLAIM_SECONDS
    from negmine.io.atomic import _host

    shelf = EmbeddingCache(tmp_path).shelf("fp")
    shelf.folder.mkdir(parents=True)
    owners = {0: f"{_host()}.{os.getppid()}", 1: f"{_host()}.{os.getpid()}", 2: "otherhost.1", 3: "", 4: ""}
    for number, owner in owners.items():
        (shelf.folder / f"{number}.claim").write_text(owner)
        np.save(shelf.folder / f"{number}.vecs.npy", _vecs(1))
    old = time.time() - UNOWNED_CLAIM_SECONDS - 60
    os.utime(shelf.folder / "4.claim", (old, old))  # an owner-less claim (older negmine) a day old
    assert shelf.remove_dead_claims() == [shelf.folder / "4.vecs.npy", shelf.folder / "4.claim"]
    assert sorted(p.name for p in shelf.folder.glob("*.claim")) == ["0.claim", "1.claim", "2.claim", "3.claim"]


def test_an_interrupted_write_between_the_two_files_removes_its_vectors(tmp_path, monkeypatch):
    import negmine.encode.cache as cache_module

    real_save = cache_module.atomic_save_npy

    def save(path, array):
        if str(path).endswith(".keys.npy"):
            raise KeyboardInterrupt
        real_save(path, array)

    monkeypatch.setattr(cache_module, "atomic_save_npy", save)
    cache = EmbeddingCache(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        cache.put("fp", "", text_keys(["a"]), _vecs(1))
    assert [p.name for p in cache.shelf("fp").folder.iterdir()] == ["meta.json"]


# ---- damaged shards ------------------------------------------------------------------------------------------
def _cut(path, how):
    size = path.stat().st_size
    if how == "empty":
        path.write_bytes(b"")
    elif how == "half":
        os.truncate(path, size // 2)
    elif how == "zeros":
        path.write_bytes(b"\0" * size)


@pytest.mark.parametrize("damage", [
    ("keys", "empty"), ("keys", "half"), ("keys", "zeros"), ("vecs", "empty"), ("vecs", "half"), ("vecs", "zeros"),
    ("vecs", "rows"), ("vecs", "dim"), ("vecs", "dtype"),
])
def test_a_damaged_shard_is_reported_removed_and_written_again(tmp_path, damage):
    kind, how = damage
    cache = EmbeddingCache(tmp_path)
    first, second = text_keys([f"t{i}" for i in range(50)]), text_keys([f"u{i}" for i in range(50)])
    cache.put("fp", "", first, _vecs(50, seed=1))
    cache.put("fp", "", second, _vecs(50, seed=2))
    folder = cache.shelf("fp").folder
    path = folder / f"0.{kind}.npy"
    if how == "rows":
        np.save(path, _vecs(49, seed=1))
    elif how == "dim":
        np.save(path, _vecs(50, dim=5, seed=1))
    elif how == "dtype":
        np.save(path, _vecs(50, seed=1).astype(np.float64))
    else:
        _cut(path, how)
    fresh = EmbeddingCache(tmp_path)
    with _negmine_warnings() as messages:
        found, got = fresh.get("fp", "", np.concatenate([first[:3], second[:3]]))
    assert len(messages) == 1
    assert re.fullmatch(rf"embedding cache shard 0 of {re.escape(str(folder))} \(0\.keys\.npy, 0\.vecs\.npy\) is "
                        r"unreadable \(\w+: .*\); it is not used and is removed, its texts are encoded again",
                        messages[0])
    assert found.tolist() == [False] * 3 + [True] * 3, "the damaged shard is never read, the sound one is"
    np.testing.assert_array_equal(got, _vecs(50, seed=2)[:3])
    assert not list(folder.glob("0.*")), "it is removed"
    fresh.put("fp", "", first, _vecs(50, seed=1))  # encoded again
    found, got = EmbeddingCache(tmp_path).get("fp", "", first)
    assert found.all()
    np.testing.assert_array_equal(got, _vecs(50, seed=1))


@contextlib.contextmanager
def _negmine_warnings():
    """The messages of the NegmineWarnings issued in the block (every one, repeats too: ``always``); any other
    warning fails the test."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.simplefilter("always", NegmineWarning)
        messages: list[str] = []
        yield messages
    messages.extend(str(w.message) for w in caught)
    assert all(issubclass(w.category, NegmineWarning) for w in caught), caught


def test_a_damaged_shard_with_the_wrong_dimension_is_a_negmine_warning(tmp_path):
    """It printed in Python's raw warnings format: '.../encode/cache.py:NNN: UserWarning: embedding cache shard ...'
    and then the source line 'keys = self._read_keys(number)'; then it was a log line, which a warnings filter on
    NegmineWarning missed. It is a NegmineWarning, which the command line prints as a ``warning:`` line."""
    cache = EmbeddingCache(tmp_path)
    keys = text_keys(["a", "b"])
    cache.put("fp", "", keys, _vecs(2))
    folder = cache.shelf("fp").folder
    np.save(folder / "0.vecs.npy", _vecs(2, dim=5))
    with _negmine_warnings() as messages:
        assert not EmbeddingCache(tmp_path).get("fp", "", keys)[0].any()
    assert messages == [
        f"embedding cache shard 0 of {folder} (0.keys.npy, 0.vecs.npy) is unreadable (ValueError: 2 x 5 vectors "
        "for 2 keys of 4-dim vectors); it is not used and is removed, its texts are encoded again"
    ]


def test_a_damaged_shard_in_a_read_only_folder_is_skipped_and_reported_once(tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    folder = cache.shelf("fp").folder
    _cut(folder / "0.vecs.npy", "half")
    monkeypatch.setattr(os, "unlink", lambda path: (_ for _ in ()).throw(PermissionError(13, "read-only", path)))
    fresh = EmbeddingCache(tmp_path)
    with _negmine_warnings() as messages:
        assert not fresh.get("fp", "", text_keys(["a"]))[0].any()
    assert len(messages) == 1 and "unreadable" in messages[0]
    with _negmine_warnings() as messages:
        assert not fresh.get("fp", "", text_keys(["a"]))[0].any()
    assert messages == [], "reported once"


def test_an_unreadable_meta_file_is_reported_and_written_again(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    meta = cache.shelf("fp").folder / "meta.json"
    meta.write_text("")
    fresh = EmbeddingCache(tmp_path)
    with _negmine_warnings() as messages:
        fresh.put("fp", "", text_keys(["b"]), _vecs(1, seed=2))
    assert len(messages) == 1
    assert re.fullmatch(r"embedding cache file .*meta\.json is unreadable \(JSONDecodeError: .*\); the folder's "
                        r"shards of 4-dim vectors \(the size most of its shards hold\) are used and the file is "
                        r"written again for 4-dim vectors", messages[0])
    assert json.loads(meta.read_text())["dim"] == 4
    assert EmbeddingCache(tmp_path).get("fp", "", text_keys(["a", "b"]))[0].all()


def test_an_unreadable_meta_file_is_written_again_also_by_a_read_that_finds_every_text(tmp_path):
    """Without a size (``get`` alone) the file was written again only with new vectors, so each run that found
    every text cached warned again, as the shelves told their model's size did before (small leftovers,
    session 58)."""
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["a"]), _vecs(1))
    meta = cache.shelf("fp").folder / "meta.json"
    meta.write_text("{\"fingerprint\": ")
    with _negmine_warnings() as messages:
        assert EmbeddingCache(tmp_path).get("fp", "", text_keys(["a"]))[0].all()
    assert len(messages) == 1 and "is unreadable (JSONDecodeError" in messages[0]
    assert json.loads(meta.read_text()) == {"fingerprint": "fp", "prompt": "", "dim": 4}
    with _negmine_warnings() as messages:
        assert EmbeddingCache(tmp_path).get("fp", "", text_keys(["a"]))[0].all()
    assert messages == []


def test_an_unreadable_meta_file_of_a_folder_without_shards_is_written_with_the_next_vectors(tmp_path):
    cache = EmbeddingCache(tmp_path)
    folder = cache.shelf("fp").folder
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text("")
    with _negmine_warnings() as messages:
        assert not cache.get("fp", "", text_keys(["a"]))[0].any()
    assert len(messages) == 1 and re.fullmatch(r"embedding cache file .*meta\.json is unreadable \(JSONDecodeError: "
                                               r".*\); it is written again with the next vectors", messages[0])


def test_texts_another_run_cached_meanwhile_are_not_written_again(tmp_path):
    first, second = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)  # two runs on one cache
    assert not second.get("fp", "", text_keys(["a", "b"]))[0].any()  # both look before either has written
    first.put("fp", "", text_keys(["a", "b"]), _vecs(2, seed=1))
    second.put("fp", "", text_keys(["a", "b"]), _vecs(2, seed=1))  # encoded the same texts at the same time
    second.put("fp", "", text_keys(["b", "c"]), _vecs(2, seed=2))
    folder = first.shelf("fp").folder
    assert sorted(p.name for p in folder.glob("*.keys.npy")) == ["0.keys.npy", "1.keys.npy"]
    assert np.load(folder / "1.keys.npy").tolist() == text_keys(["c"]).tolist(), "only the new text"
    found, got = EmbeddingCache(tmp_path).get("fp", "", text_keys(["a", "b", "c"]))
    assert found.all()
    np.testing.assert_array_equal(got, np.concatenate([_vecs(2, seed=1), _vecs(2, seed=2)[1:]]))
    assert EmbeddingCache(tmp_path).count("fp") == 3


def test_meta_records_the_model_name_or_the_absolute_path_of_a_local_folder(tmp_path, monkeypatch):
    """``negmine cache list`` names a namespace's model from its meta.json: a fingerprint alone says nothing."""
    cache = EmbeddingCache(tmp_path / "cache")
    cache.shelf("fp1", "", "org/name").put(text_keys(["x"]), _vecs(1))
    assert json.loads((cache.shelf("fp1").folder / "meta.json").read_text())["model"] == "org/name"
    (tmp_path / "here" / "model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "here")
    cache.shelf("fp2", "", "model").put(text_keys(["x"]), _vecs(1))
    meta = json.loads((cache.shelf("fp2").folder / "meta.json").read_text())
    assert meta == {"fingerprint": "fp2", "prompt": "", "dim": 4, "model": str(tmp_path / "here" / "model")}


def test_a_shelf_in_use_holds_a_shared_lease_next_to_its_folder(tmp_path):
    """The lease ``negmine cache prune`` needs to take exclusively before deleting a namespace."""
    import fcntl

    cache = EmbeddingCache(tmp_path)
    shelf = cache.shelf("fp")
    shelf.get(text_keys(["x"]))
    assert not shelf.lock_path.exists(), "a look at a missing namespace leaves nothing behind"
    shelf.put(text_keys(["x"]), _vecs(1))
    assert shelf.lock_path == tmp_path / f"{namespace_id('fp', '')}.lock"
    reader = EmbeddingCache(tmp_path).shelf("fp")
    assert reader.get(text_keys(["x"]))[0].all()  # readers share it
    with open(shelf.lock_path) as handle:
        with pytest.raises(BlockingIOError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        shelf.close()
        with pytest.raises(BlockingIOError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        cache.close()
        reader.close()
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # every lease ended


def test_a_shard_whose_vectors_vanished_after_indexing_counts_as_not_cached(tmp_path):
    """Deleted under a reader by hand or by a prune that took no lease: its texts are a miss, not a crash."""
    cache = EmbeddingCache(tmp_path)
    cache.put("fp", "", text_keys(["x", "y"]), _vecs(2))
    cache.put("fp", "", text_keys(["z"]), _vecs(1, seed=1))
    reader = EmbeddingCache(tmp_path).shelf("fp")
    assert reader.count() == 3  # both shards indexed
    os.unlink(reader.folder / "0.vecs.npy")
    found, got = reader.get(text_keys(["x", "z", "y"]))
    assert found.tolist() == [False, True, False]
    np.testing.assert_array_equal(got, _vecs(1, seed=1))
    reader.put(text_keys(["x"]), _vecs(1, seed=2))  # encoded again, into a new shard
    assert reader.get(text_keys(["x"]))[0].all()


def test_a_cache_used_as_a_context_manager_ends_its_folders_locks(tmp_path):
    """A cache kept by a long-lived process holds its shelves' locks (negmine cache prune keeps their folders)
    until it is closed: ``with`` closes it; a closed cache can be used again."""
    from negmine.encode.cache_contents import held

    keys, vecs = text_keys(["a", "b"]), _vecs(2)
    with EmbeddingCache(tmp_path) as cache:
        cache.put("fp", "", keys, vecs)
        lock = cache.shelf("fp").lock_path
        assert held(lock)
    assert not held(lock)
    assert cache.count("fp") == 2 and held(lock)
    cache.close()
    assert not held(lock)
