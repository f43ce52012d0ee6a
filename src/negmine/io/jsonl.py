"""JSON Lines reading (validated, streaming) and atomic, deterministic writing.

Format: one JSON object per line, UTF-8 (https://jsonlines.org). The reader streams line by line so a
file never has to fit in memory; the writer emits compact ``json.dumps(row, ensure_ascii=False,
separators=(",", ":"))`` lines, so the same rows always give byte-identical files.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from negmine.errors import InputError
from negmine.io.atomic import atomic_write
from negmine.io.files import (
    BYTE_ORDER_MARK, NotUtf8Error, iter_lines, refuse_unreadable_head, save_as_utf8_hint, stray_mark_error,
)
from negmine.io.utf16 import HEAD_BYTES

_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (``object``, ``array``, ``string``, ``number``, ...)."""
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def loads(text: str | bytes) -> Any:
    """``json.loads`` whose every failure is a ``json.JSONDecodeError`` with a position, and which refuses an object
    holding one key twice (:class:`DuplicateKeyError`).

    Python refuses an integer literal longer than ``sys.get_int_max_str_digits()`` (4300 digits by default) with a
    plain ValueError, which the readers' ``except json.JSONDecodeError`` let through as a traceback; here it is a
    JSONDecodeError at the number, as invalid JSON is. ``json.loads`` keeps the last value of a repeated key
    without a word (``{"_id": "a", "_id": "b"}`` is document ``b``, and the text a user meant may be the other), so
    the objects are built by a hook that counts their keys. The decoder is built once: ``json.loads(text,
    object_pairs_hook=...)`` builds a new one per call, which doubled the time of a corpus line; reused, the hook
    costs nothing measurable (100,000 lines of the demo corpus or of a mined file: within the timing noise).
    """
    if isinstance(text, (bytes, bytearray)):
        text = text.decode(json.detect_encoding(text), "surrogatepass")  # as json.loads does
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)  # as json.loads does
    try:
        return _DECODER.decode(text)
    except _RepeatedKey as err:
        raise DuplicateKeyError(err.key, text, _repeat_position(text, err.key)) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer literal beyond the digit limit: find it for the message
        raise _long_integer_error(text) from None


class DuplicateKeyError(json.JSONDecodeError):
    """A JSON object that holds ``key`` twice (``pos``: where it is repeated, as far as it can be found)."""

    def __init__(self, key: str, doc: str, pos: int) -> None:
        super().__init__(f"key {key!r} appears twice in one object", doc, pos)
        self.key = key

    def __reduce__(self):
        return type(self), (self.key, self.doc, self.pos)


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """The object of ``pairs`` (as ``json.loads`` builds it); _RepeatedKey naming the first key given twice."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise _RepeatedKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _repeat_position(text: str, key: str) -> int:
    """Where ``key`` is given the second time in ``text`` (the first time when the source spells the two
    differently, e.g. one with a ``\\u`` escape; 0 when not found): for the column of the message only."""
    spellings = {json.dumps(key, ensure_ascii=False), json.dumps(key)}
    pattern = re.compile("|".join(re.escape(spelled) for spelled in spellings) + r"\s*:")
    found = [match.start() for _, match in zip(range(2), pattern.finditer(text))]
    return found[-1] if found else 0


def duplicate_key_error(path: str | Path, line: int | None, err: DuplicateKeyError) -> InputError:
    """The InputError for a repeated key: the file, the line and the key as the field."""
    return InputError(path, line, err.key, f"given twice in one JSON object (again at column {err.colno}); JSON "
                      "readers keep only the last value, so the other would be dropped without a word: keep one of "
                      "them")


class _LongInteger(ValueError):
    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits


def _refuse_long(digits: str) -> int:
    limit = sys.get_int_max_str_digits()
    if limit and len(digits.lstrip("-")) > limit:
        raise _LongInteger(digits)
    return int(digits)


def _long_integer_error(text: str) -> json.JSONDecodeError:
    try:
        json.loads(text, parse_int=_refuse_long)
    except _LongInteger as err:
        size, limit = len(err.digits.lstrip("-")), sys.get_int_max_str_digits()
        return json.JSONDecodeError(
            f"an integer of {size} digits, longer than the {limit} Python reads (no id, score or count is that long)",
            text, max(text.find(err.digits), 0))
    except ValueError as err:  # not expected: still a JSONDecodeError, not a traceback
        return json.JSONDecodeError(str(err), text, 0)
    return json.JSONDecodeError("unreadable JSON", text, 0)


def iter_jsonl(path: str | Path, digest: Any = None) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, row)`` for each non-blank line (1-based numbers, blank lines skipped).

    Raises InputError naming the file and line for a missing file, invalid UTF-8, invalid JSON, a key given twice
    in one object (naming the key), or a line that holds valid JSON but not an object. A line that is not UTF-8 and,
    read as Latin-1, no JSON either (a Latin-1 TSV or log given for a JSON Lines file) gets the invalid-JSON
    message its UTF-8 copy gets (:func:`not_json_once_converted`), not the ``iconv`` fix, after which it is still no
    JSON. ``digest``: fed the file's bytes as they are read (:func:`negmine.io.files.iter_lines`).
    """
    try:
        for line_no, text in iter_lines(path, digest=digest):
            yield line_no, _jsonl_row(path, line_no, text)
    except NotUtf8Error as err:
        problem = not_json_once_converted(err)
        if problem is None:
            raise
        raise InputError(path, err.line, None, invalid_line_problem(problem, err.line)) from None


