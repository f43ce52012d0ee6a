"""Which source ``negmine report SOURCE`` was given: a ``negmine train`` output folder, ``negmine eval``'s results
JSON (a file named ``*.json``), or an audit's flags JSONL or a mined (native) JSONL, told from its first row, or,
for an empty file, from the summary beside it."""

from __future__ import annotations

import json
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


def source_kind(path: Path) -> str:
    """``"training"`` (a folder), ``"evaluation"`` (a file named ``*.json``: a JSON document, whose reader names
    what it is when it is no eval results), ``"audit"`` (a flags file) or ``"mined"`` (a native file). A first line
    that is not JSON goes to the audit reader, whose error names the line and, for a JSON document, what the file
    is; a JSON row that is neither a flag nor a native row is an InputError naming the file, line and field."""
    from negmine.io.files import iter_lines

    path = Path(path)
    if path.is_dir():
        return "training"
    if path.suffix.lower() == ".json":
        return "evaluation"
    _refuse_parquet(path)
    for line_no, text in iter_lines(path):
        return _row_kind(path, line_no, text)
    return _empty_kind(path)


def _refuse_parquet(path: Path) -> None:
    """A Parquet file (an ``--export-as parquet`` export) is refused naming what it is and what to give instead:
    ``negmine report out/negatives.n-tuple.parquet`` said only "not valid UTF-8 (byte 8 of the line)", where
    ``negmine train`` and ``audit`` name the native file the export was written from."""
    from negmine.export.native import parquet_hint
    from negmine.io.files import require_file

    with require_file(path).open("rb") as handle:
        if handle.read(4) != b"PAR1":
            return
    raise InputError(path, 1, None, "a Parquet file, not JSON Lines: an --export-as parquet export is for other "
                     f"trainers; give the native file it was exported from{parquet_hint(path)}; negmine report takes "
                     f"{SOURCES}")


def _row_kind(path: Path, line_no: int, text: str) -> str:
    from negmine.export.native import FLAG_KINDS
    from negmine.io.jsonl import loads

    try:
        row = loads(text)
    except json.JSONDecodeError:
        return "audit"
    if not isinstance(row, dict):
        raise InputError(path, line_no, None, f"expected a JSON object, got {type(row).__name__}; negmine report "
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


def _empty_kind(path: Path) -> str:
    """An empty file: a mined file when the mining summary is beside it (and its name is no flags file's), else
    a flags file (an audit that flagged nothing writes an empty one)."""
    from negmine.report.mining import default_mine_summary

    if not path.name.endswith(".flags.jsonl") and default_mine_summary(path).is_file():
        return "mined"
    return "audit"
