"""Which relevance judge scored a training file's rows, read from the summary of the run that wrote the file, and
the check, before any model loads, that re-mining scores its rows with the same judge when a run distils from the
judge's scores (``distill_from`` ``judge``) and re-mines: the rows re-mining swaps take the re-mining judge's
scores, the others keep the file's, and two judges' scores are on two scales (a cross-encoder's logits, another's,
a teacher's cosines), so the distillation target would change meaning mid-run.

Where the file's judge is recorded:

- ``negmine mine -o FILE``: the mining summary ``<stem>.summary.json`` beside FILE (the one re-mining repeats when
  no ``--mine-summary`` is given): its ``config.denoise`` holds the judges and their settings (its
  ``denoise.judge_scores`` names the scorer, the model as given and, for a cross-encoder, its fingerprint);
- ``negmine audit ... -o FILE``: the audit summary (``<stem>.audit-summary.json`` beside the flags file, by default
  beside the cleaned ``<stem>.clean.jsonl``), whose ``output`` is FILE: its ``judge_scores`` names the scorer and
  the model as given, and the settings that change a teacher's scale (``settings``, recorded since this check; an
  older summary is compared by model only); ``{"scorer": "input"}``: the audit had no relevance judge and the rows
  kept the audited file's scores, whose own summary (the audit's ``input``) tells.

A cross-encoder is compared by the name or path given (a path resolved, so ``ce`` and ``/abs/ce`` are the same
folder); its activation is part of the saved model, not a negmine setting. A teacher by its name or path and its
``teacher_max_words`` and ``teacher_query_prompt``/``teacher_document_prompt``.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import NamedTuple

from negmine.audit.judge_scores import TEACHER_SCALE
from negmine.errors import ConfigError, field_setting

_OPTIONS = {"teacher_max_words": "--teacher-max-words", "teacher_query_prompt": "--teacher-query-prompt",
            "teacher_document_prompt": "--teacher-document-prompt"}
_MAX_HOPS = 8  # audits of audits: the "input" chain followed at most this far


class Judge(NamedTuple):
    """A scoring judge: ``kind`` ``cross-encoder`` or ``teacher``, the model as given, and the settings that change
    its scale (None: not recorded)."""

    kind: str
    model: str
    settings: dict | None

    def describe(self) -> str:
        given = {k: v for k, v in (self.settings or {}).items() if v is not None}
        extra = f" with {', '.join(f'{k} {v!r}' for k, v in given.items())}" if given else ""
        return f"{self.kind} {self.model!r}{extra}"

    def audit_options(self) -> str:
        """The ``negmine audit`` options that score with this judge."""
        if self.kind == "cross-encoder":
            return f"--cross-encoder {shlex.quote(self.model)}"
        given = [(k, v) for k, v in (self.settings or {}).items() if v is not None]
        options = [f"{_OPTIONS[k]} {shlex.quote(str(v))}" for k, v in given]
        return " ".join([f"--teacher {shlex.quote(self.model)}", *options])


class Provenance(NamedTuple):
    """The judge that scored a file's rows (None: the summary records none) and the summary that says so (None:
    no summary found, the judge unknown)."""

    judge: Judge | None
    summary: Path | None


def config_judge(denoise) -> Judge | None:
    """The scoring judge of a :class:`~negmine.config.DenoiseConfig` (:func:`~negmine.audit.judge_scores.scorer_key`),
    None when it writes no judge scores."""
    from negmine.audit.judge_scores import scorer_key

    if not denoise.enabled:
        return None
    judges = denoise.judges
    key = scorer_key(judges, judges.resolved(denoise.DEFAULT_JUDGES))
    if key is None:
        return None
    if key == "cross-encoder":
        return Judge(key, str(judges.cross_encoder), {})
    return Judge("teacher", str(judges.teachers[0]), {name: getattr(judges, name) for name in TEACHER_SCALE})


def recorded_judge(train_file: str | Path, hops: int = 0) -> Provenance:
    """The judge that scored ``train_file``'s rows, from its mining summary, else an audit summary beside it whose
    ``output`` is the file (see the module docstring)."""
    path = Path(train_file)
    mining = path.with_name(f"{path.stem}.summary.json")
    document = _read(mining)
    if isinstance(document, dict) and isinstance(document.get("config"), dict):
        return Provenance(_mining_judge(document["config"]), mining)
    audit = _audit_summary(path)
    if audit is None:
        return Provenance(None, None)
    document = _read(audit) or {}
    scores = document.get("judge_scores")
    if isinstance(scores, dict) and scores.get("scorer") == "input":
        source = document.get("input")
        followed = isinstance(source, str) and hops < _MAX_HOPS
        return recorded_judge(source, hops + 1) if followed else Provenance(None, None)
    return Provenance(_audit_judge(scores), audit)


def _read(path: Path) -> dict | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _mining_judge(config: dict) -> Judge | None:
    from negmine.config import DenoiseConfig
    from negmine.pipeline.recorded_config import config_from_dict

    try:
        return config_judge(config_from_dict(DenoiseConfig, config.get("denoise") or {}))
    except (TypeError, ValueError, AttributeError, IndexError):
        return None


def _audit_judge(scores) -> Judge | None:
    if not isinstance(scores, dict) or not isinstance(scores.get("model"), str):
        return None
    scorer = str(scores.get("scorer"))
    settings = scores.get("settings") if isinstance(scores.get("settings"), dict) else None
    if scorer == "cross-encoder":
        return Judge(scorer, scores["model"], settings)
    return Judge("teacher", scores["model"], settings) if scorer.startswith("teacher:") else None


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


def _same_model(a: str, b: str) -> bool:
    if a == b:
        return True
    a, b = os.path.expanduser(a), os.path.expanduser(b)
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def same_judge(a: Judge, b: Judge) -> bool:
    """Same kind and model; the scale settings too when both record them."""
    if a.kind != b.kind or not _same_model(a.model, b.model):
        return False
    return a.settings is None or b.settings is None or a.settings == b.settings


def check_remining_judge_matches_file(config) -> None:
    """For a TrainConfig distilling from the judge's scores with re-mining (``mine`` set): ConfigError when the
    training file's rows were scored by another judge than the re-mining's, naming both and the fixes; a
    NegmineWarning when no summary records the file's judge (the check cannot be made). A summary that records no
    scoring judge passes: rows without judge scores are refused as they are read
    (:func:`negmine.train.teacher_scores.check_teacher_scores`)."""
    if config.distill == "none" or not config.remine or config.distill_from != "judge" or config.mine is None:
        return
    remining = config_judge(config.mine.denoise)
    if remining is None:  # refused by TrainConfig.validate (negmine.train.teacher_scores.check_remining_judge)
        return
    found = recorded_judge(config.train_file)
    if found.summary is None:
        _warn_unknown(config, remining)
    elif found.judge is not None and not same_judge(found.judge, remining):
        raise ConfigError(_mismatch(config, found.judge, found.summary, remining))


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
        f"{remining.describe()}; two judges' scores are not on one scale, so the rows re-mining swaps would be "
        f"distilled towards one judge's scores and the others towards the other's; re-mine with the file's judge "
        f"({same}), or {_rescore(config, remining)}, or drop the re-mining options, or "
        f"{field_setting('distill', 'none', cli='drop --distill')}")


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
