"""``negmine report``: render the audit's HTML report from its summary JSON and flags JSONL."""

from __future__ import annotations

import html
import json
import math
from itertools import chain, islice
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from negmine.config import TABLE_ROWS
from negmine.errors import ConfigError, InputError, counted
from negmine.io.atomic import atomic_write
from negmine.io.beir import id_problem
from negmine.io.files import NotUtf8Error, iter_lines
from negmine.io.jsonl import (
    DuplicateKeyError, duplicate_key_error, json_type, loads, not_json_once_converted, read_json_object,
)
from negmine.report import plots
from negmine.report.html import cards, document, figure, key_value_table
from negmine.report.table import render_table

SUMMARY_KEYS = {"counts": dict, "judges": list, "flags_per_judge": dict, "judge_agreement": dict,
                "votes_per_candidate": dict, "samples": dict}
"""The audit summary's keys the report reads, with their JSON types (checked as the summary is read)."""


def read_flags(path: Path) -> Iterator[dict]:
    """Stream flag records; a malformed line (invalid UTF-8 or JSON, not a flag) fails with file, line and field.

    Lines come from :func:`negmine.io.files.iter_lines`, so a UTF-8 byte-order mark is accepted. A line that is not
    UTF-8 and no JSON read as Latin-1 either (a Latin-1 TSV) gets the invalid-JSON message its UTF-8 copy gets, not
    the ``iconv`` fix (:func:`negmine.io.jsonl.not_json_once_converted`).
    """
    try:
        for line_no, line in iter_lines(path):
            yield _flag_record(path, line_no, line)
    except NotUtf8Error as err:
        problem = not_json_once_converted(err)
        if problem is None:
            raise
        raise _invalid_json(path, err.line, problem) from None


def _invalid_json(path: Path, line_no: int, err: json.JSONDecodeError) -> InputError:
    return InputError(path, line_no, None,
                      f"invalid JSON: {err.msg} (column {err.colno}){_document_hint(path, line_no)}")


def _flag_record(path: Path, line_no: int, line: str) -> dict:
    try:
        record = loads(line)
    except DuplicateKeyError as err:
        raise duplicate_key_error(path, line_no, err) from None
    except json.JSONDecodeError as err:
        raise _invalid_json(path, line_no, err) from None
    if not isinstance(record, dict) or record.get("kind") not in ("false_negative", "noisy_positive"):
        hint = ("; this row is a mined pair (a native row): give the *.flags.jsonl file negmine audit wrote"
                if isinstance(record, dict) and "negative_ids" in record else "")
        raise InputError(path, line_no, "kind",
                         f"must be 'false_negative' or 'noisy_positive' (an audit flags file){hint}")
    _check_flag_ids(path, line_no, record)
    return record


FLAG_ID_KEYS = ("query_id", "positive_id", "doc_id")


def _check_flag_ids(path: Path, line_no: int, record: dict) -> None:
    """InputError for an id of a flag record that :func:`negmine.io.beir.id_problem` refuses (whitespace at an end, a
    tab or newline, a byte-order mark, no visible character), in the words of the mined-file reader: negmine audit
    writes the ids of a mined file its reader checked, so one here was edited or made by another tool, and the report
    showed 'd1 ' or 'q\ufeff1' as if it were 'd1' or 'q1'. A record without an id, or with one that is not a string,
    is shown as it is (the table shows what it has)."""
    for key in FLAG_ID_KEYS:
        value = record.get(key)
        problem = id_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise InputError(path, line_no, key, problem)


DOCUMENT_HINT_BYTES = 64 * 1024 * 1024
"""Largest file read whole to tell a JSON document from broken JSON Lines (for the error message only)."""


def _document_hint(path: Path, line_no: int) -> str:
    """For a file that is one (pretty-printed) JSON document rather than JSON Lines, e.g. ``negmine eval -o``'s
    results named other than ``*.json`` (``negmine report`` reads a ``*.json`` file as eval results), the files
    ``negmine report`` takes; empty otherwise. The message said only ``Expecting property name enclosed in double
    quotes (column 2)`` at line 1 of a valid JSON file."""
    if line_no != 1 or path.stat().st_size > DOCUMENT_HINT_BYTES:
        return ""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return ""
    from negmine.train import SUMMARY_NAME

    from negmine.report.sources import SOURCES, mined_file_of

    if path.name == SUMMARY_NAME:
        return f"; this file is a negmine train run's summary: give its folder, negmine report {path.parent}"
    if mined_file_of(document) is not None:
        return (f"; this file is a negmine mine run's summary: give the mined file it describes, negmine report "
                f"{mined_file_of(document)}")
    if isinstance(document, dict) and "comparison" in document:
        named = path if path.suffix.lower() == ".json" else path.with_name(
            path.stem if path.stem.endswith(".json") else f"{path.stem}.json")
        return (f"; this file is negmine eval's results JSON, which negmine report reads from a file named *.json: "
                f"{'' if named == path else 'rename it, then '}negmine report {named} (from Python: "
                "negmine.report.evaluation.eval_report)")
    return f"; this file is one JSON document, not JSON Lines; negmine report takes {SOURCES}"


