"""The native JSONL row: one (query, positive) pair with its mined negatives, and its reader.

Required keys (in this order, so output bytes are stable)::

    query_id, query, positive_id, positive, positive_score,
    negative_ids, negatives, negative_scores, negative_ranks

``negative_*`` lists are parallel (same length, same order). Scores are rounded to 6 decimals. ``negmine
mine`` adds ``candidate_score_sd``: the standard deviation of the pair's candidate scores (the unit of the sd
margin, so ``negmine audit`` can re-check it from the file), and, when the margins were measured from another
score than the row's positive's (``--margin-from lowest-positive``), that score as ``margin_score``. The audit stage may add ``negative_flags`` (one entry per negative), ``false_negative_ids``, ``extra_positive_ids``
and ``confidence``. ``--false-negative-policy promote`` also writes ``extra_positives`` and ``extra_positive_scores``,
parallel to ``extra_positive_ids``: the promoted documents' texts and mining scores, which the exports and ``negmine
train`` use as further positives of the row's query (ids an older audit promoted have no texts: they are only masked).
A relevance judge's scores (``negmine mine --denoise`` or ``negmine audit`` with a cross-encoder or a single
teacher: :mod:`negmine.audit.judge_scores`) come as ``judge_positive_score`` and ``judge_negative_scores``
(parallel to ``negative_ids``), both or neither, for ``--export-scores --export-scores-from judge``; a row with
promoted documents also has ``judge_extra_positive_scores``, the judge's scores of them (parallel to
``extra_positive_ids``; written by an audit with such a judge, which scored each when it judged it).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypedDict

from negmine.errors import InputError, NegmineWarning, caller_stacklevel, counted
from negmine.io.beir import id_problem
from negmine.io.files import (
    BYTE_ORDER_MARK, file_head, hashed_reader, invisible_note, is_blank, refuse_unreadable_head, save_as_utf8_hint,
    stray_mark_error, utf8_fix_source, utf8_problem,
)
from negmine.io.jsonl import (
    DuplicateKeyError, duplicate_key_error, json_line, latin1_json_error, loads, typed_value,
    where_json_stopped,
)


SCORE_DECIMALS = 6
FALSE_NEGATIVE_FLAG = "false_negative"
"""The ``negative_flags`` entry of a negative the audit marked (``--false-negative-policy mark``); other
entries are None."""


class _NativeRequired(TypedDict):
    query_id: str
    query: str
    positive_id: str
    positive: str
    positive_score: float
    negative_ids: list[str]
    negatives: list[str]
    negative_scores: list[float]
    negative_ranks: list[int]


class NativeRow(_NativeRequired, total=False):
    """A native row; the keys below the required ones are optional (written by mining and the audit stage)."""

    candidate_score_sd: float
    margin_score: float
    negative_flags: list[Any]
    false_negative_ids: list[str]
    extra_positive_ids: list[str]
    extra_positives: list[str]
    extra_positive_scores: list[float]
    confidence: float
    judge_positive_score: float
    judge_negative_scores: list[float]
    judge_extra_positive_scores: list[float]


REQUIRED_KEYS: tuple[str, ...] = tuple(_NativeRequired.__annotations__)
OPTIONAL_KEYS: tuple[str, ...] = (
    "candidate_score_sd", "margin_score", "negative_flags", "false_negative_ids",
    "extra_positive_ids", "extra_positives", "extra_positive_scores", "confidence",
    "judge_positive_score", "judge_negative_scores", "judge_extra_positive_scores",
)
JUDGE_KEYS: tuple[str, ...] = ("judge_positive_score", "judge_negative_scores")
"""The relevance judge's scores of the row's positive and of each negative (parallel to ``negative_ids``): both
or neither."""
JUDGE_PROMOTED_KEY = "judge_extra_positive_scores"
"""The relevance judge's scores of the promoted documents, parallel to ``extra_positive_ids``: only with
:data:`JUDGE_KEYS` and the promoted documents' texts (``extra_positives``)."""
PROMOTED_KEYS: tuple[str, ...] = ("extra_positive_ids", "extra_positives", "extra_positive_scores")
"""Parallel lists of the documents ``--false-negative-policy promote`` made positives (the last two optional)."""
PARALLEL_KEYS: tuple[str, ...] = ("negative_ids", "negatives", "negative_scores", "negative_ranks")


