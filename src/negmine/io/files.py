"""Checked file access shared by the readers: existence checks, UTF-8 line streaming, and the checks every
reader applies to a text read from a file (storable as UTF-8, visible content)."""

from __future__ import annotations

import io
import os
import re
import shlex
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Iterator

from negmine.errors import InputError
from negmine.io.utf16 import HEAD_BYTES, utf16_problem, utf16_without_mark


def require_file(path: str | Path, what: str = "file", fix: str = "") -> Path:
    """``path`` as a Path; InputError when it does not exist or is a directory. ``fix`` (``; give ...``) ends the
    message of a file that is not there, when no dangling link or packed copy explains it."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, None, None, f"expected a {what}, found a directory")
    if not path.is_file():
        packed = path.with_name(path.name + ".gz")
        hint = f" (found {packed.name}: decompress it first, e.g. gunzip -k {packed})" if packed.is_file() else ""
        raise InputError(path, None, None, f"{what} not found{dangling_link_note(path) or hint or fix}")
    return path


def dangling_link_note(path: str | Path) -> str:
    """For a ``path`` that is a symbolic link leading to no file, what is wrong with it (" (it is a symbolic link in a
    loop: ...)", " (it is a symbolic link to X, which does not exist)"), to append to "not found"; "" otherwise. Such a
    path read "not found" alone, while ``ls`` lists it."""
    path = Path(path)
    if not path.is_symlink() or path.exists():
        return ""
    try:
        path.resolve(strict=True)
    except FileNotFoundError:
        return f" (it is a symbolic link to {os.readlink(path)}, which does not exist: point it at the file)"
    except (OSError, RuntimeError):  # RuntimeError: Python < 3.13's "Symlink loop"
        pass
    return (f" (it is a symbolic link in a loop: following it leads back to itself, {path} -> {os.readlink(path)}; "
            "point it at the file)")


def file_identity(path: str | Path) -> dict[str, Any]:
    """The file a run read, for its summary (the pairs' ``pairs_input``, a BEIR folder's ``beir_input``): its
    resolved path and size in bytes."""
    path = Path(path)
    return {"path": str(path.resolve()), "bytes": path.stat().st_size}


def hashed_identity(path: str | Path, digest: Any) -> dict[str, Any]:
    """:func:`file_identity` with ``sha256``, the hex of ``digest`` once the file was read through it to its end
    (:func:`iter_lines`, :func:`hashed_reader`): the record of a BEIR file, a ``--pairs`` run's ``--corpus`` file,
    ``eval``'s data files and ``--run`` files, and the file ``audit`` judged. The path and size alone do not tell an
    edited file from the one read before."""
    return {**file_identity(path), "sha256": digest.hexdigest()}


def utf8_fix_source(head: bytes) -> str:
    """The encoding the fix of a text file that is not UTF-8 (``head``: its first bytes) converts from: ``utf-16``
    after a UTF-16 byte-order mark, ``utf-16le`` or ``utf-16be`` for UTF-16 text without one
    (:func:`negmine.io.utf16.utf16_without_mark`), else ``latin1`` (the usual other encoding of a saved file)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return utf16_without_mark(head) or "latin1"


def save_as_utf8_hint(path: Path, head: bytes) -> str:
    """The fix for a text file that is not UTF-8 (``head``: its first bytes): a command converting it from the
    encoding :func:`utf8_fix_source` names."""
    source = utf8_fix_source(head)
    return f"; save the file as UTF-8 (e.g. iconv -f {source} -t utf-8 {path.name} > utf8-{path.name})"


