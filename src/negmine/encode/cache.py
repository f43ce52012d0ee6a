"""On-disk embedding cache keyed by (embedder fingerprint, prompt, text hash).

Layout under ``root``::

    <sha256(fingerprint + "\\0" + prompt)>/     one folder per (fingerprint, prompt)
        meta.json                            fingerprint, prompt, dim, model (its name or path, when the writer
                                             knew it: for humans, ``negmine cache list``, and consistency checks)
        0.vecs.npy   0.keys.npy               shard 0: float32 (n, dim) vectors, uint8 (n, 16) keys
        1.vecs.npy   1.keys.npy               ...
        encoding/<host>.<pid>.<n>.npy         keys a run is encoding now (negmine.encode.inflight)
    <sha256(...)>.lock                       shared flock of every process using the folder (see below)

A key is blake2b-128 of the UTF-8 text. Shards are append-only and each file is written atomically, the
keys file last, so a shard is visible only once complete; a killed run loses at most the shard it was
writing. Shard numbers are claimed with an exclusive ``<n>.claim`` file holding the writer's ``<host>.<pid>``,
so concurrent runs sharing a cache never overwrite each other; before claiming, a writer removes the claims of
dead processes of its host with the vectors and temp files they left (``kill -9`` between the two files), and
a write that fails between them removes its vectors file. A complete shard that cannot be read (a file cut
short or emptied, rows that do not match its keys or the folder's dimension) is never used: it is reported
with a warning and removed, so its texts are encoded again. Lookups index all keys in flat numpy arrays (about 36 bytes a row,
sorted by the first 8 key bytes, binary search) and read vectors through ``np.load(mmap_mode="r")``, so
memory stays bounded for caches of millions of texts.

A shelf holds a shared ``flock`` on ``<folder>.lock`` from its first look at an existing folder (or its first
write) until :meth:`CacheShelf.close` or the end of its process, so ``negmine cache prune``
(:mod:`negmine.encode.cache_prune`) deletes only a folder no process uses: it takes that lock exclusively without
waiting, and refuses when it cannot. A process that opens the shelf meanwhile waits for the prune and then
starts on the new, empty folder (the lock-file protocol of :mod:`negmine.io.lock_file`). A shard whose vectors
are gone when read (removed by an older negmine's prune, or by hand) counts as not cached: its texts are encoded
again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
import warnings
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from negmine.errors import NegmineWarning, caller_stacklevel
from negmine.io.atomic import atomic_save_npy, atomic_write, is_dead_owner, owner_tag, remove_orphan_temp_files


KEY_BYTES = 16
_SHARD_FILE = re.compile(r"^(\d+)\.(keys\.npy|vecs\.npy|claim)$")
UNOWNED_CLAIM_SECONDS = 24 * 3600
"""A claim file without an owner (written by negmine before claims named one) counts as dead at this age."""


def default_cache_dir() -> Path:
    """``$NEGMINE_CACHE`` if set, else ``~/.cache/negmine``."""
    env = os.environ.get("NEGMINE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "negmine"


def model_name(embedder) -> str | None:
    """The name or path ``embedder``'s model was loaded from (``model_name``; None for an embedder that has none,
    e.g. a test double), recorded in the cache's ``meta.json``."""
    name = getattr(embedder, "model_name", None)
    return str(name) if name is not None else None


def recorded_model(name: str) -> str:
    """``name`` as ``meta.json`` records it: a local folder as its absolute path (the same whatever folder the
    run started in, so ``negmine cache prune --model`` finds it), a hub name as given."""
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def text_key(text: str) -> bytes:
    """blake2b-128 digest of ``text`` (16 bytes)."""
    return hashlib.blake2b(_utf8(text), digest_size=KEY_BYTES).digest()


def text_keys(texts: Iterable[str]) -> np.ndarray:
    """``(n, 16)`` uint8 array of :func:`text_key` of each text."""
    joined = b"".join(text_key(t) for t in texts)
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, KEY_BYTES).copy()


@contextlib.contextmanager
def closed_after(cache: "EmbeddingCache | None") -> Iterator["EmbeddingCache | None"]:
    """``cache`` (None when caching is off), closed when the block ends, whether it returns or raises: a call
    that raised and whose exception is kept (a notebook keeps the last one, with its frames) held its folders'
    locks until the process ended, so ``negmine cache prune`` kept them."""
    try:
        yield cache
    finally:
        if cache is not None:
            cache.close()