def round_score(value: float) -> float:
    """``round(float(value), 6)``; rejects NaN/inf, which JSON cannot carry portably."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"score must be finite, got {value}")
    return round(value, SCORE_DECIMALS)


def make_row(
    *,
    query_id: str,
    query: str,
    positive_id: str,
    positive: str,
    positive_score: float,
    negative_ids: Sequence[str],
    negatives: Sequence[str],
    negative_scores: Sequence[float],
    negative_ranks: Sequence[int],
    candidate_score_sd: float | None = None,
    margin_score: float | None = None,
    negative_flags: Sequence[Any] | None = None,
    false_negative_ids: Sequence[str] | None = None,
    extra_positive_ids: Sequence[str] | None = None,
    extra_positives: Sequence[str] | None = None,
    extra_positive_scores: Sequence[float] | None = None,
    confidence: float | None = None,
    judge_positive_score: float | None = None,
    judge_negative_scores: Sequence[float] | None = None,
    judge_extra_positive_scores: Sequence[float] | None = None,
) -> NativeRow:
    """Build a native row with a fixed key order; optional keys appear only when given."""
    lengths = {len(negative_ids), len(negatives), len(negative_scores), len(negative_ranks)}
    if negative_flags is not None:
        lengths.add(len(negative_flags))
    if len(lengths) != 1:
        raise ValueError(f"negative lists of query {query_id!r} differ in length: {sorted(lengths)}")
    promoted = _check_promoted_lists(query_id, (extra_positive_ids, extra_positives, extra_positive_scores))
    _check_judge_lists(query_id, len(negative_ids), judge_positive_score, judge_negative_scores)
    _check_judge_promoted(query_id, promoted, judge_positive_score, judge_extra_positive_scores)
    row: dict[str, Any] = {
        "query_id": str(query_id),
        "query": query,
        "positive_id": str(positive_id),
        "positive": positive,
        "positive_score": round_score(positive_score),
        "negative_ids": [str(i) for i in negative_ids],
        "negatives": list(negatives),
        "negative_scores": [round_score(s) for s in negative_scores],
        "negative_ranks": [int(r) for r in negative_ranks],
    }
    optional = {
        "candidate_score_sd": None if candidate_score_sd is None else round_score(candidate_score_sd),
        "margin_score": None if margin_score is None else round_score(margin_score),
        "negative_flags": None if negative_flags is None else list(negative_flags),
        "false_negative_ids": None if false_negative_ids is None else [str(i) for i in false_negative_ids],
        "extra_positive_ids": None if extra_positive_ids is None else [str(i) for i in extra_positive_ids],
        "extra_positives": None if extra_positives is None else list(extra_positives),
        "extra_positive_scores": None if extra_positive_scores is None else list(map(round_score, extra_positive_scores)),
        "confidence": None if confidence is None else round_score(confidence),
        "judge_positive_score": None if judge_positive_score is None else round_score(judge_positive_score),
        "judge_negative_scores": None if judge_negative_scores is None else list(map(round_score, judge_negative_scores)),
        JUDGE_PROMOTED_KEY: None if judge_extra_positive_scores is None else list(map(round_score, judge_extra_positive_scores)),
    }
    row.update({key: value for key, value in optional.items() if value is not None})
    return row  # type: ignore[return-value]


def _check_promoted_lists(query_id: str, promoted: tuple[Sequence | None, ...]) -> int | None:
    """ValueError unless the promoted documents' texts and scores come with their ids, parallel (a row writer's
    bug); how many have texts (None: no texts)."""
    sizes = [None if x is None else len(x) for x in promoted]
    if sizes[1:] != [None, None] and len(set(sizes)) != 1:
        raise ValueError(f"promoted lists of query {query_id!r} differ in length: {sizes} ({', '.join(PROMOTED_KEYS)})")
    return sizes[1]


def _check_judge_lists(query_id: str, negatives: int, positive: float | None, scores: Sequence[float] | None) -> None:
    """ValueError unless the judge scores come together, one per negative (a row writer's bug, not user input)."""
    if (positive is None) != (scores is None) or (scores is not None and len(scores) != negatives):
        raise ValueError(f"judge scores of query {query_id!r}: {', '.join(JUDGE_KEYS)} come together, the second "
                         "parallel to negative_ids")


def _check_judge_promoted(query_id: str, promoted: int | None, positive: float | None,
                          scores: Sequence[float] | None) -> None:
    """ValueError unless the promoted documents' judge scores come with the row's judge scores and the promoted
    texts, one per promoted document (a row writer's bug)."""
    if scores is not None and (positive is None or promoted != len(scores)):
        raise ValueError(f"judge scores of query {query_id!r}: {JUDGE_PROMOTED_KEY} comes with {JUDGE_KEYS[0]} and "
                         "extra_positives, parallel to extra_positive_ids")


def dumps_row(row: NativeRow | dict) -> str:
    """One JSONL line (with newline): :func:`negmine.io.jsonl.json_line`."""
    return json_line(row) + "\n"


def _is_number(v: Any) -> bool:
    """A finite JSON number. An integer literal beyond a float's range (``1`` and 400 zeros) is none: it made
    ``math.isfinite`` raise OverflowError, a traceback instead of the row's error."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


MAX_RANK = 2**63 - 1


def _is_rank(v: Any) -> bool:
    """A 1-based candidate rank that fits the audit's 64-bit rank arrays (a larger one was an OverflowError
    traceback once the model had loaded and the judging started)."""
    return _is_int(v) and 1 <= v <= MAX_RANK


def _list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "query_id": (_is_str, "a string"),
    "query": (_is_str, "a string"),
    "positive_id": (_is_str, "a string"),
    "positive": (_is_str, "a string"),
    "positive_score": (_is_number, "a finite number"),
    "negative_ids": (_list_of(_is_str), "a list of strings"),
    "negatives": (_list_of(_is_str), "a list of strings"),
    "negative_scores": (_list_of(_is_number), "a list of finite numbers"),
    "negative_ranks": (_list_of(_is_rank), "a list of integers from 1 to 2**63-1 (1-based ranks)"),
    "candidate_score_sd": (lambda v: _is_number(v) and v >= 0, "a finite number >= 0"),
    "margin_score": (_is_number, "a finite number"),
    "negative_flags": (lambda v: isinstance(v, list), "a list"),
    "false_negative_ids": (_list_of(_is_str), "a list of strings"),
    "extra_positive_ids": (_list_of(_is_str), "a list of strings"),
    "extra_positives": (_list_of(_is_str), "a list of strings"),
    "extra_positive_scores": (_list_of(_is_number), "a list of finite numbers"),
    "confidence": (_is_number, "a finite number"),
    "judge_positive_score": (_is_number, "a finite number"),
    "judge_negative_scores": (_list_of(_is_number), "a list of finite numbers"),
    JUDGE_PROMOTED_KEY: (_list_of(_is_number), "a list of finite numbers"),
}


EXPORT_COLUMNS = (
    ("n-tuple", {"anchor", "positive", "negative_1"}), ("triplet", {"anchor", "positive", "negative"}),
    ("flagembedding-scores", {"query", "pos", "neg", "pos_scores", "neg_scores"}),
    ("flagembedding", {"query", "pos", "neg"}), ("labeled-list", {"query", "docs"}),
    ("labeled-pair", {"query", "document"}),
)
"""Columns that mark a row of each ``--export`` format, the first match wins (flagembedding-scores has
flagembedding's, and more; labeled-list-by-query has labeled-list's, told apart by the file name only). The label
columns are left out: ``--export-scores`` replaces them with scores in the labeled formats."""


def export_hint(row: dict, path: str | Path | None) -> str:
    """For a row of an ``--export`` file given where a native file belongs (the quickstart writes both, side by
    side): which export it is and the native file to pass instead (``negatives.n-tuple.jsonl`` ->
    ``negatives.jsonl``); empty for any other row. The message named only the missing keys."""
    name = next((fmt for fmt, columns in EXPORT_COLUMNS if columns <= row.keys()), None)
    if name is None:
        return ""
    named = _export_named(path)
    if named is not None and named.startswith(name):
        name = named  # a variant with the same columns, e.g. labeled-list-by-query
    native = "" if named is None or not named.startswith(name) else f", e.g. {_native_beside(Path(path))}"
    return (f"; this is a row of the {name} export, which holds texts only: pass the native file it was exported "
            f"from (`negmine mine -o FILE`){native}")


FLAG_KINDS = ("false_negative", "noisy_positive")
"""The ``kind`` of a row of an audit's flags file (``negmine audit``; ``negmine mine --denoise``'s evidence)."""


def flags_hint(row: dict, path: str | Path | None) -> str:
    """For a row of a flags file given where a native file belongs: what it is and the file to pass instead, the
    audit's cleaned file (``X.flags.jsonl`` -> ``X.clean.jsonl``) or, for ``--denoise`` evidence, the mined file
    (``X.denoise.flags.jsonl`` -> ``X.jsonl``), named when it exists; empty for any other row. `negmine train
    out/audit/audit.flags.jsonl` said only that 'positive_score' was missing."""
    if row.get("kind") not in FLAG_KINDS or "doc_id" not in row:
        return ""
    name = "" if path is None else Path(path).name
    denoise = name.endswith(".denoise.flags.jsonl")
    what = "mine --denoise's evidence" if denoise else "a negmine audit's flags"
    fix = "the mined file (`negmine mine -o FILE`)" if denoise else "the cleaned file the audit wrote (its -o FILE)"
    stem = name[:-len(".denoise.flags.jsonl" if denoise else ".flags.jsonl")] if name.endswith(".flags.jsonl") else ""
    beside = Path(path).with_name(stem + (".jsonl" if denoise else ".clean.jsonl")) if stem else None
    example = f", e.g. {beside}" if beside is not None and beside.is_file() else ""
    return f"; this is a row of {what} (one finding per line, not a mined row): pass {fix}{example}"


NATIVE_ONLY_KEYS = ("query_id", "positive_id", "negative_ids", "negatives")


def pairs_hint(row: dict, path: str | Path | None) -> str:
    """For a row of a (query, positive) pairs file given where a native file belongs (``negmine train pairs.jsonl``):
    that it holds no negatives and the command that mines them; empty for any other row (one with a native-only
    key is a damaged native row). The message named only the missing 'query_id'."""
    from negmine.io.columns import POSITIVE_COLUMNS, QUERY_COLUMNS

    if any(key in row for key in NATIVE_ONLY_KEYS):
        return ""
    if not any(key in row for key in QUERY_COLUMNS) or not any(key in row for key in POSITIVE_COLUMNS):
        return ""
    name = "PAIRS" if path is None else str(path)
    return (f"; this is a row of a (query, positive) pairs file, which holds no negatives: mine them first, "
            f"`negmine mine --pairs {name} -o negatives.jsonl`, and pass that file")


SUMMARY_SUFFIXES = ((".audit-summary.json", ".clean.jsonl", "negmine audit", "the cleaned file the audit wrote"),
                    (".summary.json", ".jsonl", "negmine mine", "the mined file"))
"""Per summary a run writes beside its rows: its suffix, the rows file's suffix beside it, the command and what to
pass."""


def summary_hint(path: Path) -> str:
    """For a run's summary JSON given where a native file belongs (``negmine train out/negatives.summary.json``, the
    file beside it): what it is and the rows file to pass, named when it exists; empty for any other file. The
    message said only 'invalid JSON: Expecting property name ...'."""
    for suffix, rows_suffix, command, what in SUMMARY_SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            beside = path.with_name(path.name[:-len(suffix)] + rows_suffix)
            example = f", e.g. {beside}" if beside.is_file() else ""
            return f"; this is the summary {command} writes beside its rows (one JSON document): pass {what}{example}"
    return ""


def _export_named(path: str | Path | None) -> str | None:
    """The export format an export's file name carries (``negatives.<format>.jsonl``), or None."""
    from negmine.export.registry import export_format_names  # the registry imports this module

    parts = [] if path is None else Path(path).name.split(".")
    return parts[-2] if len(parts) >= 3 and parts[-2] in export_format_names() else None