def refuse_unreadable_head(path: Path, head: bytes, binary: bool = True) -> None:
    """InputError for a file whose first bytes (``head``, after any UTF-8 byte-order mark) show that no line of it
    reads as UTF-8 text: gzip-compressed (the ``gunzip`` fix), or UTF-16 text, marked (line 1 is not UTF-8 at
    byte 1) or not (:func:`negmine.io.utf16.utf16_without_mark`: its ASCII characters are UTF-8 with a 0x00 beside
    each, so a reader said "invalid JSON", "wrong header" or "binary file" of it), with the ``iconv`` fix; with
    ``binary``, any other head holding a NUL (:func:`binary_file_error`)."""
    if head.startswith(GZIP_MAGIC):
        raise InputError(path, None, None, f"gzip-compressed; decompress it first, e.g. gunzip -k {path}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, 1, None, "not valid UTF-8 (byte 1 of the line)" + save_as_utf8_hint(path, head))
    encoding = utf16_without_mark(head)
    if encoding is not None:
        raise InputError(path, 1, None, utf16_problem(path.name, head, encoding))
    if binary and b"\x00" in head:  # False: the caller names binary files itself
        raise binary_file_error(path, head)


ARCHIVE_FIXES = {b"PK\x03\x04": "a zip archive; extract it first, e.g. unzip",
                 b"7z\xbc\xaf\x27\x1c": "a 7z archive; extract it first, e.g. 7z x"}


def binary_file_error(path: Path, head: bytes) -> InputError:
    """InputError for a file whose first bytes hold a NUL, which no UTF-8 text file holds (an archive, an image,
    model weights): the JSON readers said "invalid JSON: Expecting value" of it, the TSV readers gave the Latin-1
    ``iconv`` fix, which cannot help. Names the byte, and an archive's extract command."""
    at = head.index(b"\x00")
    kind = next((fix for magic, fix in ARCHIVE_FIXES.items() if head.startswith(magic)), None)
    what = f"a binary file, not text (byte {at + 1} of the file is 0x00, which no UTF-8 text file holds)"
    fix = f": {kind} {path}" if kind else "; check the path: a UTF-8 text file is read here"
    return InputError(path, None, None, what + fix)


def file_head(handle: io.BufferedReader) -> bytes:
    """The first bytes of a file just opened (at most :data:`~negmine.io.utf16.HEAD_BYTES`), without reading them:
    a digest fed by the reader (:func:`hashed_reader`) still gets every byte once."""
    return handle.peek(HEAD_BYTES)[:HEAD_BYTES]


class NotUtf8Error(InputError):
    """InputError for a line that is not UTF-8 (:func:`iter_lines`). ``raw``: the line's bytes; ``source``: the
    encoding its fix converts from (:func:`utf8_fix_source`). A reader expecting JSON reads ``raw`` as Latin-1 to
    tell a JSON line saved as Latin-1 (the fix converts it) from text that is no JSON in any encoding."""

    def __init__(self, path: str | Path, line: int, problem: str, raw: bytes = b"", source: str = "latin1") -> None:
        super().__init__(path, line, None, problem)
        self.raw, self.source = raw, source

    def __reduce__(self):
        return type(self), (self.path, self.line, self.problem, self.raw, self.source)


def iter_lines(path: str | Path, first_field: str | None = None, digest: Any = None) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each non-blank line, 1-based, without the line ending.

    Streams the file (constant memory), decodes each line as UTF-8 and raises InputError with the line number on
    invalid UTF-8 (:class:`NotUtf8Error`), or at once on a gzip file or UTF-16 text (:func:`refuse_unreadable_head`).
    A UTF-8 byte-order mark at the start of the file is dropped; one at the start of any other line is an InputError
    (:func:`stray_mark_error`, naming ``first_field``, the field a line starts with): dropping it there changed data,
    e.g. a TREC run's query id ``'\ufeffq1'`` read back as ``'q1'``.

    ``digest`` (a ``hashlib`` object), when given, is fed every byte of the file as it is read, blank lines and
    marks included, so once every line is read it is the file's own hash (``sha256sum``'s): the run summary's record
    of a BEIR file (:func:`negmine.io.beir.load_beir_files`) costs no second pass over the corpus.
    """
    path = require_file(path)
    with open(path, "rb") if digest is None else hashed_reader(path, digest) as handle:
        head = file_head(handle)
        refuse_unreadable_head(path, head.removeprefix(BYTE_ORDER_MARK.encode("utf-8")))
        for line_no, raw in enumerate(handle, start=1):
            if line_no == 1:
                raw = raw.removeprefix(BYTE_ORDER_MARK.encode("utf-8"))
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise NotUtf8Error(path, line_no, f"not valid UTF-8 (byte {err.start + 1} of the line)"
                                   + save_as_utf8_hint(Path(path), head), raw, utf8_fix_source(head)) from None
            if text.startswith(BYTE_ORDER_MARK):
                raise stray_mark_error(path, line_no, first_field)
            yield line_no, text.rstrip("\r\n")


class _HashedFile(io.RawIOBase):
    """A file read in binary whose every byte read is fed to ``digest``: under a buffered reader, the hash is
    updated once per buffer fill, not once per line (reading SciFact's corpus.jsonl, 8 MB: +10.8% CPU time hashed
    per line, +5.0% per 1 MiB fill; best of 3, 2026-12-05)."""

    def __init__(self, path: Path, digest: Any) -> None:
        super().__init__()
        self._file, self._digest = io.FileIO(path, "r"), digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._file.readinto(buffer)
        if count:
            self._digest.update(memoryview(buffer)[:count])
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def hashed_reader(path: Path, digest: Any, buffer_size: int = 1 << 20) -> io.BufferedReader:
    """``open(path, "rb")`` feeding ``digest`` the bytes it reads, a buffer (1 MiB) at a time (:class:`_HashedFile`):
    once the file is read to its end, ``digest`` is the file's hash."""
    return io.BufferedReader(_HashedFile(path, digest), buffer_size)


