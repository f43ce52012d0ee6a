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
