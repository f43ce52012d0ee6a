"""Cache writes held in memory until enough rows wait, then written as one shard.

The embedding cache writes one shard (two files) per ``put``, which suits bulk encoding (a shard of
thousands of texts at a time) but not callers that add a few rows per call: the judges of ``negmine mine
--denoise`` encode or score the new texts of one pair at a time, which would leave one tiny shard per pair,
a directory listing and an index rebuild for every lookup in between, and millions of files on a large run.
:class:`BufferedShelf` keeps new rows in memory (lookups see them) and writes them as one shard once
``rows`` are pending, or when :meth:`flush` is called at the end of the run. A killed run loses only the
pending rows (at most ``rows``): they are encoded again next time.
"""

from __future__ import annotations

import numpy as np

from negmine.encode.cache import CacheShelf


class BufferedShelf:
    """``get`` / ``put`` of a :class:`CacheShelf` with writes batched into shards of ``rows`` rows."""

    def __init__(self, shelf: CacheShelf, rows: int = 4096) -> None:
        if not isinstance(rows, int) or rows < 1:
            raise ValueError(f"rows must be a positive integer, got {rows!r}")
        self.shelf = shelf
        self.rows = rows
        self._pending: dict[bytes, np.ndarray] = {}

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
        """Hold ``vectors`` (n, dim) under ``keys`` (n, 16); write a shard once ``rows`` are pending."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(keys):
            raise ValueError(f"{len(keys)} keys for vectors of shape {vectors.shape}")
        for key, vector in zip(keys, vectors):
            self._pending[key.tobytes()] = vector.copy()
        if len(self._pending) >= self.rows:
            self.flush()

    def flush(self) -> None:
        """Write every pending row as one shard (nothing when none is pending)."""
        if not self._pending:
            return
        keys = np.frombuffer(b"".join(self._pending), dtype=np.uint8).reshape(-1, 16).copy()
        self.shelf.put(keys, np.stack(list(self._pending.values())))
        self._pending.clear()