def read_summary(path: Path) -> dict:
    """The audit summary at ``path``, with the keys and value types the report reads checked: a hand-edited or
    foreign summary (``"counts": "lots"``, ``"samples": []``) failed in the middle of rendering with a traceback."""
    missing = ("audit summary not found: negmine audit writes it next to the flags file as "
               "<stem>.audit-summary.json; give it with --summary, or run negmine audit again")
    summary = read_json_object(path, SUMMARY_KEYS, missing, "this is not an audit summary (write it with negmine audit)")
    _check_summary_values(Path(path), summary)
    return summary


def _check_summary_values(path: Path, summary: Mapping) -> None:
    """InputError at the first value of the summary's counts, judges and samples the report cannot draw."""
    wanted: list[tuple[str, object, str]] = [(f"judges[{i}]", name, "string") for i, name in enumerate(summary["judges"])]
    for key in ("counts", "flags_per_judge", "judge_agreement", "votes_per_candidate"):
        wanted += [(f"{key}.{name}", value, "count") for name, value in summary[key].items()]
    wanted += [(f"votes_per_candidate.{name}", name, "digits") for name in summary["votes_per_candidate"]]
    for name, sample in summary["samples"].items():
        if not isinstance(sample, dict):
            raise InputError(path, None, f"samples.{name}", f"must be a JSON object with 'values', got "
                             f"{json_type(sample)}; this is not an audit summary (write it with negmine audit)")
        wanted += [(f"samples.{name}.seen", sample.get("seen", 0), "count"),
                   (f"samples.{name}.values", sample.get("values", []), "numbers")]
    if "judges_recheck_mining" in summary:
        wanted.append(("judges_recheck_mining", summary["judges_recheck_mining"], "boolean"))
    for field, value, kind in wanted:
        if not _SUMMARY_CHECKS[kind][0](value):
            raise InputError(path, None, field, f"must be {_SUMMARY_CHECKS[kind][1]}, got {json.dumps(value)[:80]}; "
                             "this is not an audit summary (write it with negmine audit)")


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def _is_numbers(value: object) -> bool:
    return isinstance(value, list) and all(type(v) in (int, float) and math.isfinite(v) for v in value)


_SUMMARY_CHECKS = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "count": (_is_count, "an integer >= 0"),
    "digits": (lambda v: v.isdigit() and v.isascii(), "a vote count (digits)"),
    "numbers": (_is_numbers, "a list of finite numbers"),
}


def _sample(summary: Mapping, name: str) -> list[float]:
    return list(summary["samples"].get(name, {}).get("values", []))


def _seen(summary: Mapping, *names: str) -> tuple[int | None, ...]:
    """How many values each sample was drawn from (the audit keeps a bounded reservoir of each)."""
    return tuple(summary["samples"].get(name, {}).get("seen") for name in names)


POLICY_EXCEPTIONS = {
    "false_negatives_of_noisy_positives": "of the false negatives: on noisy positives' rows (no policy)",
    "earlier_false_negatives": "marked by an earlier audit (policy applied again)",
    "labelled_positives_removed": "labelled positives removed from negatives",
    "sibling_false_negatives": "more negatives given the policy: flagged in another row of their query",
}
"""Summary counts of flags the policies treat apart, shown as cards when not 0 (see negmine.audit.stats). Without
the sibling card the report's ``drop`` rows did not add up to the negatives the cleaned file lost (the demo audited
by a tiny cross-encoder: 101 drop flags, 110 negatives removed, 9 of them a sibling row's flags)."""


