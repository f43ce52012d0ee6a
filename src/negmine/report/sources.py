"""Which source ``negmine report SOURCE`` was given: a ``negmine train`` output folder, ``negmine eval``'s results
JSON (a file named ``*.json``), or an audit's flags JSONL or a mined (native) JSONL, told from its first row, or,
for an empty file, from the summary given with ``--summary`` or beside it.

A file that is none of them is refused naming what it is not, the sources ``negmine report`` takes and, when the
file sits in a ``negmine train`` output folder (its model card ``README.md``, its weights), that folder to give:
``negmine report README.md`` said only ``README.md:1: invalid JSON: Expecting value (column 1)``, a binary file
``not valid UTF-8`` with an ``iconv`` fix meant for Latin-1 text, and an empty file without a summary beside it
``empty.audit-summary.json: audit summary not found``, as if it were an audit's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from negmine.errors import InputError

SOURCES = ("the *.flags.jsonl file negmine audit wrote, the native JSONL negmine mine -o wrote (with its "
           "<stem>.summary.json beside it), the results JSON negmine eval -o wrote (named *.json), or the output "
           "directory of a negmine train run")
"""The sources ``negmine report`` takes, as its messages list them."""

NATIVE_ONLY_KEYS = ("positive_score", "negative_ids", "negatives", "negative_scores", "negative_ranks")
"""Keys of a native row that no flag record has (both have the query and positive ids and texts)."""

MINE_SUMMARY_KEYS = frozenset({"pairs_in", "pairs_out", "output"})
"""Keys of the summary ``negmine mine`` writes (``<stem>.summary.json``) that tell it from other JSON."""


HEAD_BYTES = 8192
"""Bytes read from the start of a file to tell a binary file from text (as git does)."""

JSON_WHITESPACE = frozenset(b"\t\n\r")
"""The control bytes JSON text may hold (outside strings; inside them every control character is escaped)."""


def source_kind(path: Path, summary: Path | None = None) -> str:
    """``"training"`` (a folder), ``"evaluation"`` (a file named ``*.json``: a JSON document, whose reader names
    what it is when it is no eval results), ``"audit"`` (a flags file) or ``"mined"`` (a native file; an empty file
    by ``summary``, else by the summary beside it). A first line that begins a JSON object or array but does not
    parse goes to the audit reader, whose error names the line and, for a JSON document, what the file is; a binary
    file, a first line that is no JSON at all, and a JSON row that is neither a flag nor a native row are an
    InputError naming the file (and line and field) and the sources ``negmine report`` takes."""
    from negmine.io.files import NotUtf8Error, iter_lines

    path = Path(path)
    if path.is_dir():
        return "training"
    if path.suffix.lower() == ".json":
        if path.is_file():  # a binary one, or text: its reader said only "invalid JSON: Expecting value"
            _refuse_binary(path)
            _refuse_text_that_is_no_json(path)
        return "evaluation"
    _refuse_binary(path)
    try:
        for line_no, text in iter_lines(path):
            return _row_kind(path, line_no, text)
    except NotUtf8Error as err:  # a Latin-1 TSV or log got the iconv fix, after which it is still no JSON Lines
        if err.source != "latin1":
            raise
        return _row_kind(path, err.line, err.raw.decode("latin-1").rstrip("\r\n"))  # a JSON row: its reader says
    return _empty_kind(path, summary)


def _refuse_binary(path: Path) -> None:
    """A Parquet file (an ``--export-as parquet`` export) is refused naming what it is and what to give instead:
    ``negmine report out/negatives.n-tuple.parquet`` said only "not valid UTF-8 (byte 8 of the line)", where
    ``negmine train`` and ``audit`` name the native file the export was written from. A gzip or UTF-16 file gets the
    line readers' message, which says how to decompress or convert it (UTF-16 without a byte-order mark was called
    a binary file: :func:`negmine.io.files.refuse_unreadable_head`). Another file holding a control byte JSON never
    holds (a NUL: weights, an archive, an image) is refused as binary."""
    from negmine.export.native import parquet_hint
    from negmine.io.files import refuse_unreadable_head, require_file

    with require_file(path).open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith(b"PAR1"):
        raise InputError(path, 1, None, "a Parquet file, not JSON Lines: an --export-as parquet export is for other "
                         f"trainers; give the native file it was exported from{parquet_hint(path)}; negmine report "
                         f"takes {SOURCES}")
    refuse_unreadable_head(path, head.removeprefix(b"\xef\xbb\xbf"), binary=False)  # named below as no source
    at = next((i for i, byte in enumerate(head) if byte < 32 and byte not in JSON_WHITESPACE), None)
    if at is not None:
        raise InputError(path, None, None, not_a_source(
            path, f"a binary file (byte {at + 1} is 0x{head[at]:02x}, which no JSON text holds), not JSON Lines"))


JSON_STARTS = frozenset(b'{["-0123456789tfn')
"""The bytes a JSON text can begin with, after white space (RFC 8259: an object, array, string, number or literal)."""

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_AFTER_VALUE = frozenset(" \t\r\n,]}")


def could_begin_json(text: str) -> bool:
    """Whether ``text`` (a file's first characters) can begin a JSON document: after white space, an object, array
    or string, or a whole literal or number followed by its end, white space or a delimiter. A TSV whose header
    starts with ``t``, ``f`` or ``n`` (``title``) or a log line starting with a date (``2026-12-06``) begins with a
    byte of :data:`JSON_STARTS` but cannot begin JSON."""
    text = text.lstrip(" \t\r\n")
    if not text or text[0] in '{["':
        return True
    literal = next((word for word in ("true", "false", "null") if text.startswith(word)), None)
    found = _JSON_NUMBER.match(text)
    end = len(literal) if literal is not None else found.end() if found is not None else 0
    return end > 0 and text[end:end + 1] in _AFTER_VALUE | {""}


def _head_text(head: bytes) -> str:
    """``head`` (a file's first bytes, maybe cut inside a character) as text: UTF-8, else Latin-1, which is what
    ``iconv -f latin1`` would make of it."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 3 and err.reason == "unexpected end of data":
            return head[:err.start].decode("utf-8")
        return head.decode("latin-1")


def _refuse_text_that_is_no_json(path: Path) -> None:
    """A ``*.json`` whose text cannot begin any JSON (:func:`could_begin_json`: a README, TSV or log saved under that
    name, in UTF-8 or Latin-1) is named as none of the sources, where the results reader said only "x.json:1:
    invalid JSON: Expecting value", or of a Latin-1 one gave the iconv fix, after which it is still no JSON; a JSON
    document cut short or malformed further on still gets its reader's line and message (gzip and UTF-16 files were
    refused before, :func:`_refuse_binary`)."""
    with path.open("rb") as handle:
        text = _head_text(handle.read(HEAD_BYTES).removeprefix(b"\xef\xbb\xbf"))
    if could_begin_json(text):
        return
    start = text.lstrip(" \t\r\n")
    line = text[:len(text) - len(start)].count("\n") + 1
    shown = start.split(None, 1)[0][:20]  # its first word: a single 't' of 'title' could begin JSON (true)
    raise InputError(path, line, None, not_a_source(path, f"not JSON (its text begins with {shown!r}, which no "
                                                          "JSON document does)"))


def not_a_source(path: Path, what: str) -> str:
    """``what`` the file is, that it is none of ``negmine report``'s sources, and the fix: the ``negmine train``
    output folder the file sits in (its model card, weights, config), else the sources to give."""
    from negmine.train import SUMMARY_NAME

    if (path.parent / SUMMARY_NAME).is_file():
        return (f"{what}: none of the files negmine report reads; this file is in a negmine train output: give its "
                f"folder, negmine report {path.parent}")
    return f"{what}: none of the files negmine report reads; negmine report takes {SOURCES}; give one of them"


def _row_kind(path: Path, line_no: int, text: str) -> str:
    from negmine.export.native import FLAG_KINDS
    from negmine.io.jsonl import json_type, loads

    try:
        row = loads(text)
    except json.JSONDecodeError as err:
        if text.lstrip()[:1] in ("{", "["):
            return "audit"  # a broken row, or a JSON document, which the flags reader names
        raise InputError(path, line_no, None, not_a_source(
            path, f"not JSON Lines (invalid JSON: {err.msg} (column {err.colno}))")) from None
    if not isinstance(row, dict):
        raise InputError(path, line_no, None, f"expected a JSON object, got {json_type(row)}; negmine report "
                         f"takes {SOURCES}")
    if row.get("kind") in FLAG_KINDS:
        return "audit"
    if "negative_ids" in row or ("query_id" in row and any(key in row for key in NATIVE_ONLY_KEYS)):
        return "mined"  # a mining summary on one line has negative_scores too, and no query_id
    got = "missing" if "kind" not in row else f"got {json.dumps(row['kind'])[:80]}"
    raise InputError(path, line_no, "kind", f"{got}, and the row has no 'negative_ids' either: neither a flag of an "
                     f"audit (kind 'false_negative' or 'noisy_positive') nor a mined row{_hint(row, path)}; "
                     f"negmine report takes {SOURCES}")


def _hint(row: dict, path: Path) -> str:
    """What a row of another negmine file is: an export's row, or a mining summary written on one line."""
    from negmine.export.native import export_hint

    mined = mined_file_of(row)
    if mined is not None:
        return f"; this file is a negmine mine run's summary: give the mined file it describes, {mined}"
    return export_hint(row, path)


def mined_file_of(document: object) -> str | None:
    """The mined file a ``negmine mine`` summary (``document``) describes (its ``output``); None for another
    document. The messages naming a summary given for a report offer that file instead."""
    if isinstance(document, dict) and MINE_SUMMARY_KEYS <= document.keys():
        return str(document["output"])
    return None


def _empty_kind(path: Path, summary: Path | None) -> str:
    """An empty file: a mined file when ``summary`` is a mining summary, or when none is given and the mining
    summary is beside it (and its name is no flags file's), else a flags file (an audit that flagged nothing writes
    an empty one); :func:`empty_source_error` when the flags reader finds no summary either."""
    from negmine.report.mining import default_mine_summary

    if summary is not None:
        return "mined" if mined_file_of(_json_or_none(Path(summary))) is not None else "audit"
    if not path.name.endswith(".flags.jsonl") and default_mine_summary(path).is_file():
        return "mined"
    return "audit"


def _json_or_none(path: Path) -> object:
    """The JSON document at ``path``, or None when it cannot be read (the reader it goes to then says why)."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None


def empty_source_error(path: Path, audit_summary: Path) -> InputError:
    """An empty ``path`` given without a summary and with none beside it: an audit that flagged nothing and a mining
    run that kept no row both write an empty file, and only the summary beside it tells which, and holds what the
    report draws. A flags file's name says which it was."""
    from negmine.report.mining import default_mine_summary

    if path.name.endswith(".flags.jsonl"):
        return InputError(path, None, None, f"empty (an audit that flagged nothing writes an empty flags file), and "
                          f"its audit summary {audit_summary.name} is not beside it: the report is drawn from that "
                          "summary; give it with --summary, or run negmine audit again")
    return InputError(path, None, None, f"an empty file, with no summary beside it to make it a report source: an "
                      f"audit that flagged nothing writes an empty flags file and {audit_summary.name}, a mining run "
                      f"that kept no row an empty file and {default_mine_summary(path).name}; negmine report takes "
                      f"{SOURCES}; give the summary with --summary, or the file you meant")
