"""Id -> row lookup in 24 bytes per id, without a Python dict.

A ``dict[str, int]`` over a corpus costs ~100 bytes per document in Python objects (key string, int,
table slot), all of it memory the process cannot give back. :class:`IdIndex` keeps an 8-byte blake2b hash
of every id, sorted, with the row of each: a lookup hashes the key, binary-searches the sorted hashes
and confirms the id itself in the id sequence (so a hash collision can never return a wrong row).
It answers what the readers used a dict for: ``index[id]`` (KeyError if absent), ``id in index``,
``index.get(id)``, ``len(index)``, and :meth:`IdIndex.first_duplicate` for duplicate-id errors.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, NamedTuple, Sequence

import numpy as np


def id_hash(item_id: str) -> int:
    """Signed 64-bit blake2b hash of the UTF-8 id (stable across processes, unlike ``hash()``)."""
    digest = hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def id_hashes(ids: Iterable[str]) -> np.ndarray:
    return np.fromiter((id_hash(i) for i in ids), dtype=np.int64)


class Duplicate(NamedTuple):
    """The earliest repeated id: ``row`` is its second occurrence, ``first_row`` its first."""

    item_id: str
    first_row: int
    row: int


class IdIndex:
    """Rows of the ids in ``ids`` (see module docstring). With duplicate ids, a lookup returns the first row."""

    def __init__(self, ids: Sequence[str], hashes: np.ndarray | None = None) -> None:
        self._ids = ids
        hashes = id_hashes(ids) if hashes is None else np.asarray(hashes, dtype=np.int64)
        if len(hashes) != len(ids):
            raise ValueError(f"{len(hashes)} hashes for {len(ids)} ids")
        self._order = np.argsort(hashes, kind="stable")
        self._sorted = hashes[self._order]

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, item_id: str) -> int:
        row = self.get(item_id)
        if row is None:
            raise KeyError(item_id)
        return row

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and self.get(item_id) is not None

    def get(self, item_id: str, default: int | None = None) -> int | None:
        """Row of ``item_id`` (its first row if repeated), or ``default``."""
        key = id_hash(item_id)
        lo = int(np.searchsorted(self._sorted, key, side="left"))
        hi = int(np.searchsorted(self._sorted, key, side="right"))
        for row in self._order[lo:hi].tolist():  # rows ascending: the stable sort keeps file order
            if self._ids[row] == item_id:
                return row
        return default

    def rows(self, item_ids: Iterable[str]) -> np.ndarray:
        """Rows of many ids at once (KeyError names the first unknown id)."""
        return np.fromiter((self[i] for i in item_ids), dtype=np.int64)

    def first_duplicate(self) -> Duplicate | None:
        """The repeated id whose second occurrence comes first in row order, or None if all ids differ."""
        best: Duplicate | None = None
        for run in _equal_runs(self._sorted):  # ids with equal hashes; rows ascending within a run
            seen: dict[str, int] = {}
            for row in self._order[run].tolist():
                item_id = self._ids[row]
                if item_id in seen:  # a real repeat, not a hash collision
                    if best is None or row < best.row:
                        best = Duplicate(item_id, seen[item_id], row)
                    break
                seen[item_id] = row
        return best


def _equal_runs(sorted_hashes: np.ndarray) -> list[slice]:
    """Slices of ``sorted_hashes`` holding two or more equal values."""
    equal = np.flatnonzero(sorted_hashes[1:] == sorted_hashes[:-1])
    if not equal.size:
        return []
    starts = equal[np.r_[True, np.diff(equal) > 1]]
    ends = equal[np.r_[np.diff(equal) > 1, True]] + 2
    return [slice(int(a), int(b)) for a, b in zip(starts, ends)]