def render_report(summary: Mapping, flags: Iterable[Mapping], out: Path, max_rows: int = TABLE_ROWS, title: str = "negmine audit") -> Path:
    """Write the self-contained report to ``out`` (atomically) and return the path (a Path, also for a str ``out``)."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ConfigError(f"max_table_rows (--max-table-rows) must be a positive integer, got {max_rows!r}; use e.g. "
                          f"{TABLE_ROWS} (the flagged pairs the table shows)")
    counts = summary["counts"]
    shown = list(islice(flags, max_rows))
    total = counts.get("false_negatives", 0) + counts.get("noisy_positives", 0)
    sections = [
        ("Overview", cards({
            "pairs audited": counts.get("pairs", 0), "candidates judged": counts.get("candidates_judged", 0),
            "false negatives": counts.get("false_negatives", 0), "noisy positives": counts.get("noisy_positives", 0),
            **{label: counts[key] for key, label in POLICY_EXCEPTIONS.items() if counts.get(key)},
            "rows written": counts.get("rows_written", 0),
        }) + _recheck_note(summary) + key_value_table({
            "input": summary.get("input"), "judges": ", ".join(summary["judges"]),
            "policies": summary.get("policies"), "flags per judge": summary["flags_per_judge"]})),
        ("Scores", _figures(summary)),
        ("Flagged pairs", render_table(shown, max(total, len(shown)))),
    ]
    subtitle = f"{counted(counts.get('pairs', 0), 'pair')} from {summary.get('input', '?')}"
    with atomic_write(out) as handle:
        handle.write(document(title, subtitle, sections))
    return Path(out)


def _recheck_note(summary: Mapping) -> str:
    """The note ``negmine audit`` printed when judges that only re-check mining flagged nothing in a mined file
    (:mod:`negmine.audit.notes`), as a paragraph; "" otherwise. The page said only "No flags: no false negative
    and no noisy positive was found", so the data read as clean where no judge had looked past mining's margins."""
    from negmine.audit.notes import nothing_flagged_note

    note = nothing_flagged_note(summary["judges"], summary["counts"], summary.get("judges_recheck_mining") is True)
    if note is None:
        return ""
    text = note.removeprefix("note: ")
    return f'<p class="note"><strong>{html.escape(text[:1].upper() + text[1:])}</strong></p>'


def _figures(summary: Mapping) -> str:
    imgs = [
        figure(plots.score_histograms(_sample(summary, "positive_scores"), _sample(summary, "negative_scores"),
                                      _sample(summary, "flagged_scores"),
                                      _seen(summary, "positive_scores", "negative_scores", "flagged_scores")),
               "score histograms"),
        figure(plots.margin_distribution(_sample(summary, "kept_margins"), _sample(summary, "flagged_margins"),
                                         _seen(summary, "kept_margins", "flagged_margins")), "margin distribution"),
        figure(plots.judge_agreement(summary["judges"], summary["flags_per_judge"], summary["judge_agreement"],
                                     summary["votes_per_candidate"]), "judge agreement"),
        figure(plots.confidence_histogram(_sample(summary, "confidence")), "confidence"),
    ]
    return '<div class="plots">' + "".join(imgs) + "</div>"


def check_report_output(out: Path, inputs: list[Path]) -> None:
    """ConfigError, before anything is read, when the report cannot be written at ``out`` or would replace one
    of the files it is made from: ``negmine report FLAGS -o FLAGS`` replaced the flags file with the HTML page
    (exit 0), and a directory as ``-o`` failed naming a temporary file."""
    from negmine.io.outputs import check_output_file, check_outputs_distinct

    check_outputs_distinct({"--output": out}, inputs)
    check_output_file(out, "--output", "report.html")


def report_from_files(flags: Path, summary: Path | None = None, out: Path | None = None,
                      max_rows: int = TABLE_ROWS) -> Path:
    """Render the audit report of ``flags``; ``summary`` defaults to ``<stem>.audit-summary.json`` and ``out`` to
    ``<stem>.report.html`` next to it, as ``negmine report FLAGS`` (``mined.flags.jsonl``: stem ``mined``)."""
    from negmine.audit.run import default_summary_path, flags_stem

    from negmine.report.sources import empty_source_error

    flags = Path(flags)
    given, summary = summary, summary or default_summary_path(flags)
    out = out or flags.with_name(f"{flags_stem(flags)}.report.html")
    if not flags.is_file():
        raise InputError(flags, None, None, "flags file not found (write it with negmine audit)")
    check_report_output(out, [flags, summary])
    records = read_flags(flags)
    first = next(records, None)  # a file that is not a flags file fails here, before its "summary" is looked for
    if first is None and given is None and not summary.is_file():
        raise empty_source_error(flags, summary)  # an empty file with no summary is no source: say what it could be
    rows = records if first is None else chain([first], records)
    return render_report(read_summary(summary), rows, out, max_rows)