def hash_file(path: Path, digest: Any) -> None:
    """Feed ``digest`` every byte of ``path``, for a reader that does not read the whole file (a Parquet file's
    column chunks): a pass of its own, as :func:`hashed_reader` does it."""
    with hashed_reader(path, digest) as handle:
        while handle.read(1 << 20):
            pass


BYTE_ORDER_MARK = "\ufeff"


def stray_mark_error(path: str | Path, line: int, field: str | None = None, column: int = 1) -> InputError:
    """The InputError for a line that starts with a byte-order mark U+FEFF where no file starts: only a file's very
    first bytes may hold one (readers drop it there), so one at a later line's start (left by joining files saved
    with marks, e.g. ``cat a.jsonl b.jsonl``) is refused rather than dropped or kept as part of the ``field``.
    ``column`` > 1: the mark sits inside the line, where a JSON document holds one only inside a string (e.g. text
    pasted from a file saved with a mark); the fix then names that line."""
    mark = "a byte-order mark (U+FEFF)"
    if column == 1:
        where, cause, fix = f"starts with {mark}", "a file joined to another, e.g. with cat", "s/^\\xEF\\xBB\\xBF//"
    else:
        where, cause, fix = f"holds {mark} at character {column}", "text pasted from a file saved with one", \
            f"{line}s/\\xEF\\xBB\\xBF//"
    return InputError(
        path, line, field,
        f"{'' if field else 'the line '}{where}, which only the start of a file may hold ({cause}?); remove it, "
        f"e.g. sed -i '{fix}' {shlex.quote(str(path))}",  # the path as given, so the command runs as printed
    )