def _jsonl_row(path: str | Path, line_no: int, text: str) -> dict:
    try:
        row = loads(text)
    except DuplicateKeyError as err:
        raise duplicate_key_error(path, line_no, err) from None
    except json.JSONDecodeError as err:
        raise InputError(path, line_no, None, invalid_line_problem(err, line_no)) from None
    if not isinstance(row, dict):
        raise InputError(path, line_no, None, not_an_object_problem(row, line_no))
    return row


def not_json_once_converted(err: NotUtf8Error) -> json.JSONDecodeError | None:
    """Why the line ``err`` names (not UTF-8, its ``iconv`` fix from Latin-1) is no JSON once converted: its bytes
    read as Latin-1, the text ``iconv -f latin1`` makes of them. None when it is JSON then (a JSON line saved as
    Latin-1: the fix helps), or when the fix converts from UTF-16."""
    if err.source != "latin1":
        return None
    return latin1_json_error(err.raw)


def latin1_json_error(data: bytes) -> json.JSONDecodeError | None:
    """json's error for ``data`` (bytes that are not UTF-8) read as Latin-1, or None when that text is JSON (a key
    given twice counts as JSON: its own message comes once the file is UTF-8). Latin-1 reads any byte, and JSON
    strings take any character it gives, so a JSON text saved as Latin-1 (or Windows-1252) always parses."""
    try:
        loads(data.decode("latin-1"))
    except DuplicateKeyError:
        return None
    except json.JSONDecodeError as err:
        return err
    return None


def typed_value(value: Any) -> str:
    """``value``'s JSON type and the value as JSON, cut to 60 characters, for a message (``number 7.5``,
    ``array [1, 2]``); ``null`` alone."""
    if value is None:
        return "null"
    shown = json.dumps(value, ensure_ascii=False)
    return f"{json_type(value)} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def not_an_object_problem(value: Any, line_no: int) -> str:
    """The problem of a JSON Lines line that parses to ``value``, no object: the value (cut to 60 characters) and
    the fix, as for a line that does not parse (:func:`invalid_line_problem`). It read "expected a JSON object per
    line, got array" alone."""
    return (f"expected a JSON object per line, got {typed_value(value)}; each line must be one JSON object "
            f'({{"key": value, ...}}): fix line {line_no} or delete it')


def where_json_stopped(err: json.JSONDecodeError) -> str:
    """json's reason for a line that does not parse, its column and the line's text up to where json stopped (the
    bad value is there or just before it). The column counts in the line without its line end: a line cut short
    read "(column 1)" where the reader kept the newline, json having stopped after it."""
    text = err.doc.rstrip("\r\n")
    pos = min(err.pos, len(text))
    start = max(pos - 40, 0)
    before = ("..." if start else "") + text[start:pos]
    after = repr(text[pos:pos + 10]) + ("..." if pos + 10 < len(text) else "") if pos < len(text) else "(the line ends)"
    return f"{err.msg} (column {pos + 1}, where json stopped: {before!r} <here> {after})"


