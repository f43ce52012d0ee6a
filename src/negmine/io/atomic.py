"""Atomic file output: write to a temp file in the target directory, fsync, then rename.

A crash or Ctrl-C leaves either the previous file or no file, never a half-written one. A killed process
(SIGKILL, power loss) cannot remove its temp file; temp names carry the host and process id, so the next
write of the same file on that host removes the temp files of processes that no longer run.
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


def remove_orphan_temp_files(path: Path) -> list[Path]:
    """Delete the temp files of ``path`` left by killed processes of this host (their pid no longer runs);
    return them. Temp files of live processes, of other hosts (a shared file system) and of unknown names stay."""
    prefix = f".{path.name}.{_host()}."
    removed = []
    with os.scandir(path.parent) as entries:
        names = [e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    for name in names:
        match = re.fullmatch(r"(\d+)\.[0-9a-f]+\.tmp", name[len(prefix):])
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                (path.parent / name).unlink()
                removed.append(path.parent / name)
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