def _native_beside(path: Path) -> Path:
    """The native file an export was written beside (:func:`negmine.export.registry.export_path`, reversed)."""
    return path.with_name(".".join(path.name.split(".")[:-2]) + ".jsonl")


def parquet_hint(path: Path) -> str:
    """What to pass instead of a Parquet export: the native file beside it, when its name says which."""
    named = _export_named(path)
    return "" if named is None else f", e.g. {_native_beside(path)}"


def not_a_row_problem(value: Any, line: int | None) -> str:
    """The problem of a native file's line that holds JSON but no object: the value (cut to 60 characters) and the
    fix. It read "expected a JSON object, got NoneType" (Python's type names) alone."""
    where = f"fix line {line} or delete it" if line is not None else "fix the row"
    return (f"expected a JSON object, got {typed_value(value)}; each line of a native negatives file is one row, "
            f"a JSON object with the keys {', '.join(REQUIRED_KEYS)} (as `negmine mine -o FILE` writes): {where}")


def validate_row(row: Any, path: str | Path | None = None, line: int | None = None) -> NativeRow:
    """Check one decoded row; raise InputError naming path, line and field on the first problem."""
    if not isinstance(row, dict):
        raise InputError(path, line, None, not_a_row_problem(row, line))
    for key in REQUIRED_KEYS:
        if key not in row:
            raise InputError(path, line, key, f"missing required key (a native row needs {', '.join(REQUIRED_KEYS)})"
                             + (flags_hint(row, path) or export_hint(row, path) or pairs_hint(row, path)))
    for key, (check, wanted) in _CHECKS.items():
        if key in row and not check(row[key]):
            raise InputError(path, line, key, f"must be {wanted}, got {json.dumps(row[key])[:80]}")
    expected = len(row["negative_ids"])
    for key in (*PARALLEL_KEYS[1:], "negative_flags", "judge_negative_scores"):
        if key in row and len(row[key]) != expected:
            raise InputError(
                path, line, key,
                f"has {counted(len(row[key]), 'entry', 'entries')} but negative_ids has {expected}; the lists are parallel"
            )
    _check_flags(row.get("negative_flags") or (), path, line)
    for key, other in (JUDGE_KEYS, JUDGE_KEYS[::-1]):
        if key in row and other not in row:
            raise InputError(path, line, other, f"missing; it comes with {key} (the relevance judge's scores of the "
                             "positive and of each negative)")
    _check_texts(row, path, line)
    _check_ids(row, path, line)
    _check_negative_ids(row, path, line)
    if "extra_positives" in row or "extra_positive_scores" in row:
        _check_promoted(row, path, line)
    if JUDGE_PROMOTED_KEY in row:
        _check_judge_promoted_row(row, path, line)
    return row  # type: ignore[return-value]


