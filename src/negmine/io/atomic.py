"""Atomic file output: write to a temp file in the target directory, fsync, then rename.

A crash or Ctrl-C leaves either the previous file or no file, never a half-written one. A killed process
(SIGKILL, power loss) cannot remove its temp file; temp names carry the host and process id, so the next
write of the same file on that host removes the temp files of processes that no longer run, and so does a run
that takes the lock of the file, or of a folder it is in (:mod:`negmine.io.output_lock`), as it starts: a run
that stops before it writes that file again (refused later, or killed once more) leaves no stray temp file.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
from pathlib import Path
from typing import IO, Iterator


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _dead(pid: int) -> bool:
    """True when ``pid`` (of this host) is not this process and no longer runs."""
    return pid != os.getpid() and not _alive(pid)


def _temp_name(target: str = ".+") -> re.Pattern:
    """A temp file name :func:`_new_temp_file` gives, of this host; group 1 is the pid. ``target``: a regex of
    the name of the file it is written for (any, by default)."""
    return re.compile(rf"\.{target}\.{re.escape(_host())}\.(\d+)\.[0-9a-f]+\.tmp")


def _remove_dead_temp_files(folder: Path, names: list[str], pattern: re.Pattern) -> list[Path]:
    """The files ``names`` of ``folder`` that match ``pattern`` and whose pid is dead, deleted (one that cannot be
    is left: a sweep never fails the write or the run that makes it)."""
    removed = []
    for name in names:
        match = pattern.fullmatch(name)
        if match and _dead(int(match.group(1))):
            with contextlib.suppress(OSError):
                (folder / name).unlink()
                removed.append(folder / name)
    return removed


def remove_orphan_temp_files(path: Path) -> list[Path]:
    """Delete the temp files of ``path`` left by killed processes of this host (their pid no longer runs);
    return them. Temp files of live processes, of other hosts (a shared file system) and of unknown names stay."""
    prefix = f".{path.name}.{_host()}."
    try:
        with os.scandir(path.parent) as entries:
            names = [e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:  # no folder yet (or not readable): no temp file to remove
        return []
    return _remove_dead_temp_files(path.parent, names, _temp_name(re.escape(path.name)))


def remove_orphan_temp_files_under(folder: Path) -> list[Path]:
    """:func:`remove_orphan_temp_files` for every file in ``folder`` and its subfolders: the temp files, of any
    target name, that killed processes of this host left there; return them. Symlinked folders are not
    entered (they may lead out of the folder)."""
    removed: list[Path] = []
    pattern = _temp_name()
    for root, _, files in os.walk(folder):
        removed += _remove_dead_temp_files(Path(root), [name for name in files if name.endswith(".tmp")], pattern)
    return removed


def owned_prefix(prefix: str) -> str:
    """``<prefix><host>.<pid>.``: the start of a scratch file or folder name that says which process owns it,
    so :func:`remove_dead_owners` can tell the leftovers of killed processes from those of live ones."""
    return f"{prefix}{_host()}.{os.getpid()}."


def owner_tag() -> str:
    """``<host>.<pid>`` of this process: written into lock-like files (the embedding cache's shard claims) so
    :func:`is_dead_owner` can tell a killed process's leftovers from a live one's."""
    return f"{_host()}.{os.getpid()}"


def is_dead_owner(tag: str) -> bool:
    """True when ``tag`` (an :func:`owner_tag`) names a process of this host that no longer runs; False for a
    live process, this one, another host (a shared file system) or a tag that is not one."""
    host, _, pid = tag.strip().rpartition(".")
    if host != _host() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    return not _alive(int(pid))


def remove_dead_owners(parent: Path, prefix: str) -> list[Path]:
    """Delete the entries of ``parent`` named by :func:`owned_prefix` with ``prefix`` whose process (of this
    host) no longer runs: the scratch files and folders a killed run (``kill -9``, which removes nothing)
    left; return them. Entries of live processes, of other hosts and of unknown names stay."""
    import shutil

    mine = f"{prefix}{_host()}."
    removed = []
    for entry in Path(parent).glob(f"{mine}*"):
        match = re.match(r"(\d+)\.", entry.name[len(mine):])
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        removed.append(entry)
    return removed


def _new_temp_file(path: Path) -> Path:
    """Create an empty file next to ``path`` with a fresh name (host, pid, random), mode 0666 minus the umask
    (the kernel applies it at creation: nothing reads or changes the process-wide umask, which other threads
    share)."""
    remove_orphan_temp_files(path)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{_host()}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path next to ``path``; when the block exits cleanly the temp file is fsynced and renamed
    over ``path``. It has the usual permissions of a new file (0666 minus the umask, not mkstemp's 0600).
    On any exception (Ctrl-C included) the temp file is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp_file(path)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file next to ``path``; on clean exit it replaces ``path`` atomically."""
    binary = "b" in mode
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=None if binary else encoding, newline=None if binary else "\n") as handle:
            yield handle


def atomic_save_npy(path: str | Path, array) -> None:
    """Save a numpy array atomically."""
    import numpy as np

    with atomic_write(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
