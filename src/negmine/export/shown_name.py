"""How a warning names the export it is about: its file's path, or, for an export written to a temporary file its
caller never sees, its format.

:func:`negmine.pipeline.in_memory.mine_dataset` runs ``mine`` into a temporary folder, removed before its caller
reads a warning; a warning naming the file there (``export /tmp/negmine-mine_dataset-x/negatives.n-tuple.parquet
holds no records``) named a path that no longer exists. Inside :func:`exports_named_by_format` the export is named
by its format (``export 'n-tuple' holds no records``); everywhere else (``negmine mine``, ``negmine audit``,
``negmine.mine``) by its path, as before. A context variable: a thread or task of its own keeps its own setting.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

_NAMED_BY_FORMAT: ContextVar[bool] = ContextVar("negmine_exports_named_by_format", default=False)


@contextmanager
def exports_named_by_format() -> Iterator[None]:
    """Warnings inside name an export by its format, not its file."""
    token = _NAMED_BY_FORMAT.set(True)
    try:
        yield
    finally:
        _NAMED_BY_FORMAT.reset(token)


def named_by_format() -> bool:
    """Whether the file of an export is no concern of the caller's (inside :func:`exports_named_by_format`)."""
    return _NAMED_BY_FORMAT.get()


def export_name(fmt: str, path: str | Path) -> str:
    """The export as a warning names it: ``'n-tuple'`` inside :func:`exports_named_by_format`, else its path."""
    return repr(fmt) if named_by_format() else str(path)
