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
the new one (the usual protocol for lock files that are removed, shared in :mod:`negmine.io.lock_file`). The
folders a lease had to create above the work folder (e.g. ``<cache dir>/runs`` and the cache dir itself on a
first run) are removed with it when they are left empty, so a run that caches nothing (``--no-cache``) leaves
nothing behind. A run that raises (an error, or Ctrl-C) before its work folder exists has nothing to resume:
it deletes the lock file as the last run does (and those folders, when empty), unless another run holds it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from negmine.io.lock_file import open_locked, remove_locked


class RunLease:
    """Held from construction (blocking until no run is removing the folder) until :meth:`release` or
    :meth:`remove_if_last`; ``path`` is the work folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None
        self.created: list[Path]  # folders made for the lease: removed again, when empty, with the folder
        self._fd, self.created = open_locked(self.lock_path, fcntl.LOCK_SH)  # see negmine.io.lock_file

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
        fd, self._fd = self._fd, None
        remove_locked(fd, self.lock_path, self.created)  # with the folders made for it, when left empty
        return True

    @contextmanager
    def released_on_error(self) -> Iterator["RunLease"]:
        """End the lease if the block raises (the run will not get to remove the folder): see
        :meth:`release_after_error`."""
        try:
            yield self
        except BaseException:
            self.release_after_error()
            raise

    def release_after_error(self) -> None:
        """End the lease of a run that raised. A work folder stays, for a rerun to resume, with its lock file
        beside it; with no work folder (the run failed before it made one) the lock file is deleted too, with the
        folders made for it when left empty, unless another run holds it (it then stays theirs)."""
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another run holds it (the failed conversion dropped our shared lock)
            self.release()
            return
        if self.path.exists():  # checked holding the lock alone: no run is making the folder meanwhile
            self.release()
            return
        fd, self._fd = self._fd, None
        remove_locked(fd, self.lock_path, self.created)

    def release(self) -> None:
        """End the lease without touching the folder (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops its lock
            self._fd = None

