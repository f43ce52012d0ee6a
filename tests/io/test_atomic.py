from __future__ import annotations

import os

import pytest

from negmine.io.atomic import atomic_path, atomic_write


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"


def test_outputs_get_umask_permissions_not_0600(tmp_path):
    mask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "o.txt") as handle:
            handle.write("x")
    finally:
        os.umask(mask)
    assert (tmp_path / "o.txt").stat().st_mode & 0o777 == 0o644


def test_the_process_umask_is_never_changed_not_even_for_a_moment(tmp_path, monkeypatch):
    """Flipping the umask to read it (``os.umask(0)`` then back) would let another thread create a file with
    no umask at all in between: the temp file gets its mode from the kernel at creation instead."""
    def no_umask(mask):
        raise AssertionError(f"os.umask({mask:o}) called")

    monkeypatch.setattr(os, "umask", no_umask)
    with atomic_write(tmp_path / "o.txt") as handle:
        handle.write("x")
    assert (tmp_path / "o.txt").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["o.txt"]


def test_temp_names_never_clash_with_a_file_already_there(tmp_path, monkeypatch):
    import secrets

    names = iter(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(names))
    from negmine.io.atomic import _host

    taken = tmp_path / f".o.txt.{_host()}.{os.getpid()}.aaaaaaaaaaaa.tmp"
    taken.write_text("someone else's")
    with atomic_write(tmp_path / "o.txt") as handle:
        handle.write("mine")
    assert taken.read_text() == "someone else's"
    assert (tmp_path / "o.txt").read_text() == "mine"


def test_temp_files_of_killed_processes_are_removed_by_the_next_write(tmp_path):
    import subprocess
    import sys

    from negmine.io.atomic import _host

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited
    host = _host()
    orphan = tmp_path / f".o.txt.{host}.{dead_pid}.0123456789ab.tmp"
    live = tmp_path / f".o.txt.{host}.{os.getppid()}.0123456789ab.tmp"  # a running process's write
    elsewhere = tmp_path / f".o.txt.other-host.{dead_pid}.0123456789ab.tmp"  # a shared file system
    legacy = tmp_path / ".o.txt.0123456789ab.tmp"  # no owner recorded
    other_file = tmp_path / f".p.txt.{host}.{dead_pid}.0123456789ab.tmp"
    for path in (orphan, live, elsewhere, legacy, other_file):
        path.write_text("partial")
    with atomic_write(tmp_path / "o.txt") as handle:
        handle.write("x")
    assert not orphan.exists()
    assert live.exists() and elsewhere.exists() and legacy.exists() and other_file.exists()
    assert (tmp_path / "o.txt").read_text() == "x"


def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "o.txt"
    target.write_text("old")
    with pytest.raises(ValueError, match="boom"):
        with atomic_write(target) as handle:
            handle.write("half")
            raise ValueError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["o.txt"]


def test_atomic_write_binary_mode_and_encoding(tmp_path):
    with atomic_write(tmp_path / "b.bin", "wb") as handle:
        handle.write(b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    with atomic_write(tmp_path / "t.txt", encoding="utf-16-le") as handle:
        handle.write("é")
    assert (tmp_path / "t.txt").read_bytes() == "é".encode("utf-16-le")
    with atomic_write(tmp_path / "u.txt") as handle:
        handle.write("é\n")
    assert (tmp_path / "u.txt").read_bytes() == "é\n".encode("utf-8"), "UTF-8 by default, whatever the locale"


def test_atomic_path_creates_missing_parent_folders(tmp_path):
    target = tmp_path / "a" / "b" / "out.bin"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.exists() and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_atomic_save_npy_round_trips_and_replaces(tmp_path):
    import numpy as np

    from negmine.io.atomic import atomic_save_npy

    target = tmp_path / "v.npy"
    atomic_save_npy(target, np.arange(6, dtype=np.int64).reshape(2, 3))
    atomic_save_npy(target, np.array([[0.5, -1.0]], dtype=np.float32))
    loaded = np.load(target)
    assert loaded.dtype == np.float32 and loaded.tolist() == [[0.5, -1.0]]
    assert [p.name for p in tmp_path.iterdir()] == ["v.npy"]


def test_atomic_save_npy_refuses_object_arrays_and_keeps_the_old_file(tmp_path):
    import numpy as np

    from negmine.io.atomic import atomic_save_npy

    target = tmp_path / "v.npy"
    atomic_save_npy(target, np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        atomic_save_npy(target, np.array([{"a": 1}, None], dtype=object))
    assert np.load(target).tolist() == [0.0, 0.0]
    assert [p.name for p in tmp_path.iterdir()] == ["v.npy"]


def test_remove_orphan_temp_files_returns_what_it_removed_and_spares_this_process(tmp_path):
    import subprocess
    import sys

    from negmine.io.atomic import _host, remove_orphan_temp_files

    dead_pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                  capture_output=True, text=True).stdout)
    host = _host()
    target = tmp_path / "o.txt"
    orphans = [tmp_path / f".o.txt.{host}.{dead_pid}.{suffix}.tmp" for suffix in ("0a", "ff00")]
    mine = tmp_path / f".o.txt.{host}.{os.getpid()}.0123.tmp"  # this process's own write in progress
    odd = [tmp_path / f".o.txt.{host}.{dead_pid}.XYZ.tmp",  # not hex
           tmp_path / f".o.txt.{host}.{dead_pid}.0a.tmp.bak"]  # not a temp name
    for path in (*orphans, mine, *odd):
        path.write_text("partial")
    assert sorted(remove_orphan_temp_files(target)) == sorted(orphans)
    assert not any(p.exists() for p in orphans)
    assert mine.exists() and all(p.exists() for p in odd)
    assert remove_orphan_temp_files(target) == [], "nothing left to remove"


