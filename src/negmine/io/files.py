"""Checked file access shared by the readers: existence checks and UTF-8 line streaming."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from negmine.errors import InputError


def require_file(path: str | Path, what: str = "file") -> Path:
    """``path`` as a Path; InputError when it does not exist or is a directory."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, None, None, f"expected a {what}, found a directory")
    if not path.is_file():
        packed = path.with_name(path.name + ".gz")
        hint = f" (found {packed.name}: decompress it first, e.g. gunzip -k {packed})" if packed.is_file() else ""
        raise InputError(path, None, None, f"{what} not found{hint}")
    return path


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each non-blank line, 1-based, without the line ending.

    Streams the file (constant memory), decodes each line as UTF-8 (a byte-order mark at a line's start is
    dropped) and raises InputError with the line number on invalid UTF-8, or at once on a gzip file.
    """
    path = require_file(path)
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if line_no == 1 and raw.startswith(GZIP_MAGIC):
                raise InputError(path, None, None, f"gzip-compressed; decompress it first, e.g. gunzip -k {path}")
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise InputError(path, line_no, None, f"not valid UTF-8 (byte {err.start + 1} of the line)") from None
            yield line_no, text.lstrip("\ufeff").rstrip("\r\n")  # a mark left mid-file by concatenating files too


GZIP_MAGIC = b"\x1f\x8b"