def _check_judge_promoted_row(row: dict, path: str | Path | None, line: int | None) -> None:
    """``judge_extra_positive_scores`` scores the promoted documents the row has texts of (so it needs
    ``extra_positives``), one each, on the scale of the row's other judge scores (so it needs them)."""
    if JUDGE_KEYS[0] not in row:
        raise InputError(path, line, JUDGE_KEYS[0], f"missing; {JUDGE_PROMOTED_KEY} comes with it (the relevance "
                         "judge's scores of the positive, each negative and each promoted document)")
    if "extra_positives" not in row:
        raise InputError(path, line, "extra_positives", f"missing; {JUDGE_PROMOTED_KEY} is parallel to the promoted "
                         "documents, which come with their texts")
    ids = len(row["extra_positive_ids"])
    if len(row[JUDGE_PROMOTED_KEY]) != ids:
        raise InputError(path, line, JUDGE_PROMOTED_KEY, f"has {counted(len(row[JUDGE_PROMOTED_KEY]), 'entry', 'entries')} but "
                         f"extra_positive_ids has {ids}; the lists are parallel")


def _check_flags(flags: list, path: str | Path | None, line: int | None) -> None:
    """Each ``negative_flags`` entry is the audit's mark or null. Every reader takes any other entry (``true``,
    ``"fn"``, ``1``: a flag another tool wrote) for "not flagged", so training used a negative meant as a false
    negative as an ordinary one, and the exports kept it, without a word."""
    for i, flag in enumerate(flags):
        if flag is not None and flag != FALSE_NEGATIVE_FLAG:
            raise InputError(path, line, "negative_flags", f"entry {i} must be {FALSE_NEGATIVE_FLAG!r} (a false "
                             f"negative the audit marked) or null, got {json.dumps(flag)[:80]}")