def test_a_process_of_another_user_counts_as_alive(monkeypatch):
    from negmine.io import atomic

    def denied(pid, sig):
        raise PermissionError(pid)

    assert atomic._alive(os.getpid())
    monkeypatch.setattr(os, "kill", denied)
    assert atomic._alive(1)


def test_host_part_of_temp_names_is_sanitised(monkeypatch):
    import socket

    from negmine.io.atomic import _host

    monkeypatch.setattr(socket, "gethostname", lambda: "node_7.cluster.local")
    assert _host() == "node-7-cluster-local"
    monkeypatch.setattr(socket, "gethostname", lambda: "")
    assert _host() == "host"


def test_no_free_temp_name_is_an_error_naming_the_target(tmp_path, monkeypatch):
    import secrets

    from negmine.io.atomic import _host

    monkeypatch.setattr(secrets, "token_hex", lambda n: "aaaaaaaaaaaa")
    (tmp_path / f".o.txt.{_host()}.{os.getpid()}.aaaaaaaaaaaa.tmp").write_text("taken")
    target = tmp_path / "o.txt"
    with pytest.raises(FileExistsError, match=f"no free temporary name next to {target}"):
        with atomic_write(target) as handle:
            handle.write("x")
    assert not target.exists()


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_remove_dead_owners_deletes_what_killed_processes_of_this_host_left(tmp_path):
    from negmine.io.atomic import _host, owned_prefix, remove_dead_owners

    host, dead = _host(), _dead_pid()
    assert owned_prefix("scratch-") == f"scratch-{host}.{os.getpid()}."
    dead_file = tmp_path / f"scratch-{host}.{dead}.x1.arrow"
    dead_dir = tmp_path / f"scratch-{host}.{dead}.x2"
    keep = [tmp_path / f"scratch-{host}.{os.getppid()}.x3",  # a live process (this one's parent)
            tmp_path / f"{owned_prefix('scratch-')}x4",  # this process
            tmp_path / f"scratch-otherhost.{dead}.x5",  # another host on a shared file system
            tmp_path / f"scratch-{host}.notapid.x6", tmp_path / f"other-{host}.{dead}.x7"]
    dead_file.write_text("spill")
    (dead_dir / "sub").mkdir(parents=True)
    for path in keep:
        path.write_text("")
    assert sorted(remove_dead_owners(tmp_path, "scratch-")) == sorted([dead_file, dead_dir])
    assert sorted(tmp_path.iterdir()) == sorted(keep)


def test_owner_tags_tell_dead_processes_of_this_host_from_the_rest():
    from negmine.io.atomic import _host, is_dead_owner, owner_tag

    host = _host()
    assert owner_tag() == f"{host}.{os.getpid()}"
    assert is_dead_owner(f"{host}.{_dead_pid()}\n")
    for alive in (owner_tag(), f"{host}.{os.getppid()}", f"other-host.{_dead_pid()}", "", "garbage", f"{host}.x"):
        assert not is_dead_owner(alive), alive
