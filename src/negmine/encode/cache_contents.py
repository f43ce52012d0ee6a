"""What a negmine cache folder holds, read from metadata and file sizes only (``negmine cache list``).

The cache grows with every model, prompt and stopped run and is never trimmed by the runs themselves, so a user
needs to see what takes the space before deleting any of it (:mod:`negmine.encode.cache_prune`). Entries:

- ``embeddings``: one folder per (model fingerprint, prompt) of :mod:`negmine.encode.cache`; its ``meta.json``
  names the model (when the writer recorded it) and the prompt; the texts are counted from the shards' key-file
  headers (vectors are never read).
- ``cross-encoder scores``: the same layout with a ``ce-`` fingerprint (:mod:`negmine.audit.pair_cache`),
  counting (query, document) pairs.
- ``run work folder``: ``runs/<key>/`` (dense: encoding stores and search shards) and ``runs/bm25-<key>/`` (a
  BM25 search's shards), kept for resume by a stopped run or ``--keep-work``; counted in finished shards.
- ``other``: anything else (e.g. ``onnx/`` exports), listed so that the total is the folder's size.

A run given ``negmine mine --work-dir DIR`` (or ``negmine audit --work-dir DIR``, for the mining of a BEIR directory's
candidates) keeps its work folder in ``DIR/<key>/`` instead of ``runs/``:
:func:`work_dir_entries` lists those (``negmine cache list|prune --work-dir DIR``). ``DIR`` is the user's
folder, which may hold anything, so only what a run made is listed there (:func:`is_run_folder`: a run key's
name and the run's lease file or files beside or in it), never the rest.

A run folder or namespace whose lease (``<name>.lock``: :mod:`negmine.engine.run_lease`, the shelves' lease of
:mod:`negmine.encode.cache`) a process holds is marked in use.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_NAMESPACE = re.compile(r"^[0-9a-f]{64}$")
_KEYS_FILE = re.compile(r"^(\d+)\.keys\.npy$")
RUN_NAME = re.compile(r"^(bm25-)?[0-9a-f]{32}$")
RUN_FILES = ("documents.npy", "queries.npy", "documents.done", "queries.done", "search", "layout.json")
"""What a run writes in its work folder (dense: the stores, their shard markers, the search shards; BM25: its
layout), one of which, or the lease file beside it, tells a run folder in a ``--work-dir`` from a user's."""


@dataclass(frozen=True)
class CacheEntry:
    kind: str  # "embeddings", "cross-encoder scores", "run work folder" or "other"
    path: Path
    about: str  # whose entry it is: model and prompt, or what the run folder holds
    size: int  # bytes on disk of its files (the lock file next to it included)
    count: int | None  # texts, pairs or finished shards (None for "other")
    unit: str
    modified: float  # latest modification time of its files (epoch seconds)
    model: str | None = None  # the recorded model name or path (namespaces)
    fingerprint: str | None = None
    in_use: bool = False


def cache_entries(root: str | Path) -> list[CacheEntry]:
    """Every entry of the cache folder ``root`` (none when it does not exist), namespaces first, then run
    folders, then the rest, each group by path."""
    root = Path(root)
    if not root.is_dir():
        return []
    names = sorted(os.listdir(root))
    entries = [namespace_entry(root / n) for n in names if _NAMESPACE.match(n) and (root / n).is_dir()]
    runs = root / "runs"
    if runs.is_dir():
        entries += [run_entry(runs / n) for n in sorted(os.listdir(runs)) if RUN_NAME.match(n) and (runs / n).is_dir()]
        stray = [runs / n for n in sorted(os.listdir(runs)) if not _is_run_part(runs, n)]
        entries += [other_entry(p) for p in stray]
    entries += [other_entry(root / n) for n in names
                if n != "runs" and not _is_namespace_part(root, n)]
    return entries