def _check_texts(row: dict, path: str | Path | None, line: int | None) -> None:
    """Ids and texts must say something: an empty one (whitespace or invisible format characters only, as the
    BEIR readers see it) would train on, or audit, nothing. And they must be storable as UTF-8: a JSON escape of
    a lone surrogate decodes, but every writer (exports, the audit's cleaned file, Arrow) fails on it later."""
    for key in ("query_id", "query", "positive_id", "positive"):
        _check_text(row[key], path, line, key, "")
    for key in ("negative_ids", "negatives"):
        for i, value in enumerate(row[key]):
            _check_text(value, path, line, key, f"entry {i} ")


ID_LIST_KEYS = ("negative_ids", "extra_positive_ids", "false_negative_ids")


def _check_ids(row: dict, path: str | Path | None, line: int | None) -> None:
    """Every id can be matched exactly: none has whitespace at an end or holds a tab, newline or byte-order mark
    (:func:`negmine.io.beir.id_problem`, the words every reader of user ids uses). negmine writes no such id (its
    readers refuse them), so one here was edited or made by another tool, and would silently miss its document.
    Cost: 0.2 s per 50,000 rows of 32 ids (about 6% of reading them); a regex over the row's joined ids took 0.5 s."""
    for key in ("query_id", "positive_id"):
        _check_id(row[key], path, line, key, "")
    for key in ID_LIST_KEYS:
        for i, value in enumerate(row.get(key) or ()):
            _check_id(value, path, line, key, f"entry {i}: ")