def namespace_id(fingerprint: str, prompt: str) -> str:
    """Folder name of a (fingerprint, prompt) pair: sha256 hex of ``fingerprint + "\\0" + prompt``."""
    return hashlib.sha256(_utf8(fingerprint) + b"\0" + _utf8(prompt)).hexdigest()


def _prefixes(keys: np.ndarray) -> np.ndarray:
    """First 8 bytes of each key as a little-endian uint64 (the sort/search key of the index)."""
    return np.ascontiguousarray(keys[:, :8]).view("<u8").ravel()


def _check_keys(keys: np.ndarray) -> np.ndarray:
    keys = np.ascontiguousarray(keys, dtype=np.uint8)
    if keys.ndim != 2 or keys.shape[1] != KEY_BYTES:
        raise ValueError(f"cache keys must have shape (n, {KEY_BYTES}), got {keys.shape}")
    return keys


class EmbeddingCache:
    """Embedding cache rooted at ``root``; one :class:`CacheShelf` per (fingerprint, prompt).

    Each shelf it opened holds a shared lock on its folder (``<folder>.lock``) until :meth:`close`, the object's
    end or the process's, and ``negmine cache prune`` keeps a folder while a lock is held. A cache that lives on in
    a long-lived process (a notebook, a server) is therefore closed when done: ``with EmbeddingCache(root) as
    cache: ...`` (a closed cache can be used again: its shelves take their locks again when read or written).
    negmine's own ``mine``, ``evaluate``, ``run_audit`` and ``train`` close theirs when they return or raise.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self._shelves: dict[str, CacheShelf] = {}

    def shelf(self, fingerprint: str, prompt: str = "", model: str | None = None,
              dim: int | None = None) -> "CacheShelf":
        """The shelf of (``fingerprint``, ``prompt``); ``model`` (the name or path the model was loaded from) is
        recorded in a new folder's ``meta.json``, so ``negmine cache list`` can say whose vectors it holds; ``dim``,
        the size of the model's vectors when the caller knows it, is what the shards are checked against
        (:attr:`CacheShelf.model_dim`)."""
        name = namespace_id(fingerprint, prompt)
        if name not in self._shelves:
            self._shelves[name] = CacheShelf(self.root / name, fingerprint, prompt, model)
        if dim is not None:
            self._shelves[name].model_dim = int(dim)
        return self._shelves[name]

    def close(self) -> None:
        """End the shelves' leases on their folders (:meth:`CacheShelf.close`)."""
        for shelf in self._shelves.values():
            shelf.close()

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, fingerprint: str, prompt: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found, vectors)``: bool mask over ``keys`` and the float32 vectors of the found rows, in order."""
        return self.shelf(fingerprint, prompt).get(keys)

    def put(self, fingerprint: str, prompt: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Append one shard holding ``vectors`` under ``keys``."""
        self.shelf(fingerprint, prompt).put(keys, vectors)

    def count(self, fingerprint: str, prompt: str = "") -> int:
        """Number of distinct cached texts for (fingerprint, prompt)."""
        return self.shelf(fingerprint, prompt).count()


