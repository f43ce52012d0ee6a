"""Texts held as Arrow strings, not Python objects, and spilled to a memory-mapped file when large.

A Python ``list[str]`` of a corpus costs the text plus ~57 bytes per document (object header and list
slot) and all of it is anonymous memory. :class:`TextColumn` keeps the texts in Arrow ``large_string``
arrays (the UTF-8 bytes plus an 8-byte offset per text). :class:`TextColumnBuilder` collects texts in
batches; once the batches pass ``spill_bytes`` of text, it writes them to an Arrow IPC file in the temp
folder (``$TMPDIR``) and continues there, and the finished column memory-maps that file. The file is
unlinked as soon as it is mapped, so a crash or Ctrl-C never leaves it behind. Mapped pages are page cache:
the kernel drops and re-reads them under memory pressure, so the resident size of a job no longer grows
with the corpus text.

A column is an immutable ``Sequence[str]``: ``column[i]``, slices (lists), iteration in batches,
:meth:`TextColumn.take` for many rows at once, and ``==`` against any sequence of strings.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

SPILL_BYTES = 64 * 2**20
"""Text bytes a builder keeps in memory before it spills to a memory-mapped temp file."""
SPILL_PREFIX = "negmine-texts-"
"""Spill file names: ``negmine-texts-<host>.<pid>.<random>.arrow`` (see :func:`negmine.io.atomic.owned_prefix`)."""

BATCH_ROWS = 65536
"""Texts per Arrow batch (the unit of conversion back to Python strings when iterating)."""


def _schema():
    import pyarrow as pa  # imported on first use: importing pyarrow costs ~0.2 s

    return pa.schema([("text", pa.large_string())])


class TextColumn(Sequence):
    """An immutable sequence of texts stored in Arrow arrays (see module docstring)."""

    def __init__(self, chunks: Iterable[pa.Array], spilled: bool = False) -> None:
        self._chunks = [chunk for chunk in chunks if len(chunk)]
        self._starts = np.cumsum([0] + [len(chunk) for chunk in self._chunks]).tolist()
        self.spilled = spilled
        """True when the texts live in a memory-mapped file rather than in process memory."""

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "TextColumn":
        """A column of ``texts`` kept in memory."""
        builder = TextColumnBuilder(spill_bytes=None)
        builder.extend(texts)
        return builder.finish()

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, item):
        if isinstance(item, slice):
            return self.take(range(*item.indices(len(self))))
        row = _row(item, len(self))
        chunk = bisect.bisect_right(self._starts, row) - 1
        return self._chunks[chunk][row - self._starts[chunk]].as_py()

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            for start in range(0, len(chunk), BATCH_ROWS):
                yield from chunk.slice(start, BATCH_ROWS).to_pylist()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # mutable-looking sequences (lists) compare equal to it, so it is not hashable

    def __repr__(self) -> str:
        where = "memory-mapped" if self.spilled else "in memory"
        return f"TextColumn({len(self)} texts, {self.nbytes} bytes, {where})"

    @property
    def nbytes(self) -> int:
        """Bytes of the Arrow buffers (UTF-8 text plus offsets)."""
        return sum(chunk.nbytes for chunk in self._chunks)

    def take(self, rows: Iterable[int]) -> list[str]:
        """``[self[r] for r in rows]``, converted chunk by chunk (fast for many rows)."""
        rows = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
        if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
            bad = rows[(rows < -len(self)) | (rows >= len(self))][0]
            raise IndexError(f"text row {int(bad)} out of range for {len(self)} texts")
        rows = np.where(rows < 0, rows + len(self), rows)
        import pyarrow as pa

        which = np.searchsorted(np.asarray(self._starts[1:]), rows, side="right")
        out: list[str] = [""] * len(rows)
        for chunk in np.unique(which).tolist():
            positions = np.flatnonzero(which == chunk)
            values = self._chunks[chunk].take(pa.array(rows[positions] - self._starts[chunk])).to_pylist()
            for position, value in zip(positions.tolist(), values):
                out[position] = value
        return out

    def extended(self, texts: Iterable[str]) -> "TextColumn":
        """A new column: these texts, then ``texts`` (the existing arrays are shared, not copied)."""
        tail = TextColumn.from_texts(texts)
        return TextColumn(self._chunks + tail._chunks, spilled=self.spilled)


def _row(item, length: int) -> int:
    if not isinstance(item, (int, np.integer)):
        raise TypeError(f"text rows are integers or slices, got {type(item).__name__}")
    row = int(item) + length if item < 0 else int(item)
    if not 0 <= row < length:
        raise IndexError(f"text row {int(item)} out of range for {length} texts")
    return row


class TextColumnBuilder:
    """Append texts, then :meth:`finish` into a :class:`TextColumn`; spills past ``spill_bytes``
    (``None``: never). Use as a context manager, or call :meth:`close`, so a failed read removes its file."""

    def __init__(self, spill_bytes: int | None = -1, spill_dir: str | Path | None = None) -> None:
        self.spill_bytes = SPILL_BYTES if spill_bytes == -1 else spill_bytes
        self.spill_dir = spill_dir
        self._pending: list[str] = []
        self._chunks: list[pa.Array] = []
        self._bytes = 0
        self._rows = 0
        self._path: str | None = None
        self._writer: pa.ipc.RecordBatchFileWriter | None = None

    def __enter__(self) -> "TextColumnBuilder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def append(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) >= BATCH_ROWS:
            self._flush()

    def extend(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.append(text)

    def finish(self) -> TextColumn:
        """The column of every appended text, in order (memory-mapped if the builder spilled)."""
        self._flush()
        if self._writer is None:
            return TextColumn(self._chunks)
        import pyarrow as pa

        self._writer.close()
        self._writer = None
        table = pa.ipc.open_file(pa.memory_map(self._path)).read_all()
        self.close()  # the mapping keeps the unlinked file's pages reachable
        return TextColumn(table.column("text").chunks, spilled=True)

    def close(self) -> None:
        """Drop the spill file (if any); the builder cannot be used afterwards."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
            self._path = None

    def _flush(self) -> None:
        if not self._pending:
            return
        import pyarrow as pa

        try:
            chunk = pa.array(self._pending, type=pa.large_string())
        except UnicodeEncodeError:
            self._refuse_unstorable()
            raise
        self._rows += len(self._pending)
        self._pending = []
        self._bytes += chunk.nbytes
        if self._writer is None and self.spill_bytes is not None and self._bytes > self.spill_bytes:
            self._start_spill()
        if self._writer is None:
            self._chunks.append(chunk)
        else:
            self._writer.write_batch(pa.record_batch([chunk], schema=_schema()))

    def _refuse_unstorable(self) -> None:
        """InputError naming the pending text UTF-8 cannot store (a lone surrogate: only texts built in Python hold
        one, the readers refuse it at its line), by its index among every appended text. Searched only once pyarrow
        has failed, so a column of good texts costs nothing more."""
        from negmine.errors import InputError
        from negmine.io.files import unstorable_row_problem, unstorable_text

        row = unstorable_text(self._pending)
        if row is not None:
            raise InputError(None, None, "text", unstorable_row_problem(self._rows + row, self._pending[row])) \
                from None

    def _start_spill(self) -> None:
        from negmine.io.atomic import owned_prefix, remove_dead_owners

        spill_dir = self.spill_dir if self.spill_dir is not None else tempfile.gettempdir()
        remove_dead_owners(Path(spill_dir), SPILL_PREFIX)  # the spill files of killed runs (kill -9 removes nothing)
        handle, self._path = tempfile.mkstemp(prefix=owned_prefix(SPILL_PREFIX), suffix=".arrow", dir=spill_dir)
        import pyarrow as pa

        os.close(handle)
        self._writer = pa.ipc.new_file(self._path, _schema())
        for chunk in self._chunks:
            self._writer.write_batch(pa.record_batch([chunk], schema=_schema()))
        self._chunks = []