def _check_id(value: str, path: str | Path | None, line: int | None, key: str, entry: str) -> None:
    problem = id_problem(value)
    if problem is not None:
        raise InputError(path, line, key, f"{entry}{problem}")


def _check_text(value: str, path: str | Path | None, line: int | None, key: str, entry: str) -> None:
    if not value[:1].isalnum() and is_blank(value):  # the first test spares most texts the slower second
        note = invisible_note(value)
        detail = f" (only whitespace{note})" if note else ""
        raise InputError(path, line, key, f"{entry}is empty{detail}; every id and text of a native row must be non-empty")
    if value.isascii():
        return
    try:
        value.encode("utf-8")  # faster than searching every non-ASCII text for a surrogate
    except UnicodeEncodeError:
        raise InputError(path, line, key, f"{entry}{utf8_problem(value)}") from None


def _check_negative_ids(row: dict, path: str | Path | None, line: int | None) -> None:
    """A document is a negative of a row at most once, and never the row's own positive."""
    seen: dict[str, int] = {}
    for i, doc_id in enumerate(row["negative_ids"]):
        if doc_id == row["positive_id"]:
            raise InputError(
                path, line, "negative_ids", f"entry {i} is the row's positive_id {doc_id!r}; a positive is never its own negative"
            )
        if doc_id in seen:
            raise InputError(
                path, line, "negative_ids", f"{doc_id!r} appears twice (entries {seen[doc_id]} and {i}); list each negative once"
            )
        seen[doc_id] = i


def _check_promoted(row: dict, path: str | Path | None, line: int | None) -> None:
    """The promoted documents' texts and scores come together, parallel to ``extra_positive_ids``; each is
    promoted once, has a text, and is neither the row's positive nor one of its negatives."""
    ids, texts, scores = PROMOTED_KEYS
    if ids not in row:
        raise InputError(path, line, ids, f"missing; {texts} and {scores} are parallel to it")
    for key, other, what in ((texts, scores, "texts"), (scores, texts, "scores")):
        if key not in row:
            raise InputError(path, line, key, f"missing; it comes with {other} (the promoted documents' {what})")
    for key in (texts, scores):
        if len(row[key]) != len(row[ids]):
            raise InputError(
                path, line, key,
                f"has {counted(len(row[key]), 'entry', 'entries')} but {ids} has {len(row[ids])}; the lists are parallel"
            )
    negatives, seen = set(row["negative_ids"]), dict[str, int]()
    for i, doc_id in enumerate(row[ids]):
        _check_text(row[texts][i], path, line, texts, f"entry {i} ")
        if doc_id == row["positive_id"]:
            problem = f"entry {i} is the row's positive_id {doc_id!r}; list further positives only"
        elif doc_id in negatives:
            problem = f"entry {i} {doc_id!r} is also a negative of the row; a promoted document is a positive, not both"
        elif doc_id in seen:
            problem = f"{doc_id!r} appears twice (entries {seen[doc_id]} and {i}); list each once"
        else:
            seen[doc_id] = i
            continue
        raise InputError(path, line, ids, problem)


def read_native(path: str | Path, warn_repeats: bool = True, digest: Any = None) -> Iterator[NativeRow]:
    """Stream validated rows of a native JSONL file (blank lines skipped); fails on a missing file at once.

    A row repeating an earlier row's ``(query_id, positive_id)`` is skipped (the first is used), so a pair is not
    trained on or judged twice; once the file is read to the end, a warning names the file and the repeated lines
    (``warn_repeats=False``: silent, for the later passes of a reader that reads the file more than once). An id
    with two texts across rows is an InputError (:func:`_one_text_per_id`; skipped with ``warn_repeats=False``:
    the first pass made that check). ``digest`` (a ``hashlib`` object) is fed the file's bytes as they are read:
    once every row is read it is the file's hash (the audit's record of the file it judged)."""
    return (row for _, row in read_native_lines(path, warn_repeats, digest=digest))


