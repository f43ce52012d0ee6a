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