def invalid_line_problem(err: json.JSONDecodeError, line_no: int) -> str:
    """The problem of a JSON Lines line that does not parse (:func:`where_json_stopped`) and the fix. Only json's
    reason and column were given: a user had to open the file at that column to see what was wrong."""
    return (f"invalid JSON: {where_json_stopped(err)}; each line must be one complete JSON object "
            f'({{"key": value, ...}}): fix line {line_no} or delete it')


LINE_BREAKS_ESCAPED = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
"""The line boundaries ``json.dumps(..., ensure_ascii=False)`` leaves raw (it escapes every control character below
U+0020): Python's ``str.splitlines()`` splits at them, so a reader doing ``read_text().splitlines()`` cut a record
with one in its text in two (invalid JSON). Escaped, the record is the same JSON on one line for every splitter."""


def json_line(data: Any, allow_nan: bool = True) -> str:
    """``data`` as one compact JSON line (no newline): UTF-8 text kept as is, keys in insertion order, and the
    three line boundaries of :data:`LINE_BREAKS_ESCAPED` escaped. Every JSONL file negmine writes uses it."""
    line = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=allow_nan)
    return line if line.isascii() else line.translate(LINE_BREAKS_ESCAPED)


def dumps_row(row: Mapping[str, Any]) -> str:
    """Compact, deterministic serialisation of one row (keys in insertion order, no NaN/Infinity)."""
    return json_line(row if isinstance(row, dict) else dict(row), allow_nan=False)


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write ``rows`` one JSON object per line, atomically; return the number of rows written.

    Rows are serialised with :func:`dumps_row`. NaN/Infinity are refused (ValueError) because they are not
    JSON and many readers reject them, as is a string UTF-8 cannot store (a lone surrogate: UnicodeEncodeError before);
    unserialisable values raise TypeError naming the row; on any error the previous file at ``path`` is left untouched.
    """
    count = 0
    with atomic_write(path) as handle:
        for count, row in enumerate(rows, start=1):
            if not isinstance(row, Mapping):
                raise TypeError(f"write_jsonl: row {count} is a {type(row).__name__}, expected a mapping")
            try:
                line = dumps_row(row)
                handle.write(line)
            except UnicodeEncodeError as err:  # a lone surrogate: json.dumps keeps it with ensure_ascii=False
                raise ValueError(f"write_jsonl: row {count} cannot be written as UTF-8: it holds the lone UTF-16 "
                                 f"surrogate {err.object[err.start]!r} ({_surrounding(err)}); fix that string, e.g. "
                                 "decode its bytes with errors='replace'") from None
            except (TypeError, ValueError) as err:
                raise type(err)(f"write_jsonl: row {count} cannot be written as JSON: {err}") from None
            handle.write("\n")
    return count


def _surrounding(err: UnicodeEncodeError, width: int = 20) -> str:
    """The JSON text around the character ``err`` could not encode, to find the value in the row."""
    return f"in ...{err.object[max(err.start - width, 0):err.start + width]!r}..."


SECOND_DOCUMENT = "invalid JSON: a second JSON value"
"""How :func:`read_json_file`'s message of a file holding more than one JSON document begins."""


def read_json_file(path: str | Path) -> Any:
    """The JSON document in ``path`` (a summary or settings file another command wrote, maybe edited by hand).

    A UTF-8 byte-order mark is dropped, as the JSON Lines readers drop it (``json.loads`` refused it with
    "Unexpected UTF-8 BOM"); invalid UTF-8 (a file saved as Latin-1 or UTF-16) and invalid JSON are InputErrors
    naming the line, where ``read_text`` raised a UnicodeDecodeError traceback. UTF-16 text, with a byte-order mark or
    without, gets the ``iconv`` fix from UTF-16 (:func:`~negmine.io.files.refuse_unreadable_head`); other text that
    is not UTF-8 gets the one from Latin-1 only when it is JSON read as Latin-1, else the message its UTF-8 copy gets
    (a TSV or log: "invalid JSON: Expecting value"), since converting it makes no JSON. A mark anywhere else outside a
    string (a second one at the start, or one left by joining or pasting) gets the line readers' message
    (:func:`~negmine.io.files.stray_mark_error`, line and character), where json said "Extra data" or "Expecting
    property name" of a character no editor shows; one inside a string is data and kept.
    """
    path = Path(path)
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    refuse_unreadable_head(path, data[:HEAD_BYTES])  # gzip (it got the iconv fix of a Latin-1 file), UTF-16
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        text = _latin1_text_that_is_no_json(path, data, err)
    return _document(path, text)