GZIP_MAGIC = b"\x1f\x8b"
_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as UTF-8, or None. Only a lone UTF-16 surrogate can cause it: JSON escapes
    one (``"\\ud800"``) and Python decodes it, but UTF-8 has no encoding for it, so Arrow and hashing fail later."""
    found = None if text.isascii() else _SURROGATE.search(text)
    if found is None:
        return None
    return (
        f"holds the lone UTF-16 surrogate {found.group()!r} at character {found.start() + 1}, which UTF-8 cannot "
        "store (a JSON escape such as \"\\ud83d\" without its pair); fix or remove that escape"
    )


def unstorable_id(ids: Iterable[object]) -> str | None:
    """The first of ``ids`` UTF-8 cannot store (one holding a lone surrogate), or None. An ASCII id costs one
    ``isascii`` call: 0.08 s per million ids of a TextColumn, a tenth of building its IdIndex."""
    return next((i for i in ids if isinstance(i, str) and not i.isascii() and _SURROGATE.search(i)), None)


def unstorable_id_problem(value: str) -> str:
    """Why the id ``value`` (see :func:`unstorable_id`) is refused, and the fix. The readers refuse such an id at its
    line (:func:`utf8_problem`), so it came from data built in Python; it failed as a UnicodeEncodeError traceback
    when a run file, mined file or results file was written, after the encoding."""
    where = _surrogate_at(value)
    return (
        f"id {value!r} holds the lone UTF-16 surrogate{where}, which "
        "UTF-8 cannot store, so no file negmine writes (run, mined or results file) can hold it; the file readers "
        "refuse it, so it was built in Python (e.g. from bytes decoded with errors='surrogateescape'): fix the id "
        "there, e.g. decode the bytes with errors='replace'"
    )


def unstorable_text(texts: Iterable[object]) -> int | None:
    """The row of the first of ``texts`` UTF-8 cannot store (one holding a lone surrogate), or None. An ASCII text
    costs one ``isascii`` call, another one ``encode`` (2.5 times faster than searching it for a surrogate): 0.04 s
    per million short ASCII texts, 0.11 s per million short non-ASCII ones."""
    for row, text in enumerate(texts):
        if isinstance(text, str) and not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return row
    return None


def unstorable_text_problem(table: str, item_id: object, text: str) -> str:
    """Why the text of ``item_id`` in ``table`` (corpus or queries; see :func:`unstorable_text`) is refused, and the
    fix. The readers refuse such a text at its line, so it came from data built in Python; it failed as a
    UnicodeEncodeError traceback when hashed for duplicate exclusion (after the corpus was encoded) or as a
    tokenizer's TypeError, after the model loaded."""
    return _unstorable_text_message(f"the {table} table's text of id {item_id!r}", text)


def unstorable_row_problem(row: int, text: str) -> str:
    """:func:`unstorable_text_problem` for a text known only by its position: ``TextColumn.from_texts`` given such a
    text, where pyarrow raised a bare UnicodeEncodeError naming neither the row nor the fix."""
    return _unstorable_text_message(f"the text at index {row}", text)


def _unstorable_text_message(subject: str, text: str) -> str:
    return (
        f"{subject} holds the lone UTF-16 surrogate{_surrogate_at(text)}, which UTF-8 cannot "
        "store, so no model, hash or file can take it; the file readers refuse it, so it was built in Python (e.g. "
        "from bytes decoded with errors='surrogateescape'): fix the text there, e.g. decode the bytes with "
        "errors='replace'"
    )


def _surrogate_at(value: str) -> str:
    """`` '\\ud800' at character N``: the first lone surrogate of ``value`` for a message, or "" if it has none."""
    found = _SURROGATE.search(value)
    return f" {found.group()!r} at character {found.start() + 1}" if found is not None else ""


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf"


def is_blank(text: str) -> bool:
    """True when ``text`` has no visible character: only whitespace and Unicode format characters (category Cf:
    zero-width space U+200B, joiners, word joiner U+2060, byte-order mark U+FEFF...), which ``str.strip`` keeps."""
    return all(_invisible(char) for char in text)  # stops at the first visible character


def invisible_note(text: str) -> str:
    """For a blank ``text`` (see :func:`is_blank`) that still holds format characters, ``" and the invisible
    characters U+200B, ..."`` to append to an "empty text" message; "" otherwise."""
    codes = sorted({f"U+{ord(char):04X}" for char in text if not char.isspace()})
    return f" and the invisible characters {', '.join(codes)}" if codes else ""


def head_repr(text: str, limit: int = 80) -> str:
    """``text`` quoted for an error message, cut to ``limit`` characters with its length (a JSON line can be
    kilobytes long, and an id read from a broken file megabytes: such an id was printed whole, a 5 MB message)."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"
