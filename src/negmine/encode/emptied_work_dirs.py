"""The ``--work-dir`` folders ``negmine cache prune`` deleted run work folders from, recorded in the cache folder.

``negmine cache list|prune --work-dir DIR`` refuses a ``DIR`` that holds nothing a run made: a mistyped path (or a
folder of the user's) must not read as an empty work folder. But once ``prune --runs`` deleted a folder's last run,
that folder holds nothing a run made either, and until 2026-12-06 the next ``cache list --work-dir DIR`` exited 2
with the typo's long message (measured on the demo: ``negmine mine --work-dir wd --keep-work``, ``cache prune
--runs --work-dir wd``, ``cache list --work-dir wd``). Nothing in ``DIR`` tells the two apart (prune leaves no file
there, and the rest of ``DIR`` is the user's), so prune records the folder in ``<cache dir>/RECORD_NAME``, and the
cache's ``list`` and ``prune`` take a recorded folder with no run left as a normal, empty work folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

RECORD_NAME = "emptied-work-dirs.json"
"""In the cache folder: a JSON list of absolute paths, each a ``--work-dir`` prune deleted a run work folder (or the
lock file of a gone one) from."""


def _key(folder: str | Path) -> str:
    return str(Path(folder).expanduser().resolve())


def recorded_work_dirs(root: str | Path) -> set[str]:
    """The folders recorded in the cache folder ``root`` (none when the record is missing or unreadable)."""
    try:
        paths = json.loads((Path(root) / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {p for p in paths if isinstance(p, str)} if isinstance(paths, list) else set()


def record_work_dirs(root: str | Path, folders: Iterable[str | Path]) -> None:
    """Add ``folders`` to the record of the cache folder ``root`` (written only when it gains one)."""
    from negmine.io.atomic import atomic_write

    known = recorded_work_dirs(root)
    paths = known | {_key(folder) for folder in folders}
    if paths != known and Path(root).is_dir():
        with atomic_write(Path(root) / RECORD_NAME) as handle:
            json.dump(sorted(paths), handle, indent=2)


def was_emptied(root: str | Path, folder: str | Path) -> bool:
    """``folder`` is one prune deleted runs' work folders from, per the record of the cache folder ``root``."""
    return _key(folder) in recorded_work_dirs(root)