def _latin1_text_that_is_no_json(path: Path, data: bytes, err: UnicodeDecodeError) -> str:
    """``data`` (not UTF-8) read as Latin-1, when that text is no JSON either (a TSV or log under a summary's name:
    its reader's message for that text follows, as for a UTF-8 one); else the InputError naming the line of the
    first byte that is not UTF-8, with the ``iconv`` fix that makes a JSON text saved as Latin-1 read."""
    if latin1_json_error(data) is not None:
        return data.decode("latin-1")
    line_start = data.rfind(b"\n", 0, err.start) + 1
    line = data.count(b"\n", 0, err.start) + 1
    raise InputError(path, line, None, f"not valid UTF-8 (byte {err.start - line_start + 1} of the line)"
                     + save_as_utf8_hint(path, data[:HEAD_BYTES])) from None


def _document(path: Path, text: str) -> Any:
    """The JSON document ``text`` of ``path``; InputError naming the line where it is no JSON document."""
    try:
        return loads(text)
    except DuplicateKeyError as err:
        raise duplicate_key_error(path, err.lineno, err) from None
    except json.JSONDecodeError as err:
        if err.doc[err.pos:err.pos + 1] == BYTE_ORDER_MARK:  # outside a string: json stopped at it
            raise stray_mark_error(path, err.lineno, column=err.colno) from None
        if err.msg == "Extra data":  # json's words for a second document after the first, e.g. a JSON Lines file
            raise InputError(path, err.lineno, None, f"{SECOND_DOCUMENT} starts at column {err.colno} "
                             "after a complete one; this file must hold one JSON document (a JSON Lines file, one "
                             "object per line, is not one)") from None
        raise InputError(path, err.lineno, None, f"invalid JSON: {err.msg}") from None


def read_json_object(path: str | Path, required: Iterable[str] | Mapping[str, type], not_found: str,
                     foreign: str | Callable[[object], str]) -> dict:
    """A JSON object file (a summary another command wrote) with every ``required`` key; when ``required`` maps
    the keys to types (``dict``, ``list``), each value must be of its type.

    InputError naming the file: ``not_found`` when it does not exist, the line of invalid UTF-8 or invalid JSON
    (:func:`read_json_file`), or the first missing key with ``foreign`` (what the file is not, and how to get the
    right one; a function of the loaded document when telling that needs its contents), or the first value of
    another type (a hand-edited summary: the reader failed on it later with a traceback).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, None, not_found)
    try:
        loaded = read_json_file(path)
    except InputError as err:  # several documents (a JSON Lines file given for a summary): say what it should be
        if isinstance(foreign, str) and err.problem.startswith(SECOND_DOCUMENT):
            raise InputError(err.path, err.line, err.field, f"{err.problem}; {foreign}") from None
        raise

    def hint() -> str:
        return foreign(loaded) if callable(foreign) else foreign

    if not isinstance(loaded, dict):  # it said "field 'comparison': missing" of a JSON array
        raise InputError(path, None, None, f"a JSON {json_type(loaded)}, not an object; {hint()}")
    for key in required:
        if key not in loaded:
            raise InputError(path, None, key, f"missing; {hint()}")
    wanted = required if isinstance(required, Mapping) else {}
    for key, kind in wanted.items():
        if not isinstance(loaded[key], kind):
            raise InputError(path, None, key, f"must be a JSON {json_type(kind())}, got {json_type(loaded[key])}; "
                             f"{hint()}")
    return loaded
