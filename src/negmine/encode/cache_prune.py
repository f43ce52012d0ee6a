"""Delete selected entries of a negmine cache folder (``negmine cache prune``), never one a running job uses.

Nothing else trims the cache: a stopped run's work folder (``runs/<key>/``) stays until the same command is
rerun, and a rerun with another ``--encode-shard-size``, model, depth or data starts another folder, so the old
one stays for good; namespaces of models no longer used stay too. Selectors (at least one, or nothing is
deleted): ``runs`` (the run work folders), ``model`` (the namespaces of a model: its recorded name or path,
or the fingerprint ``negmine cache list`` shows for a namespace written before the name was recorded),
``older_than_days`` (entries last modified longer ago; alone, of every kind). ``runs`` and ``model`` add kinds
of entries; ``older_than_days`` keeps the older of them. ``work_dirs`` adds the run work folders of runs given
``--work-dir`` (:func:`negmine.encode.cache_contents.work_dir_entries`: only folders a run made, each checked
before anything is deleted) to the cache's own.

Safety against a concurrent job: an entry is deleted only while this process holds its lease file
(``<name>.lock``) exclusively, taken without waiting. Runs hold it shared for as long as they use a work folder
(:mod:`negmine.engine.run_lease`), shelves for as long as they use a namespace (:mod:`negmine.encode.cache`),
so an entry in use is refused, not deleted, and a job that starts meanwhile waits for the deletion and then
starts afresh. A namespace that a writer of an older negmine (which took no lease) is writing to (a live shard
claim or in-flight encoding file) is refused too. Key files go first, so a reader never sees a shard without
its vectors.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Sequence

from negmine.encode.cache_contents import (
    CacheEntry, cache_entries, lock_of, other_work_dirs, short_fingerprint, work_dir_entries,
)
from negmine.errors import ConfigError

SECONDS_PER_DAY = 86400
PRUNABLE = ("embeddings", "cross-encoder scores", "run work folder")


@dataclass(frozen=True)
class PruneResult:
    deleted: list[CacheEntry] = field(default_factory=list)  # (with dry_run: what would be)
    in_use: list[CacheEntry] = field(default_factory=list)  # selected but held by a running job: kept
    stale_locks: list[Path] = field(default_factory=list)  # lock files of run folders that are gone, removed

    @property
    def freed(self) -> int:
        return sum(e.size for e in self.deleted)


def check_selectors(runs: bool, older_than_days: float | None, model: str | None) -> None:
    """ConfigError when nothing is selected or ``older_than_days`` is negative."""
    if not runs and older_than_days is None and model is None:
        raise ConfigError("negmine cache prune deletes nothing without a selector: give --runs (run work folders "
                          "no running job holds), --model NAME_OR_PATH (that model's embeddings and cross-encoder "
                          "scores) and/or --older-than DAYS (entries last modified longer ago); see what the cache "
                          "holds with negmine cache list")
    if older_than_days is not None and not older_than_days >= 0:
        raise ConfigError(f"--older-than must be a number of days >= 0, got {older_than_days}; e.g. --older-than 30")


def selected(entries: list[CacheEntry], runs: bool, older_than_days: float | None, model: str | None,
             now: float | None = None) -> list[CacheEntry]:
    """The entries the selectors pick (see the module docstring); "other" entries never."""
    kinds = set(PRUNABLE) if not runs and model is None else {"run work folder"} if runs else set()
    exact = model is not None and model in {e.fingerprint for e in entries}
    picked = [e for e in entries if e.kind in kinds or (model is not None and model_matches(e, model, exact))]
    if older_than_days is not None:
        cutoff = (time.time() if now is None else now) - older_than_days * SECONDS_PER_DAY
        picked = [e for e in picked if e.modified < cutoff]
    return [e for e in picked if e.kind in PRUNABLE]


def model_matches(entry: CacheEntry, model: str, exact: bool = False) -> bool:
    """``model`` names the entry's recorded model (as given, or a local folder by its absolute path) or its
    fingerprint: the whole of it, or (unless ``exact``: ``model`` is the whole fingerprint of an entry) its hash cut
    to at least what ``negmine cache list`` shows, with the same ``|`` suffix (:func:`fingerprint_matches`)."""
    from negmine.encode.cache import recorded_model

    if entry.kind == "run work folder":
        return False
    if entry.model is not None and entry.model in (model, recorded_model(model)):
        return True
    fingerprint = entry.fingerprint or ""
    return bool(fingerprint) and (fingerprint == model if exact else fingerprint_matches(fingerprint, model))


def fingerprint_matches(fingerprint: str, given: str) -> bool:
    """``given`` is ``fingerprint`` with its hash cut to at least the listing's 8 digits and its ``|`` suffix (a
    re-mining's ``|train-step=K``) whole: a prefix of the suffix never matches, so neither ``...|train-step=100`` nor
    ``st-263b0e61|train-step=100`` selects step 1000's or 1005's namespace (until 2026-12-06 the first did)."""
    head, bar, suffix = fingerprint.partition("|")
    given_head, given_bar, given_suffix = given.partition("|")
    return (bar + suffix == given_bar + given_suffix and head.startswith(given_head)
            and len(given_head) >= len(short_fingerprint(head)))


def prune_cache(root: str | Path, runs: bool = False, older_than_days: float | None = None,
                model: str | None = None, dry_run: bool = False, now: float | None = None,
                work_dirs: Sequence[str | Path] = ()) -> PruneResult:
    """Delete (with ``dry_run``: only report) the selected entries of the cache folder ``root`` and of the
    ``work_dirs`` (folders runs were given as ``--work-dir``) that no running job holds; with ``runs``, also the
    unheld lock files of run folders that are gone."""
    from negmine.encode.emptied_work_dirs import record_work_dirs, was_emptied

    check_selectors(runs, older_than_days, model)
    folders = other_work_dirs(root, work_dirs)
    entries = cache_entries(root) + [e for folder in folders  # all checked first
                                     for e in work_dir_entries(folder, was_emptied(root, folder))]
    result = PruneResult()
    for entry in selected(entries, runs, older_than_days, model, now):
        done = _in_use(entry) is None if dry_run else _delete(entry)
        (result.deleted if done else result.in_use).append(entry)
    if runs and older_than_days is None:
        for folder in [Path(root) / "runs", *folders]:
            result.stale_locks.extend(_stale_run_locks(folder, dry_run))
    if not dry_run:  # a folder prune emptied stays a work folder for list and prune (not a typo's)
        gone = [e.path.parent for e in result.deleted] + [lock.parent for lock in result.stale_locks]
        record_work_dirs(root, [folder for folder in folders if folder.resolve() in {p.resolve() for p in gone}])
    return result


def delete_namespaces(root: str | Path, fingerprints: Collection[str]) -> PruneResult:
    """Delete the embedding namespaces of the cache folder ``root`` whose fingerprint is one of ``fingerprints``
    (every prompt's), each only while no process holds it (as :func:`prune_cache` deletes): what ``negmine train``
    does with its re-mining's vectors when the run finishes (:mod:`negmine.train.remine_vectors`). Whole
    fingerprints only (``prune --model`` also takes a hash cut short)."""
    wanted = set(fingerprints)
    result = PruneResult()
    for entry in cache_entries(root):
        if entry.kind == "embeddings" and entry.fingerprint in wanted:
            (result.deleted if _delete(entry) else result.in_use).append(entry)
    return result


def _delete(entry: CacheEntry) -> bool:
    """Delete ``entry`` while holding its lease exclusively; False (nothing deleted) when a job holds it."""
    from negmine.io.lock_file import open_locked, remove_locked

    lock = lock_of(entry.path)
    try:
        fd, _ = open_locked(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    try:
        if entry.kind != "run work folder" and _live_writer(entry.path):
            return False
        if entry.kind != "run work folder":
            for keys in entry.path.glob("*.keys.npy"):  # first: no reader sees a shard without its vectors
                keys.unlink(missing_ok=True)
        shutil.rmtree(entry.path, ignore_errors=True)
        return not entry.path.exists()
    finally:
        remove_locked(fd, lock, [])  # the folder is gone first: a job that waited on the lock starts afresh


def _in_use(entry: CacheEntry) -> str | None:
    """Why ``entry`` cannot be deleted now (dry run: looked at, nothing taken for longer than a look)."""
    from negmine.encode.cache_contents import held

    if held(lock_of(entry.path)):
        return "held"
    if entry.kind != "run work folder" and _live_writer(entry.path):
        return "written"
    return None


def _live_writer(folder: Path) -> bool:
    """A shard claim or in-flight encoding file of a process that may still run (an older negmine's writer,
    which takes no lease): its owner is not a dead process of this host."""
    from negmine.encode.cache import UNOWNED_CLAIM_SECONDS
    from negmine.io.atomic import is_dead_owner

    marks = [*folder.glob("*.claim"), *folder.glob("encoding/*.npy")]
    for mark in marks:
        with contextlib.suppress(OSError):
            owner = mark.read_text(encoding="utf-8", errors="replace").strip() if mark.suffix == ".claim" \
                else mark.name.rsplit(".", 2)[0]
            if owner and not is_dead_owner(owner):
                return True
            if not owner and time.time() - mark.stat().st_mtime < UNOWNED_CLAIM_SECONDS:
                return True
    return False


def _stale_run_locks(runs: Path, dry_run: bool) -> list[Path]:
    """Lock files under ``runs`` whose folder is gone and that no job holds (a run that released its lease
    with ``--keep-work`` or was killed, and whose folder was removed since, leaves one)."""
    from negmine.encode.cache_contents import held, is_gone_run_lock
    from negmine.io.lock_file import open_locked, remove_locked

    found = []
    names = sorted(os.listdir(runs)) if runs.is_dir() else []
    for name in names:
        stem = name[: -len(".lock")]
        if not is_gone_run_lock(runs / name):
            continue
        if dry_run:
            if not held(runs / name):
                found.append(runs / name)
            continue
        try:
            fd, _ = open_locked(runs / name, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        if (runs / stem).exists():  # a run started on it meanwhile: its lease is taken, keep the file
            os.close(fd)
            continue
        remove_locked(fd, runs / name, [])
        found.append(runs / name)
    return found