def work_dir_entries(folder: str | Path, emptied: bool = False) -> list[CacheEntry]:
    """The run work folders (and lock files of gone ones) in ``folder``, a ``negmine mine|audit --work-dir``, by path.
    InputError when ``folder`` is not a folder or holds nothing a run made: a mistyped path must not look like an
    empty work folder, nor be pruned; unless ``emptied`` (prune deleted its runs' folders,
    :mod:`negmine.encode.emptied_work_dirs`): then none."""
    from negmine.errors import InputError

    folder = Path(folder)
    fix = ("give the folder a run was given as negmine mine --work-dir DIR or negmine audit --work-dir DIR (its work "
           "folders are DIR/<run key>/), "
           "or leave --work-dir out: the work folders of runs without one are under <cache dir>/runs, which "
           "negmine cache reads anyway")
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "not found"
        raise InputError(folder, None, None,
                         f"--work-dir: {what}; expected the work folder of negmine mine or audit runs; {fix}")
    names = sorted(os.listdir(folder))
    entries = [run_entry(folder / n) for n in names if is_run_folder(folder / n)]
    entries += [other_entry(folder / n) for n in names if is_gone_run_lock(folder / n)]
    if not entries and not emptied:
        raise InputError(folder, None, None, "--work-dir: holds no run work folder of negmine (a folder named by "
                         "a run key, 32 hex digits or bm25-<32 hex digits>, with the run's <key>.lock beside it or "
                         "its files, e.g. documents.npy or search/, in it) nor the lock file of one; runs remove "
                         f"their work folder when they finish, unless stopped or given --keep-work; {fix}")
    return entries


def other_work_dirs(root: str | Path, work_dirs) -> list[Path]:
    """``work_dirs`` once each, in order, without the cache's own ``runs/`` (read with the cache anyway)."""
    seen = {(Path(root) / "runs").expanduser().resolve()}
    folders = []
    for folder in work_dirs:
        folder = Path(folder).expanduser()
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            folders.append(folder)
    return folders


def is_run_folder(path: Path) -> bool:
    """``path`` is the work folder of a run: a run key's name, a real folder (not a link to one) and the run's
    lease file beside it or one of :data:`RUN_FILES` in it."""
    if not RUN_NAME.match(path.name) or path.is_symlink() or not path.is_dir():
        return False
    return lock_of(path).is_file() or any((path / name).exists() for name in RUN_FILES)


def is_gone_run_lock(path: Path) -> bool:
    """``path`` is the lease file (``<run key>.lock``) of a run folder that is gone."""
    stem = path.name[: -len(".lock")]
    return (path.name.endswith(".lock") and bool(RUN_NAME.match(stem)) and path.is_file() and not path.is_symlink()
            and not (path.parent / stem).exists())


def _is_namespace_part(root: Path, name: str) -> bool:
    """``name`` is a namespace folder, or the lock file of one that exists."""
    stem = name[: -len(".lock")] if name.endswith(".lock") else name
    return bool(_NAMESPACE.match(stem)) and (root / stem).is_dir()


def _is_run_part(runs: Path, name: str) -> bool:
    stem = name[: -len(".lock")] if name.endswith(".lock") else name
    return bool(RUN_NAME.match(stem)) and (runs / stem).is_dir()


def namespace_entry(folder: Path) -> CacheEntry:
    """A (fingerprint, prompt) folder: its ``meta.json``, its complete shards' key counts, its size."""
    meta = _meta(folder / "meta.json")
    fingerprint = meta.get("fingerprint")
    scores = isinstance(fingerprint, str) and fingerprint.startswith("ce-")
    model = meta.get("model") if isinstance(meta.get("model"), str) else None
    who = model or (f"model not recorded, fingerprint {short_fingerprint(fingerprint)}" if isinstance(fingerprint, str)
                    else "no readable meta.json")
    prompt = meta.get("prompt")
    about = who if scores or not isinstance(prompt, str) else f"{who}, prompt {prompt!r}"
    size, modified = tree_size(folder, lock_of(folder))
    return CacheEntry("cross-encoder scores" if scores else "embeddings", folder, about, size, _rows(folder),
                      "pairs" if scores else "texts", modified, model,
                      fingerprint if isinstance(fingerprint, str) else None, held(lock_of(folder)))