def read_native_lines(path: str | Path, warn_repeats: bool = True,
                      check_ids: bool | None = None, digest: Any = None) -> Iterator[tuple[int, NativeRow]]:
    """:func:`read_native` with each row's 1-based line number in the file (for error messages). ``check_ids``
    (default: ``warn_repeats``) makes the one-text-per-id check (:func:`_one_text_per_id`): ``check_ids=True,
    warn_repeats=False`` is a full check that leaves the repeats' warning to the pass that uses the rows."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, None, "native negatives file not found (write it with `negmine mine`)")
    rows = _iter_native(path, digest)
    checked = warn_repeats if check_ids is None else check_ids
    return _first_of_each_pair(path, _one_text_per_id(path, rows) if checked else rows, warn_repeats)


def iter_native_lines(path: str | Path) -> Iterator[tuple[int, NativeRow]]:
    """Each validated row of a native file with its line number, as written: no check across rows (a repeated pair
    is read again, one id's two texts are not compared), so nothing is held per row (``negmine report``'s one pass
    over a mined file). Fails on a missing file at once."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, None, "native negatives file not found (write it with `negmine mine`)")
    return _iter_native(path)


def _document_texts(row: NativeRow) -> Iterator[tuple[str, str, str]]:
    """``(field, document id, text)`` of every document of the row that comes with its text; ``field`` as an
    error names it (``negatives entry 2``)."""
    yield "positive", row["positive_id"], row["positive"]
    for i, (doc_id, text) in enumerate(zip(row["negative_ids"], row["negatives"])):
        yield f"negatives entry {i}", doc_id, text
    for i, (doc_id, text) in enumerate(zip(row.get("extra_positive_ids") or (), row.get("extra_positives") or ())):
        yield f"extra_positives entry {i}", doc_id, text


def _one_text_per_id(path: Path, rows: Iterator[tuple[int, NativeRow]]) -> Iterator[tuple[int, NativeRow]]:
    """``rows``, failing at the first query id or document id whose text differs from the one an earlier row gave
    it. Every reader keys on ids: training resolves a known positive's id to one text to mask it in the other rows
    of its query (the id's other text went on as an in-batch negative), and the audit pools a query's positives,
    and a document's false-negative verdict, by id across rows (a verdict on one text was applied to the other).
    Memory: a 64-bit hash of the text per distinct id (an equal text always has the same hash; a hash collision
    of two texts of one id could only miss a conflict); the earlier line is found by reading the file again, on
    the error path only."""
    queries: dict[str, int] = {}
    documents: dict[str, int] = {}
    for line, row in rows:
        query = hash(row["query"])
        if queries.setdefault(row["query_id"], query) != query:
            raise _two_texts(path, line, "query", "query_id", row["query_id"])
        texts = [(row["positive_id"], row["positive"]), *zip(row["negative_ids"], row["negatives"]),
                 *zip(row.get("extra_positive_ids") or (), row.get("extra_positives") or ())]
        for doc_id, text in texts:  # the fields are named on the error path only (this loop runs per document)
            text_hash = hash(text)
            if documents.setdefault(doc_id, text_hash) != text_hash:
                key = next(key for key, other, _ in _document_texts(row) if other == doc_id)
                raise _two_texts(path, line, key, "document id", doc_id)
        yield line, row


def _two_texts(path: Path, line: int, key: str, what: str, item_id: str) -> InputError:
    """The error for ``item_id`` given another text at ``line`` than at its first line (found by a second read)."""
    first = _first_text_of(path, what, item_id)
    field, _, entry = key.partition(" ")
    earlier = "an earlier line" if first is None else f"line {first[0]} ({first[1]})"
    return InputError(path, line, field, f"{entry + ': ' if entry else ''}{what} {item_id!r} has another text than at "
                      f"{earlier}; every reader matches rows by id (training masks a query's known positives, the "
                      "audit pools its verdicts), so one id must keep one text: fix the file (mined from another "
                      "corpus, or rows of two files joined?) or give each text its own id")


def _first_text_of(path: Path, what: str, item_id: str) -> tuple[int, str] | None:
    """The first ``(line, field)`` where the query id or document id ``item_id`` appears with its text."""
    for line, row in _iter_native(path):
        if what == "query_id" and row["query_id"] == item_id:
            return line, "query"
        places = [key for key, doc_id, _ in _document_texts(row) if doc_id == item_id] if what != "query_id" else []
        if places:
            return line, places[0]
    return None


