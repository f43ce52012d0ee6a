"""A shared lease on a mining run's work folder, so one run never deletes a folder another run is using.

Runs on the same texts, model and search settings share one work folder (``<work root>/<run key>``: its
embedding stores and searched shards make a rerun resume instead of recompute). A finished run removes that
folder, but two such runs can overlap (e.g. two strategies mined side by side). Each run therefore holds a
shared ``flock`` on ``<run key>.lock`` next to the folder from the moment it knows the folder until it ends,
and removes the folder only if it can then take the lock exclusively, i.e. no other run holds it; it then
deletes the lock file too. Two runs that finish at the same instant cannot both give up: a shared lock that
fails to convert to exclusive is dropped (``flock(2)``: conversion is not atomic), so the second attempt finds
no other holder and wins. The lock is the kernel's: a killed run's lease ends with its process. A run that
was waiting on a lock file deleted meanwhile sees that its file is no longer the one at the path and locks
the new one (the usual protocol for lock files that are removed). The folders a lease had to create above the work
folder (e.g. ``<cache dir>/runs`` and the cache dir itself on a first run) are removed with it when they are
left empty, so a run that caches nothing (``--no-cache``) leaves nothing behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class RunLease:
    """Held from construction (blocking until no run is removing the folder) until :meth:`release` or
    :meth:`remove_if_last`; ``path`` is the work folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.created: list[Path] = []  # folders made for the lease: removed again, when empty, with the folder
        self._fd: int | None = None
        while self._fd is None:
            self.created = sorted({*self.created, *_missing_parents(self.path)}, key=lambda f: -len(f.parts))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # another run's remove_if_last removed the empty parent just now
                continue
            fcntl.flock(fd, fcntl.LOCK_SH)
            if _is_at(fd, self.lock_path):
                self._fd = fd
            else:  # the run that held it exclusively removed the folder and this lock file: lock the new one
                os.close(fd)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.lock")

    def remove_if_last(self) -> bool:
        """Delete the work folder unless another run holds a lease on it; True when deleted. Ends the lease."""
        if self._fd is None:
            raise RuntimeError(f"the lease on {self.path} has ended")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            return False  # the last run to finish removes it
        shutil.rmtree(self.path, ignore_errors=True)
        self.lock_path.unlink(missing_ok=True)
        self.release()
        for folder in self.created:  # deepest first; one that holds anything (another run's lock) stays
            try:
                folder.rmdir()
            except OSError:
                break
        return True

    @contextmanager
    def released_on_error(self) -> Iterator["RunLease"]:
        """Release the lease if the block raises (the run will not get to remove the folder)."""
        try:
            yield self
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """End the lease without touching the folder (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops its lock
            self._fd = None


def _missing_parents(path: Path) -> list[Path]:
    """The folders above ``path`` that do not exist yet, deepest first."""
    missing = []
    for folder in path.parents:
        if folder.exists():
            break
        missing.append(folder)
    return missing


def _is_at(fd: int, path: Path) -> bool:
    """True when the open file ``fd`` is the file now at ``path``."""
    try:
        at = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (at.st_dev, at.st_ino)
