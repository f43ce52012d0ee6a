"""Output paths checked before any work starts: a run that can only fail when it writes should fail at once.

:func:`check_output_file` and :func:`check_output_dir` raise ConfigError naming the option, the path and the
fix when the path is an existing directory (for a file) or file (for a directory), when a parent on the way is
a file, or when nothing can be created where it would go. The last is a real probe (an empty file created and
removed in the nearest existing parent), so read-only mounts and pseudo file systems are caught, not only
permission bits. Nothing is created otherwise: missing parent directories are made when the output is written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from negmine.errors import ConfigError


def check_output_file(path: str | Path, option: str, example: str = "out.jsonl") -> None:
    """ConfigError unless a file can be written at ``path`` (given as ``option`` on the command line); ``example``:
    the file name the message suggests inside a directory given instead."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a directory; give a file path, e.g. {path / example}")
    if path.exists() and not path.is_file():
        raise ConfigError(f"{option} {path}: exists and is not a regular file; give a file path")
    _check_parent(path, option)


def check_output_dir(path: str | Path, option: str) -> None:
    """ConfigError unless ``path`` is, or can be made, a directory to write in."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: exists and is not a directory; give a directory path")
    if path.is_dir():
        _probe(path, option, path)
        return
    _check_parent(path, option)


def check_cache_dir(cache_dir: str | Path | None) -> None:
    """``--cache-dir`` (when given) must be, or be able to become, a directory: a file there failed only after the
    model had loaded and the corpus was read, naming a folder inside it (``FILE/runs: Not a directory``)."""
    if cache_dir is not None:
        check_output_dir(Path(cache_dir).expanduser(), "--cache-dir")


def _check_parent(path: Path, option: str) -> None:
    """The nearest existing ancestor of ``path`` must be a directory that accepts a new file."""
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: {parent} is a file, not a directory; choose another path")
    _probe(parent, option, path)


def _probe(directory: Path, option: str, path: Path) -> None:
    probe = directory / f".negmine-write-check.{secrets.token_hex(6)}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as err:
        raise ConfigError(
            f"{option} {path}: cannot create files in {directory} ({err.strerror or err}); choose a writable location"
        ) from None
    with contextlib.suppress(OSError):
        os.unlink(probe)


def input_files(data_dir: str | Path | None = None, *files: str | Path | None) -> list[Path]:
    """The files a run reads: ``files`` (the ones given, None skipped; a folder among them, as the folder
    ``Dataset.save_to_disk`` wrote given as pairs, with the files in it) and, for a BEIR directory, its corpus,
    queries and every file of its ``qrels/`` folder (every split), so no output can be pointed at them."""
    from negmine.io.beir import CORPUS_FILE, QUERIES_FILE

    found = [Path(f) for f in files if f is not None]
    found += [p for f in list(found) if f.is_dir() for p in sorted(f.iterdir()) if p.is_file()]
    if data_dir is not None:
        found += [Path(data_dir) / CORPUS_FILE, Path(data_dir) / QUERIES_FILE]
        if (Path(data_dir) / "qrels").is_dir():
            found += sorted(p for p in (Path(data_dir) / "qrels").iterdir() if p.is_file())
    return found


def check_outputs_distinct(outputs: dict[str, str | Path | None], inputs: list[Path]) -> None:
    """ConfigError when an output (``{option: path}``) is one of the ``inputs`` (writing it would destroy the
    data the run reads) or when two options name the same file (one would overwrite the other)."""
    readers = {_identity(p): p for p in inputs}
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        key = _identity(Path(path))
        if key in readers:
            raise ConfigError(
                f"{option} {path}: this is an input file of the run ({readers[key]}); writing there would destroy "
                "it; choose another output path"
            )
        if key in seen:
            raise ConfigError(
                f"{option} {path}: {seen[key]} names the same file, so one output would overwrite the other; "
                "give them different paths"
            )
        seen[key] = option


def _identity(path: Path) -> str:
    """A key equal for two spellings of one file (relative/absolute, symlinks, ``..``)."""
    return os.path.realpath(os.path.expanduser(path))