def run_entry(folder: Path) -> CacheEntry:
    """A mining run's work folder: what it encoded (store shapes) and its finished shards."""
    size, modified = tree_size(folder, lock_of(folder))
    shards = sum(len(os.listdir(d)) for d in folder.rglob("*.done") if d.is_dir())
    shards += sum(1 for _ in folder.rglob("*.npz"))
    if folder.name.startswith("bm25-"):
        about = "BM25 search shards"
    else:
        shapes = {name: _npy_shape(folder / f"{name}.npy") for name in ("documents", "queries")}
        about = ", ".join(f"{s[0]} {name}" for name, s in shapes.items() if s) or "dense run, nothing encoded yet"
        if any(shapes.values()):
            about += f" ({next(s for s in shapes.values() if s)[1]}-dim)"
    return CacheEntry("run work folder", folder, about, size, shards, "shards", modified,
                      in_use=held(lock_of(folder)))


def other_entry(path: Path) -> CacheEntry:
    from negmine.encode.emptied_work_dirs import RECORD_NAME

    size, modified = tree_size(path)
    stale = path.name.endswith(".lock") and RUN_NAME.match(path.name[: -len(".lock")])
    about = ("the lock file of a run folder that is gone (removed by prune --runs)" if stale
             else "the --work-dir folders prune emptied of runs (cache list --work-dir reads it)"
             if path.name == RECORD_NAME else "not written by the embedding cache or a mining run")
    return CacheEntry("other", path, about, size, None, "", modified)


def short_fingerprint(fingerprint: str) -> str:
    """The fingerprint up to 8 hex digits of its hash, then its ``|`` suffix whole (``st-263b0e61``;
    ``onnx-none-v2-st-263b0e61``; a re-mining's ``st-263b0e61|train-step=1000``): what the listing shows of a
    namespace whose model is not recorded, and ``prune --model`` takes. Until 2026-12-06 the hash was cut at the
    suffix's last ``-``: a re-mining's showed all 64 digits and, from step 1000 on, lost the step's last digits
    (steps 1000 and 1005 both showed ``...|train-step=100``)."""
    head, bar, suffix = fingerprint.partition("|")
    return head[: head.rfind("-") + 9] + bar + suffix


def lock_of(folder: Path) -> Path:
    """The lease file next to a namespace or run folder."""
    return folder.with_name(f"{folder.name}.lock")


def held(lock: Path) -> bool:
    """True when a process holds a lock on ``lock`` (tried without waiting, released at once)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # drops the lock, if taken
    return False


def tree_size(path: Path, *extra: Path) -> tuple[int, float]:
    """``(bytes, latest mtime)`` of the files under ``path`` (or of the file) and of ``extra`` files; blocks on
    disk, not apparent sizes: a run's embedding store is sparse until its shards are written."""
    size, modified = 0, 0.0
    files = [path] if path.is_file() else [Path(d) / f for d, _, fs in os.walk(path) for f in fs]
    for file in [*files, *extra]:
        with contextlib.suppress(OSError):
            stat = file.stat()
            size += stat.st_blocks * 512 if hasattr(stat, "st_blocks") else stat.st_size
            modified = max(modified, stat.st_mtime)
    with contextlib.suppress(OSError):
        modified = max(modified, path.stat().st_mtime)
    return size, modified


def _meta(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _rows(folder: Path) -> int:
    """Rows of the complete shards (keys and vectors files both there), from the key files' headers."""
    names = set(os.listdir(folder))
    numbers = [m.group(1) for n in names if (m := _KEYS_FILE.match(n)) and f"{m.group(1)}.vecs.npy" in names]
    return sum((_npy_shape(folder / f"{n}.keys.npy") or (0,))[0] for n in numbers)


def _npy_shape(path: Path) -> tuple[int, ...] | None:
    """The shape in an ``.npy`` file's header (None when unreadable): the data is not read."""
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            reader = np.lib.format.read_array_header_2_0 if version >= (2, 0) else np.lib.format.read_array_header_1_0
            return tuple(int(n) for n in reader(handle)[0])
    except (OSError, ValueError, EOFError):
        return None