MAX_REPEATS_NAMED = 10


def _first_of_each_pair(path: Path, rows: Iterator[tuple[int, NativeRow]],
                        warn: bool) -> Iterator[tuple[int, NativeRow]]:
    """``rows`` without those repeating an earlier row's (query_id, positive_id); warns about them at the end."""
    first: dict[tuple[str, str], int] = {}
    repeats: list[tuple[int, int]] = []
    for line, row in rows:
        key = (row["query_id"], row["positive_id"])
        if key in first:
            repeats.append((line, first[key]))
            continue
        first[key] = line
        yield line, row
    if repeats and warn:
        warnings.warn(repeats_message(path, repeats), NegmineWarning, stacklevel=caller_stacklevel())


def repeats_message(path: Path, repeats: Sequence[tuple[int, int]]) -> str:
    """The warning for rows repeating an earlier row's (query_id, positive_id): ``repeats`` as (line, first)."""
    named = ", ".join(f"line {line} repeats line {first}" for line, first in repeats[:MAX_REPEATS_NAMED])
    more = f" and {len(repeats) - MAX_REPEATS_NAMED} more" if len(repeats) > MAX_REPEATS_NAMED else ""
    return (f"{path}: {counted(len(repeats), 'repeated (query_id, positive_id) row')} skipped, the first row of each pair is "
            f"used ({named}{more}); remove the repeats (e.g. a file concatenated twice) to silence this")


def _unmarked(path: Path, line_no: int, text: str) -> str:
    """``text`` unless it starts with a byte-order mark: only the file's first (dropped before) may hold one."""
    if text.startswith(BYTE_ORDER_MARK):
        raise stray_mark_error(path, line_no)
    return text


def _iter_native(path: Path, digest: Any = None) -> Iterator[tuple[int, NativeRow]]:
    with path.open("rb") if digest is None else hashed_reader(path, digest) as handle:
        head = file_head(handle)
        if head.startswith(b"PAR1"):
            raise InputError(
                path, 1, None,
                "a Parquet file, not JSON Lines: an --export-as parquet export is for other trainers; pass the "
                "native JSONL it was exported from (`negmine mine -o FILE` / `negmine audit -o FILE`)"
                + parquet_hint(path),
            )
        refuse_unreadable_head(path, head.removeprefix(BYTE_ORDER_MARK.encode("utf-8")))  # gzip, UTF-16
        for line_no, raw in enumerate(handle, start=1):
            if line_no == 1:
                raw = raw.removeprefix(BYTE_ORDER_MARK.encode("utf-8"))  # the file's mark, as iter_lines drops it
            if not raw.strip():
                continue
            try:
                decoded = loads(_unmarked(path, line_no, raw.decode("utf-8")))
            except UnicodeDecodeError as err:
                raise _not_utf8_error(path, line_no, raw, head, err) from None
            except DuplicateKeyError as err:
                raise duplicate_key_error(path, line_no, err) from None
            except json.JSONDecodeError as err:
                raise _invalid_json_error(path, line_no, err) from None
            yield line_no, validate_row(decoded, path, line_no)


def _invalid_json_error(path: Path, line_no: int, err: json.JSONDecodeError) -> InputError:
    return InputError(
        path, line_no, None,
        f"invalid JSON: {where_json_stopped(err)}; expected a native negatives file (JSON Lines, one row "
        "per line, as `negmine mine -o FILE` writes)" + (summary_hint(path) if line_no == 1 else ""),
    )


def _not_utf8_error(path: Path, line_no: int, raw: bytes, head: bytes, err: UnicodeDecodeError) -> InputError:
    """A line that is not UTF-8: with the ``iconv`` fix when it is JSON read as Latin-1 (a mined file an editor
    saved as Latin-1; the message had no fix), else the invalid-JSON message its UTF-8 copy gets (a TSV or log
    given for a mined file: converting it makes no JSON)."""
    not_json = latin1_json_error(raw) if utf8_fix_source(head) == "latin1" else None
    if not_json is not None:
        return _invalid_json_error(path, line_no, not_json)
    return InputError(path, line_no, None, f"not UTF-8 text: {err.reason} at byte {err.start + 1} of the line"
                      + save_as_utf8_hint(path, head))
