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
    (tmp_path / ".o.txt.aaaaaaaaaaaa.tmp").write_text("someone else's")
    with atomic_write(tmp_path / "o.txt") as handle:
        handle.write("mine")
    assert (tmp_path / ".o.txt.aaaaaaaaaaaa.tmp").read_text() == "someone else's"
    assert (tmp_path / "o.txt").read_text() == "mine"
