"""One run at a time per output: a run holds a lock on every file (or folder) it writes, for its whole life.

Each output is written atomically (a temp file renamed over the path), but a run's outputs describe one
another: the exports are re-read from the native file on disk, the summary counts its rows, a training's
checkpoints and model follow one run. Two runs started with the same ``-o`` each wrote every file, and the set
left behind could pair one run's native file with the other's exports and summary. So :func:`hold_outputs`
takes an exclusive, non-blocking ``flock`` on ``<output>.lock`` next to each output file (``.negmine.lock`` in
an output folder), after the output checks and before any model loads or data is encoded, and holds it until the run ends; a second run that targets one of
those outputs fails at once (ConfigError naming the output, the pid of the run writing it, and the fix). The
lock is the kernel's: a run stopped by Ctrl-C or killed holds nothing, so rerunning the same command resumes;
the lock file a killed run leaves is taken over by the next run, and so are the temp files of its atomic
writes: once a run holds every lock it asked for (no live run writes those outputs), it removes the temp files
that runs of this host that no longer run left for its output files and inside its output folders
(:func:`negmine.io.atomic.remove_orphan_temp_files`), so a run stopped before it wrote a file again leaves no
stray ``.<name>.<host>.<pid>.<hex>.tmp`` there. The lock file is deleted when the run ends,
with the protocol of :mod:`negmine.io.lock_file` (as work-folder leases do), and so are folders made for it
and left empty (a run refused before it wrote anything leaves no ``out/``, nor an empty output folder, behind).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from negmine.errors import ConfigError
from negmine.io.atomic import owner_tag, remove_orphan_temp_files, remove_orphan_temp_files_under
from negmine.io.lock_file import open_locked, remove_locked

Outputs = dict[str, "str | Path | None"]
"""``{option: path}`` as the output checks take them; None entries (outputs not written) are skipped."""


FOLDER_LOCK = ".negmine.lock"
"""The lock of an output folder, inside it: a run may write in the folder without rights on its parent."""


def lock_path(path: str | Path, folder: bool = False) -> Path:
    """``<output>.lock`` next to an output file (``<folder>/.negmine.lock`` for an output folder), found from its
    real path, so two spellings of one output (relative and absolute, through a symlink) share one lock."""
    real = Path(os.path.realpath(os.path.expanduser(path)))
    return real / FOLDER_LOCK if folder else real.parent / f"{real.name}.lock"


HeldLocks = frozenset
"""The lock paths (:func:`lock_path`) a run holds, as :func:`hold_outputs` yields them; passed back to it as
``held`` by a step of the same run that writes some of those outputs itself (an audit's candidate mining)."""


@contextlib.contextmanager
def hold_outputs(outputs: Outputs, folders: Outputs | None = None,
                 held: HeldLocks = HeldLocks()) -> Iterator[HeldLocks]:
    """Hold the lock of every output file (``outputs``) and folder (``folders``) for the block and yield every
    lock path held then (``held`` with them); ConfigError (nothing held) when another run holds one. Locks are
    taken in one order (by lock path), so of two runs sharing outputs one always gets them all.

    ``held``: locks the caller (this process) holds already and keeps after the block; they are not taken again.
    A second ``flock`` on the same file is refused even in the same process, so an audit could not hold the
    candidates file it mines: :func:`negmine.pipeline.mine.mine` locked it only while writing it, and between
    mining and the audit reading it another run could overwrite it."""
    wanted = {lock_path(path, folder): (option, Path(path))
              for group, folder in ((outputs, False), (folders or {}, True))
              for option, path in group.items() if path is not None}
    taken: list[tuple[int, Path, list[Path]]] = []
    try:
        for lock in sorted(set(wanted) - held):
            taken.append(_take(lock, *wanted[lock]))
        remove_stale_temp_files(outputs, folders or {})
        yield HeldLocks(held | set(wanted))
    finally:
        for fd, lock, created in reversed(taken):
            remove_locked(fd, lock, created)  # with the folders made for it, when left empty


def remove_stale_temp_files(outputs: Outputs, folders: Outputs) -> list[Path]:
    """Delete the temp files earlier, killed runs of this host left for ``outputs`` (files) and in ``folders``
    (their whole tree); return them. Called with the outputs' locks held: only the holder writes them, so a temp
    file of another process that still runs is not of these outputs' writers and stays (as do other hosts')."""
    removed = [temp for path in outputs.values() if path is not None for temp in remove_orphan_temp_files(Path(path))]
    for folder in folders.values():
        if folder is not None:
            removed += remove_orphan_temp_files_under(Path(folder))
    return removed


def check_not_busy(outputs: Outputs, folders: Outputs | None = None) -> None:
    """ConfigError when another run is writing one of ``outputs`` or ``folders`` now (an early check that holds
    nothing, for a command that takes the locks later with :func:`hold_outputs`)."""
    with hold_outputs(outputs, folders):
        pass


def _take(lock: Path, option: str, path: Path) -> tuple[int, Path, list[Path]]:
    try:
        fd, created = open_locked(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(option, path, lock) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, owner_tag().encode(), 0)  # for the message of a run refused meanwhile
    return fd, lock, created


def _busy(option: str, path: Path, lock: Path) -> ConfigError:
    """The refusal: which output, who writes it (``<host>.<pid>`` from the lock file, when it could be read), and
    the fix. Exports and ``--denoise`` flags are named after ``--output``, so that is the option to change for
    them."""
    try:
        owner = lock.read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        owner = ""
    if owner == owner_tag():
        return ConfigError(f"{option} {path}: this run writes that file already as another of its outputs; "
                           "give each output a path of its own")
    host, _, pid = owner.rpartition(".")
    here = owner_tag().rpartition(".")[0]
    who = f" (pid {pid}{'' if host == here else f' on {host}'})" if pid.isdigit() else ""
    fix = "--output" if option.startswith(("--export", "--denoise")) else option
    return ConfigError(
        f"{option} {path}: another negmine run{who} is writing this output now (it holds {lock}); wait for that "
        f"run to finish, or choose another {fix} for this one"
    )