class CacheShelf:
    """The shards of one (fingerprint, prompt): an index of keys plus memory-mapped vectors."""

    def __init__(self, folder: Path, fingerprint: str, prompt: str, model: str | None = None) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.prompt = prompt
        self.model = model
        self._lease: int | None = None  # fd of the shared flock on <folder>.lock (see the module docstring)
        self._indexed: set[int] = set()
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # keys, shard ids, offsets
        self._index: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._vectors: dict[int, np.ndarray] = {}
        self._broken: set[int] = set()  # shards found unreadable (removed, or left when the folder is read-only)
        self._dim: int | None = None  # dimension of the shards indexed so far
        self._meta_reported: str | None = None  # the unreadable meta.json's error, warned about once
        self.model_dim: int | None = None
        """The size of the vectors of the model whose folder this is, when the caller said (its fingerprint names
        the folder and covers every weight's shape, so the size is the model's): shards are checked against it,
        not against ``meta.json``, which only records it (:meth:`_expected_dim`)."""

    # ---- lease ---------------------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.folder.with_name(f"{self.folder.name}.lock")

    def _hold(self, writing: bool = False) -> None:
        """Take the shared lease: to write, before (re)making the folder, so no prune removes it meanwhile; to
        read, once the folder exists (a look at a missing one leaves nothing behind). A cache this process cannot
        write to (a read-only folder) is used without one (nor can this user prune it)."""
        if self._lease is None and (writing or self.folder.is_dir()):
            import fcntl

            from negmine.io.lock_file import open_locked

            with contextlib.suppress(OSError):
                self._lease, _ = open_locked(self.lock_path, fcntl.LOCK_SH)

    def close(self) -> None:
        """End the lease (idempotent); the shelf takes it again when used."""
        if self._lease is not None:
            os.close(self._lease)  # closing the descriptor drops its lock
            self._lease = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit, when os may be gone: the process's end drops the lock anyway
            pass

    # ---- reading -------------------------------------------------------------------------------------
    def _shard_numbers(self) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        if self.folder.is_dir():
            for name in os.listdir(self.folder):
                match = _SHARD_FILE.match(name)
                if match:
                    found.setdefault(int(match.group(1)), set()).add(match.group(2))
        return found

    def refresh(self) -> None:
        """Index shards written since the last look (by this or another process); an unreadable one is
        reported, removed and skipped (:meth:`_read_keys`)."""
        self._hold()
        for number, kinds in sorted(self._shard_numbers().items()):
            if number in self._indexed or number in self._broken or not {"keys.npy", "vecs.npy"} <= kinds:
                continue
            keys = self._read_keys(number)
            if keys is not None:
                self._add_part(number, keys)

    def _read_keys(self, number: int) -> np.ndarray | None:
        """The keys of complete shard ``number`` once it checks out: keys of shape (n, 16), vectors a
        float32 (n, dim) ``.npy`` of the full size, dim that of ``meta.json`` and of the shards indexed so far.
        Otherwise warn, remove the shard (its texts are then encoded again) and return None."""
        try:
            keys = _check_keys(np.load(self.folder / f"{number}.keys.npy", allow_pickle=False))
            rows, dim = _vectors_shape(self.folder / f"{number}.vecs.npy")
            expected = self._expected_dim()
            if rows != len(keys) or (expected is not None and dim != expected):
                raise ValueError(f"{rows} x {dim} vectors for {len(keys)} keys of {expected}-dim vectors")
        except (ValueError, EOFError, OSError) as err:
            self._broken.add(number)
            for kind in ("keys.npy", "vecs.npy"):  # keys first: the shard stops being complete for every reader
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / f"{number}.{kind}")
            warnings.warn(  # after the removal: a warning turned into an error leaves no damaged shard behind
                f"embedding cache shard {number} of {self.folder} ({number}.keys.npy, {number}.vecs.npy) is "
                f"unreadable ({type(err).__name__}: {err}); it is not used and is removed, its texts are encoded again",
                NegmineWarning, stacklevel=caller_stacklevel())
            return None
        self._dim = dim
        return keys

    def _expected_dim(self) -> int | None:
        """The size every shard's vectors must have: that of the shards indexed so far; else the model's
        (:attr:`model_dim`) when known, else the one most of the folder's complete shards and ``meta.json`` give
        (:func:`negmine.encode.shard_sizes.most_held_size`). A ``meta.json`` that records another size was edited or
        damaged: the shards of that size are used, not removed and encoded again (they were, every one), and the
        file is written again (:meth:`_correct_meta`); so is an unreadable one."""
        if self._dim is not None:
            return self._dim
        recorded, problem = self._meta_dim()
        if self.model_dim is not None:
            size, whose = self.model_dim, "the folder's model gives"
        else:
            size, shards = self._shards_size(recorded)
            if size is None:  # no complete shard: meta.json's size (warned about when unreadable), as before
                return self.dim()
            if recorded is None and problem is None:  # no meta.json (removed by hand): written with the next vectors
                return size
            whose = f"{shards} of the folder's shards hold"
        if recorded is not None and recorded != size:
            problem = f"records {recorded}-dim vectors, but {whose} {size}-dim ones (the file was edited or damaged)"
        elif problem is not None:
            problem = f"is unreadable ({problem})"
        if problem is not None and problem != self._meta_reported:  # once, also when the folder is read-only
            self._meta_reported = problem
            self._correct_meta(problem, size)
        return size

    def _shards_size(self, recorded: int | None) -> tuple[int | None, int]:
        """``(size, shards)`` for a shelf told no model size: :func:`~negmine.encode.shard_sizes.most_held_size` of
        the complete shards not yet indexed and ``recorded`` (``meta.json``'s size)."""
        from negmine.encode.shard_sizes import most_held_size

        complete = [n for n, kinds in sorted(self._shard_numbers().items())
                    if n not in self._broken and {"keys.npy", "vecs.npy"} <= kinds]
        return most_held_size([self.folder / f"{n}.vecs.npy" for n in complete], recorded, _vectors_shape)

    def _correct_meta(self, problem: str, dim: int) -> None:
        """Write ``meta.json`` again for ``dim`` (not in a read-only folder), with a warning saying what was wrong
        with it (``problem``). An unreadable file was written again only with the next new vectors, so a run that
        found every text cached warned about it again each time."""
        why = "its model's size" if self.model_dim is not None else "the size most of its shards hold"
        with contextlib.suppress(OSError):
            self._write_meta_file(dim)
        warnings.warn(f"embedding cache file {self.folder / 'meta.json'} {problem}; the folder's shards of {dim}-dim "
                      f"vectors ({why}) are used and the file is written again for {dim}-dim vectors",
                      NegmineWarning, stacklevel=caller_stacklevel())

    def _add_part(self, number: int, keys: np.ndarray) -> None:
        self._indexed.add(number)
        shard = np.full(len(keys), number, dtype=np.int32)
        self._parts.append((keys, shard, np.arange(len(keys), dtype=np.int64)))
        self._index = None

    def _built_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(prefixes, keys, shard ids, offsets) sorted by (prefix, shard): a key written twice resolves
        to its lowest shard, whatever order the shards were indexed in."""
        if self._index is None:
            if self._parts:
                keys = np.concatenate([p[0] for p in self._parts])
                shard = np.concatenate([p[1] for p in self._parts])
                offset = np.concatenate([p[2] for p in self._parts])
                self._parts = [(keys, shard, offset)]
            else:
                keys = np.empty((0, KEY_BYTES), np.uint8)
                shard, offset = np.empty(0, np.int32), np.empty(0, np.int64)
            prefix = _prefixes(keys)
            order = np.lexsort((shard, prefix))
            self._index = (prefix[order], keys[order], shard[order], offset[order])
        return self._index

    def count(self) -> int:
        self.refresh()
        prefix, keys, _, _ = self._built_index()
        return int(len(np.unique(keys.view(f"V{KEY_BYTES}").ravel()))) if len(prefix) else 0

    def locate(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(found, shard, offset)`` per key; shard/offset are -1 where not found."""
        keys = _check_keys(keys)
        self.refresh()
        prefix, sorted_keys, shard, offset = self._built_index()
        found = np.zeros(len(keys), dtype=bool)
        at = np.full(len(keys), -1, dtype=np.int64)
        if len(prefix) and len(keys):
            query = _prefixes(keys)
            pos = np.minimum(np.searchsorted(prefix, query, side="left"), len(prefix) - 1)
            same_prefix = prefix[pos] == query
            found = same_prefix & (sorted_keys[pos] == keys).all(axis=1)
            at[found] = pos[found]
            for row in np.flatnonzero(same_prefix & ~found):  # 64-bit prefix shared by different keys
                at[row] = self._scan(prefix, sorted_keys, int(pos[row]), keys[row])
                found[row] = at[row] >= 0
        shard_out = np.where(found, shard[np.maximum(at, 0)] if len(prefix) else -1, -1).astype(np.int64)
        offset_out = np.where(found, offset[np.maximum(at, 0)] if len(prefix) else -1, -1).astype(np.int64)
        return found, shard_out, offset_out

    @staticmethod
    def _scan(prefix: np.ndarray, sorted_keys: np.ndarray, start: int, key: np.ndarray) -> int:
        """Position of ``key`` in the run of equal prefixes starting at ``start``, or -1."""
        at = start
        while at < len(prefix) and prefix[at] == prefix[start]:
            if np.array_equal(sorted_keys[at], key):
                return at
            at += 1
        return -1

    def _shard_vectors(self, number: int) -> np.ndarray:
        if number not in self._vectors:
            self._vectors[number] = np.load(self.folder / f"{number}.vecs.npy", mmap_mode="r", allow_pickle=False)
        return self._vectors[number]

    def _forget_gone(self, shard: np.ndarray) -> bool:
        """Drop from the index the shards of ``shard`` whose vectors file is gone since they were indexed (deleted
        by hand or by an older negmine's prune, which took no lease); True when any was."""
        gone = set()
        for number in {int(n) for n in np.unique(shard[shard >= 0])} - set(self._vectors):
            try:
                self._shard_vectors(number)
            except FileNotFoundError:
                gone.add(number)
        if gone:
            _, keys, shards, offsets = self._built_index()
            alive = ~np.isin(shards, list(gone))
            self._parts = [(keys[alive], shards[alive], offsets[alive])]
            self._indexed -= gone
            self._index = None
        return bool(gone)

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found, vectors)`` with ``vectors`` the float32 rows of the found keys, in key order."""
        found, shard, offset = self.locate(keys)
        if self._forget_gone(shard):  # those texts count as not cached: the caller encodes them again
            found, shard, offset = self.locate(keys)
        rows = np.flatnonzero(found)
        numbers = [int(n) for n in np.unique(shard[rows])]
        dim = self._shard_vectors(numbers[0]).shape[1] if numbers else self.dim() or 0
        vectors = np.empty((len(rows), dim), dtype=np.float32)
        for number in numbers:
            pick = shard[rows] == number
            vectors[pick] = self._shard_vectors(number)[offset[rows][pick]]
        return found, vectors

    def dim(self) -> int | None:
        """Vector dimension recorded in ``meta.json`` (None before the first write)."""
        recorded, problem = self._meta_dim()
        if problem is not None and problem != self._meta_reported:  # read more than once per write: one line
            self._meta_reported = problem
            warnings.warn(f"embedding cache file {self.folder / 'meta.json'} is unreadable ({problem}); it is written "
                          "again with the next vectors", NegmineWarning, stacklevel=caller_stacklevel())
        return recorded

    def _meta_dim(self) -> tuple[int | None, str | None]:
        """``(dim, problem)``: the size ``meta.json`` records (None when there is no file or it cannot be read) and
        why it cannot be read (``"JSONDecodeError: ..."``; None when it can)."""
        meta = self.folder / "meta.json"
        if not meta.exists():
            return None, None
        try:
            return int(json.loads(meta.read_text(encoding="utf-8"))["dim"]), None
        except (ValueError, KeyError, TypeError, OSError) as err:
            return None, f"{type(err).__name__}: {err}"

    # ---- writing -------------------------------------------------------------------------------------
    def _claim(self) -> int:
        """Reserve the next free shard number with an exclusive ``<n>.claim`` file naming this process."""
        number = max(self._shard_numbers(), default=-1) + 1
        while True:
            try:
                fd = os.open(self.folder / f"{number}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                number += 1
                continue
            try:
                os.write(fd, owner_tag().encode())
            finally:
                os.close(fd)
            return number

    def remove_dead_claims(self) -> list[Path]:
        """Delete what writers killed mid-shard left: the claims of dead processes of this host (and
        owner-less claims older than :data:`UNOWNED_CLAIM_SECONDS`) with their vectors and temp files when the
        shard has no keys file, and vectors files no claim or keys file goes with. Return the removed paths."""
        removed: list[Path] = []
        for number, kinds in sorted(self._shard_numbers().items()):
            claim = self.folder / f"{number}.claim"
            if "claim" in kinds and not _dead_claim(claim):
                continue
            if "claim" not in kinds and ("vecs.npy" not in kinds or claim.exists()):
                continue  # a claim seen gone means its writer got past its keys file, checked below
            vecs, keys = self.folder / f"{number}.vecs.npy", self.folder / f"{number}.keys.npy"
            if not keys.exists():  # vectors (and temp files) first: the claim keeps the number taken meanwhile
                removed += remove_orphan_temp_files(vecs) + remove_orphan_temp_files(keys)
                removed += _unlink(vecs)
            if "claim" in kinds:
                removed += _unlink(claim)
        return removed

    def _write_meta(self, dim: int) -> None:
        """Record ``dim`` in ``meta.json`` unless it is there. A different dimension there is refused while the
        shards indexed hold vectors of that size; with none indexed (each shard of another size was found
        unreadable and removed), only the file says so, and it was edited or damaged: it is written again, with a
        warning. That ended the run in a ValueError traceback once every text was encoded (``"dim": 16`` written
        into a tiny model's 32-dim folder: `negmine mine` and `negmine eval` both)."""
        known = self.dim()
        if known is not None and known != dim and self._dim != known:
            warnings.warn(f"embedding cache file {self.folder / 'meta.json'} records {known}-dim vectors, but no shard "
                          f"of the folder holds such vectors and its model gives {dim}-dim ones (the file was edited or "
                          f"damaged); it is written again for {dim}-dim vectors", NegmineWarning,
                          stacklevel=caller_stacklevel())
            known = None
        if known is not None and known != dim:
            raise ValueError(f"cache {self.folder} holds {known}-dim vectors; refusing to add {dim}-dim ones")
        if known is None:
            self._write_meta_file(dim)

    def _write_meta_file(self, dim: int) -> None:
        meta = {"fingerprint": self.fingerprint, "prompt": self.prompt, "dim": dim}
        if self.model is not None:
            meta["model"] = recorded_model(self.model)
        with atomic_write(self.folder / "meta.json") as handle:
            json.dump(meta, handle, indent=2)

    def put(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Write ``vectors`` (n, dim) under ``keys`` (n, 16) as one new shard, leaving out the keys the cache
        already holds (e.g. written meanwhile by another run that encoded the same texts)."""
        keys = _check_keys(keys)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(keys):
            raise ValueError(f"{len(keys)} keys for vectors of shape {vectors.shape}")
        held = self.locate(keys)[0]
        if held.any():
            keys, vectors = keys[~held], vectors[~held]
        if not len(keys):
            return
        self._hold(writing=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_meta(int(vectors.shape[1]))
        self.remove_dead_claims()
        number = self._claim()
        claim = self.folder / f"{number}.claim"
        try:
            atomic_save_npy(self.folder / f"{number}.vecs.npy", vectors)
            atomic_save_npy(self.folder / f"{number}.keys.npy", keys)
        except BaseException:  # e.g. Ctrl-C or a full disk between the two files: no vectors without keys
            if not (self.folder / f"{number}.keys.npy").exists():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.folder / f"{number}.vecs.npy")
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(claim)
        self._add_part(number, keys.copy())
        self._dim = int(vectors.shape[1])


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _vectors_shape(path: Path) -> tuple[int, int]:
    """``(rows, dim)`` from the header of a float32 ``.npy`` file whose size matches it; ValueError otherwise."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version not in _HEADER_READERS:
            raise ValueError(f"{path.name} has .npy format version {version}, not one negmine writes")
        shape, fortran, dtype = _HEADER_READERS[version](handle)
        data_start = handle.tell()
        size = os.fstat(handle.fileno()).st_size  # of the file opened (fresh attributes on NFS too)
    if len(shape) != 2 or dtype != np.float32 or fortran:
        raise ValueError(f"{path.name} holds {dtype} of shape {shape}, not float32 (n, dim) rows")
    if size != data_start + shape[0] * shape[1] * 4:
        raise ValueError(f"{path.name} is {size} bytes; its header promises {data_start + shape[0] * shape[1] * 4}")
    return int(shape[0]), int(shape[1])


def _dead_claim(claim: Path) -> bool:
    """True when ``claim``'s writer is a dead process of this host, or it names none and is old."""
    try:
        owner = claim.read_text(encoding="utf-8", errors="replace").strip()
        age = time.time() - claim.stat().st_mtime
    except FileNotFoundError:
        return False
    if owner:
        return is_dead_owner(owner)
    return age > UNOWNED_CLAIM_SECONDS


def _unlink(path: Path) -> list[Path]:
    """``[path]`` once deleted, ``[]`` when it was not there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return []
    return [path]
