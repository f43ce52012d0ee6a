"""Lock files that are removed when done: take a ``flock`` on a file at a path, and delete that file safely.

A lock file left behind after every run is clutter, but deleting one races: a process that opened the file
just before it was unlinked can lock the orphaned inode and believe it holds the lock, while the next process
creates and locks a new file at the path. The usual protocol closes the race: the remover unlinks the file
while it holds the lock exclusively, and a process that got a lock checks that its open file is still the one
at the path, locking the new file when it is not (:func:`open_locked`). The lock is the kernel's, so a killed
process's lock ends with it; its file stays, unlocked, and the next run takes it over. Folders created for the
lock file are recorded so that the remover can delete them again when they are left empty.
Used by work-folder leases (:mod:`negmine.engine.run_lease`) and output locks (:mod:`negmine.io.output_lock`).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Sequence


def open_locked(lock_path: Path, operation: int, created: Sequence[Path] = ()) -> tuple[int, list[Path]]:
    """``(fd, created)``: the file at ``lock_path`` (made, with its missing folders, if absent) opened and
    ``flock``-ed with ``operation``; ``created`` is the given list plus the folders made for it, deepest first.
    With ``LOCK_NB``, :class:`BlockingIOError` when another open file holds the lock (nothing is left open)."""
    while True:
        created = sorted({*created, *missing_parents(lock_path)}, key=lambda f: -len(f.parts))
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # another process removed the empty parent just now
            continue
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            at = is_at(fd, lock_path)
            os.close(fd)
            if at:
                raise
            continue  # the holder is removing this file as it ends: lock the new one
        except BaseException:
            os.close(fd)
            raise
        if is_at(fd, lock_path):
            return fd, created
        os.close(fd)  # the process that held it exclusively removed this file: lock the new one


def remove_locked(fd: int, lock_path: Path, created: list[Path]) -> None:
    """Delete the lock file ``fd`` holds exclusively, then drop the lock, then the ``created`` folders that are
    left empty (deepest first; one that holds anything, e.g. another process's lock, stays with its parents)."""
    lock_path.unlink(missing_ok=True)
    os.close(fd)  # closing the descriptor drops its lock
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            break


def missing_parents(path: Path) -> list[Path]:
    """The folders above ``path`` that do not exist yet, deepest first."""
    missing = []
    for folder in path.parents:
        if folder.exists():
            break
        missing.append(folder)
    return missing


def is_at(fd: int, path: Path) -> bool:
    """True when the open file ``fd`` is the file now at ``path``."""
    try:
        at = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (at.st_dev, at.st_ino)
