"""Texts being encoded right now into an embedding-cache shelf, announced so concurrent runs share the work.

Two runs that encode the same texts with the same model (two ``negmine mine`` side by side, or ``mine`` and
``eval``) would each encode every text: the cache stores each shard once, but a run only finds what another
run has *finished*. So before encoding a batch of texts, a run writes their keys to a claim file
``<shelf>/encoding/<host>.<pid>.<n>.npy`` (atomically) and removes it once the vectors are in the cache.
Another run leaves texts claimed by a live process aside, encodes its other texts first and then reads the
claimed ones from the cache as they arrive (:class:`InFlight`).

- A claim of a dead process of this host (``kill -9``) is removed on sight and its texts are encoded by
  whoever needs them; a claim older than the wait bound (e.g. left by a dead process of another host on a
  shared file system) is ignored.
- A run waits only when it holds no claim of its own (it has encoded everything else first), so two runs can
  never wait on each other; and it waits at most ``wait_seconds`` without seeing any claimed text arrive, then
  encodes the rest itself (a hung owner costs time, never the result).
- Claims change who encodes a text, never its vector: the embedders encode each text independently of the
  others in its batch (equal-length batching), so outputs are byte-identical whoever encoded what.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from pathlib import Path

import numpy as np

from negmine.encode.cache import KEY_BYTES, CacheShelf
from negmine.io.atomic import atomic_save_npy, is_dead_owner, owner_tag

WAIT_SECONDS = 3600.0
"""Longest wait for texts another run is encoding without any of them arriving (then a run encodes them)."""
POLL_SECONDS = 0.5
"""Pause between two looks at the cache while waiting."""
FOLDER = "encoding"
_NUMBERS = itertools.count(1)
"""Claim numbers, unique in this process (over every shelf and :class:`InFlight`): a claim file's name is
never reused, so readers may keep what they read of one by its name."""


class InFlight:
    """This process's claims on a shelf, and the texts other processes claim there.

    ``claimed_elsewhere(keys)`` says which texts to leave aside; ``claim``/``release`` wrap this run's own
    encoding; ``pause(arrived)`` sleeps between two looks while waiting. Once ``wait_seconds`` pass without
    a claimed text arriving, :attr:`waiting` turns False and no claim is honoured any more."""

    def __init__(self, shelf: CacheShelf, wait_seconds: float | None = None, poll_seconds: float | None = None) -> None:
        self.folder = Path(shelf.folder) / FOLDER
        self.wait_seconds = WAIT_SECONDS if wait_seconds is None else wait_seconds
        self.poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self._mine: dict[int, Path] = {}
        self._seen: dict[str, np.ndarray] = {}  # claim files are written once: read each once
        self._since = time.monotonic()  # the last time a claimed text arrived (or the start)
        self.waiting = True

    def claimed_elsewhere(self, keys: np.ndarray, before: str | None = None) -> np.ndarray:
        """Bool mask of ``keys`` (n, 16) claimed by another live process (all False once the wait is over);
        with ``before``, only by claim files whose names sort before it."""
        claimed = self._claimed_keys(before) if self.waiting and len(keys) else []
        if not len(claimed):
            return np.zeros(len(keys), dtype=bool)
        return np.isin(_void(keys), _void(np.concatenate(claimed)))

    def _claimed_keys(self, before: str | None = None) -> list[np.ndarray]:
        """The keys of every claim file of another live process (those of dead processes of this host removed)."""
        if not self.folder.is_dir():
            return []
        names = set(os.listdir(self.folder))
        self._seen = {name: keys for name, keys in self._seen.items() if name in names}
        found = []
        for name in sorted(names):
            if before is not None and name >= before:
                break
            if name.startswith("."):
                _remove_if_dead(self.folder / name, _owner(name[1:]))  # a temp file of a killed writer
                continue
            owner = _owner(name)
            if owner is None or owner == owner_tag() or _remove_if_dead(self.folder / name, owner):
                continue
            if name not in self._seen:
                keys = self._read(self.folder / name)
                if keys is None:
                    continue
                self._seen[name] = keys
            found.append(self._seen[name])
        return found

    def _read(self, path: Path) -> np.ndarray | None:
        """The keys of claim ``path``; None when it is gone or older than the wait bound (abandoned)."""
        try:
            if time.time() - path.stat().st_mtime > self.wait_seconds:
                return None
            keys = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if keys.ndim != 2 or keys.shape[1] != KEY_BYTES or keys.dtype != np.uint8:
            return None
        return keys

    def claim(self, keys: np.ndarray) -> tuple[int, np.ndarray]:
        """Announce that this process encodes ``keys``; returns the token :meth:`release` takes and the mask of
        the keys left to another run instead: those a claim written at the same moment holds too (both runs
        looked before either wrote), which the claim whose file name sorts first keeps (one total order, so
        exactly one of two such runs gives way and neither waits for the other)."""
        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        self.folder.mkdir(parents=True, exist_ok=True)
        token, path = self._write(keys)
        clash = self.claimed_elsewhere(keys, before=path.name)
        if clash.any():
            self.release(token)
            if not clash.all():
                token, _ = self._write(keys[~clash])
        return token, clash

    def _write(self, keys: np.ndarray) -> tuple[int, Path]:
        number = next(_NUMBERS)
        path = self.folder / f"{owner_tag()}.{number}.npy"
        atomic_save_npy(path, keys)
        self._mine[number] = path
        return number, path

    def release(self, token: int) -> None:
        """Withdraw claim ``token`` (after its vectors are in the cache, or when giving up on them)."""
        path = self._mine.pop(token, None)
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def release_all(self) -> None:
        for token in list(self._mine):
            self.release(token)

    def pause(self, arrived: bool) -> None:
        """Between two looks at the cache while waiting: ``arrived`` says whether claimed texts arrived
        since the last look (which restarts the wait bound). Sleeps :attr:`poll_seconds`."""
        now = time.monotonic()
        if arrived:
            self._since = now
        if now - self._since > self.wait_seconds:
            self.waiting = False
            return
        time.sleep(self.poll_seconds)


def _void(keys: np.ndarray) -> np.ndarray:
    """Each 16-byte key as one comparable element (for ``np.isin``)."""
    return np.ascontiguousarray(keys, dtype=np.uint8).view(f"V{KEY_BYTES}").ravel()


def _owner(name: str) -> str | None:
    """``<host>.<pid>`` of claim file ``name`` (``<host>.<pid>.<n>.npy``, or the start of its temp file name)."""
    parts = name.split(".")
    if len(parts) < 4 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return f"{parts[0]}.{parts[1]}"


def _remove_if_dead(path: Path, owner: str | None) -> bool:
    """Delete ``path`` when ``owner`` is a dead process of this host; True when it was such a leftover."""
    if owner is None or not is_dead_owner(owner):
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True
