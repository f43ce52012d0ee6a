"""On-disk embedding store: one ``.npy`` file of ``(n, dim)`` float32 rows plus a marker per finished shard.

Rows are written with ``os.pwrite`` and read with ``os.pread`` (never through a writable memory map), so
the writer's resident memory stays at one shard whatever the corpus size; the finished file is handed to
the later stages as a read-only ``np.memmap``. A shard counts as done only once its rows are fsynced and
its marker ``<name>.done/<shard>`` exists (created atomically after the data), so a run killed at any
moment (``kill -9``) resumes at the first unfinished shard and re-writes at most that one. The file and the
markers are created through :func:`negmine.io.atomic.atomic_path`, so a killed run's temp files are removed
by the next run that creates the same file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from negmine.io.atomic import atomic_path

DTYPE = np.dtype("<f4")


def _header_bytes(shape: tuple[int, int]) -> bytes:
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": DTYPE.str, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


class EmbeddingStore:
    """``path`` holds ``shape`` float32 rows; ``path.with_suffix('.done')`` holds one marker per finished shard."""

    def __init__(self, path: str | Path, shape: tuple[int, int]) -> None:
        self.path = Path(path)
        self.shape = (int(shape[0]), int(shape[1]))
        self.done_dir = self.path.with_name(self.path.name + ".done")
        self._offset = len(_header_bytes(self.shape))
        self._row_bytes = self.shape[1] * DTYPE.itemsize

    @classmethod
    def open(cls, path: str | Path, shape: tuple[int, int]) -> "EmbeddingStore":
        """Open the store at ``path``, creating it (sparse, atomically) when missing or of another shape.

        Runs that open the same new store at once (identical runs sharing a work folder) check and create it
        one at a time: each checked, found no file and created one, so the later one replaced the file the
        earlier one was already writing rows to and deleted its done markers (measured: two processes opening
        a new store and writing at once lost rows in 29 of 300 trials, every shard still marked done)."""
        store = cls(path, shape)
        if store._matches():
            return store
        with _creating(store.path):
            if not store._matches():  # created meanwhile by the run this one waited for: keep it
                store._create()
        return store

    def _matches(self) -> bool:
        if not self.path.exists():
            return False
        with open(self.path, "rb") as handle:
            head = handle.read(self._offset)
        return head == _header_bytes(self.shape) and self.path.stat().st_size == self._offset + self.nbytes

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self._row_bytes

    def _create(self) -> None:
        if self.done_dir.exists():
            for marker in self.done_dir.iterdir():
                marker.unlink()
        with atomic_path(self.path) as tmp, open(tmp, "wb") as handle:
            handle.write(_header_bytes(self.shape))
            handle.truncate(self._offset + self.nbytes)

    # ---- shards ------------------------------------------------------------------------------------
    def is_done(self, shard: int | str) -> bool:
        return (self.done_dir / str(shard)).exists()

    def mark_done(self, shard: int | str) -> None:
        """Record ``shard`` (a number, or a name such as :mod:`negmine.engine.encode_shards`' ``<first>-<end>``) as
        finished (call after its rows are written with :meth:`write_rows`)."""
        self.done_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.done_dir / str(shard)):
            pass

    # ---- rows --------------------------------------------------------------------------------------
    def write_rows(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Write ``vectors[j]`` to row ``rows[j]`` (rows sorted ascending; consecutive runs become one write), then fsync."""
        rows = np.asarray(rows, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=DTYPE)
        if vectors.shape != (len(rows), self.shape[1]):
            raise ValueError(f"{len(rows)} rows for vectors of shape {vectors.shape}; store is {self.shape}")
        if len(rows) and (rows[0] < 0 or rows[-1] >= self.shape[0] or np.any(np.diff(rows) <= 0)):
            raise ValueError(f"rows must be strictly increasing within [0, {self.shape[0]})")
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        fd = os.open(self.path, os.O_WRONLY)
        try:
            for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(rows)]):
                data = vectors[start:stop].tobytes()
                position = self._offset + int(rows[start]) * self._row_bytes
                while data:
                    written = os.pwrite(fd, data, position)
                    data, position = data[written:], position + written
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` as a fresh float32 array (plain reads: no mapped pages stay resident)."""
        stop = min(stop, self.shape[0])
        count = max(0, stop - start)
        out = np.empty((count, self.shape[1]), dtype=DTYPE)
        view = memoryview(out).cast("B")
        with open(self.path, "rb", buffering=0) as handle:
            handle.seek(self._offset + start * self._row_bytes)
            got = 0
            while got < len(view):
                n = handle.readinto(view[got:])
                if not n:
                    raise EOFError(f"{self.path}: truncated at row {start + got // self._row_bytes}")
                got += n
        return out

    def memmap(self) -> np.ndarray:
        """The whole store as a read-only memory map (for random row access by later stages)."""
        return np.load(self.path, mmap_mode="r", allow_pickle=False)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self.done_dir.exists():
            for marker in self.done_dir.iterdir():
                marker.unlink()
            self.done_dir.rmdir()


@contextlib.contextmanager
def _creating(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (made for it, removed while still held, so the folder keeps
    no lock file); a run that waited on a lock file removed meanwhile locks the new one. A killed holder's lock
    ends with its process."""
    import fcntl

    from negmine.io.lock_file import open_locked, remove_locked

    lock = path.with_name(f"{path.name}.lock")
    fd, _ = open_locked(lock, fcntl.LOCK_EX)
    try:
        yield
    finally:
        remove_locked(fd, lock, [])  # the folders above stay: the store is made in them
