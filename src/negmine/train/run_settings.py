"""The settings a training run started with, recorded next to its checkpoints, so ``--resume`` with other
settings is refused instead of silently mixing two runs (another learning rate, batch size, epoch count or
training file from the checkpoint on: a model no single run trains, reported under the new settings).

A fresh run writes ``checkpoints/negmine_run_settings.json`` before its first step: every ``TrainConfig``
field but :data:`NOT_RECORDED`, local paths resolved, with the training file named by the sha256 of its bytes
(a file re-mined to the same path is another file; the same file moved is not), and beside them, compared with
nothing, the file's path, rows, bytes and modification time (:data:`TRAIN_FILE_FACTS`), which a refusal for another
file shows next to the file's now. ``--resume`` compares all but
:data:`MAY_CHANGE_ON_RESUME`: the checkpoint and logging cadence may change (more frequent checkpoints on a
flaky machine), and :func:`cadence_changes` names those changes, every value across resumes, for the run's log
and summary.
Light to import (no torch), as :mod:`negmine.train.preflight`, which calls it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import asdict, fields
from pathlib import Path

from negmine.config import TrainConfig
from negmine.errors import ConfigError, InputError, NegmineWarning, caller_stacklevel
from negmine.io.atomic import atomic_write
from negmine.io.jsonl import json_type, read_json_file
from negmine.pipeline.recorded_config import without_run_only
from negmine.train.attention_dropout import trained_with


SETTINGS_NAME = "negmine_run_settings.json"
"""In the checkpoints folder (``checkpoints/``), beside the ``checkpoint-<step>`` folders."""

NOT_RECORDED = ("resume", "show_progress", "output_dir")
"""Fields that change neither the weights nor the run's log: not recorded."""

CADENCE = ("checkpoint_steps", "logging_steps")
"""Recorded, and ``--resume`` may give them otherwise: when the trainer saves a checkpoint and logs the loss. Neither
changes the weights: a run resumed with other values (and a run saving or logging at every step) ends with the
uninterrupted run's weights byte for byte (measured with dropout on, fp32 and bf16, with dev evaluation,
``--keep-best`` and re-mining; tests/train/test_api.py). A resumed run saves and logs at the new cadence
(:class:`negmine.train.api.ResumedCadence`); its loss log then has two."""

CADENCE_LOG_KEYS = {key: f"negmine_{key}" for key in CADENCE}
"""The keys under which each training-loss entry of the trainer's log records the cadence it was logged at
(:class:`negmine.train.api.CadenceInLog`). Every checkpoint saves the log, so the checkpoint a run resumes from
holds the cadence of each stretch of its run, across any number of resumes (:func:`cadence_changes`)."""

DEVICE_FIELD = "device"
"""Refused on resume with its own reason (:func:`device_changed`)."""

MAY_CHANGE_ON_RESUME = NOT_RECORDED + CADENCE
"""The fields ``--resume`` may give otherwise than the run it continues."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


TRAIN_FILE_FACTS = "train_file_facts"
"""Key of the training file's path, rows, bytes and modification time when the run started (:func:`file_facts`):
recorded beside the settings, not one of them. A resume refused for another training file showed two sha256
digests, nothing a person can check against the file; settings recorded before this key lack it."""


ATTENTION_DROPOUT_FACTS = "attention_dropout_facts"
"""Key of the attention dropout the run trained with and its model's own
(:func:`negmine.train.attention_dropout.model_attention_dropout`: ``trained``, ``recognised``, ``model_own``),
recorded beside the settings when the model has loaded, so that ``--resume`` compares what each setting trains with
(:func:`_dropout_trained_alike`); settings recorded before this key lack it."""


def file_facts(path: Path) -> dict:
    """The training file's resolved path, rows (non-blank lines), bytes and modification time (UTC)."""
    path = Path(path).expanduser().resolve()
    size, modified = path.stat().st_size, path.stat().st_mtime
    with open(path, "rb") as handle:
        rows = sum(1 for line in handle if line.strip())
    return {"path": str(path), "rows": rows, "bytes": size,
            "modified": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(modified))}


def train_file_changed(train_file: Path, before: str, after: str, facts) -> str:
    """The refusal's line for a training file with other contents than the run started with: the file now and
    then (``facts``: its :data:`TRAIN_FILE_FACTS`, None when not recorded), and the two ways on."""
    now = file_facts(train_file)
    if isinstance(facts, dict):
        where = "" if facts.get("path") == now["path"] else f"{facts.get('path')}, "
        then = f"{where}{_described(facts, before)}"
    else:
        then = (f"sha256 {_short(before)} (its rows, bytes and time were not recorded: the run started under an older "
                "negmine)")
    return (f"train_file {now['path']} is not the file the run started with: now {_described(now, after)}; then "
            f"{then}; restore that file and resume, or train on this one afresh, without --resume, into a new -o "
            "folder")


def _described(facts: dict, digest: str) -> str:
    size = facts.get("bytes")
    size = f"{size:,}" if isinstance(size, int) else size
    rows = facts.get("rows")
    return (f"{rows} row{'' if rows == 1 else 's'}, {size} bytes, modified {facts.get('modified')}, "
            f"sha256 {_short(digest)}")


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _jsonable(value):
    if isinstance(value, Path):
        return str(value.expanduser().resolve())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return json.loads(json.dumps(value, default=str))


def effective_precision(precision: str, device: str) -> str:
    """The precision a run computes in on ``device`` (``auto`` resolved for its device type here): ``fp32`` or
    ``bf16``. :func:`negmine.encode.precision.resolve_precision` imports torch only for a CUDA device."""
    from negmine.encode.precision import resolve_precision

    return resolve_precision(precision, device.split(":")[0])


def run_settings(config: TrainConfig) -> dict:
    """The run's settings as JSON: every field but :data:`NOT_RECORDED`; ``train_file`` is its content's
    sha256; a local ``model`` path is resolved; ``precision`` is the one the run computes in (``auto`` resolved:
    a run started with ``auto``, bf16 on a CPU with native bf16, was refused when resumed with ``bf16``, and one
    resumed with ``auto`` where it resolves to fp32 went on in another precision without a word); the re-mining
    configuration (``mine``) without the mining run's settings that re-mining does not use
    (:func:`negmine.pipeline.recorded_config.without_run_only`, as ``negmine_train.json`` leaves them out): a
    resume whose mining summary differed only in them (a file mined with ``--no-progress``) was refused."""
    values = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in NOT_RECORDED}
    values = {k: asdict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in values.items()}
    values["train_file"] = "sha256:" + file_digest(Path(config.train_file))
    values["precision"] = effective_precision(config.precision, config.device)
    if os.path.exists(os.path.expanduser(config.model)):
        values["model"] = Path(config.model)
    return without_run_only(_jsonable(values))


def differences(old: dict, new: dict, default: dict, prefix: str = "") -> list[str]:
    """``"key old -> new"`` per setting that differs (``dev.steps 10 -> 20`` inside a nested config); a key
    ``old`` lacks (recorded before the field existed) counts at its ``default``."""
    out = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, default.get(key)), new.get(key)
        if isinstance(before, dict) and isinstance(after, dict):
            inner = default.get(key) if isinstance(default.get(key), dict) else {}
            out += differences(before, after, inner, f"{prefix}{key}.")
        elif before != after:
            out.append(f"{prefix}{key} {before!r} -> {after!r}")
    return out


def record_run_settings(config: TrainConfig, ckpt_dir: Path, attention_dropout: dict | None = None) -> None:
    """Write the settings of a run starting afresh (replacing those of an earlier start that made no checkpoint),
    with ``attention_dropout``'s facts (:data:`ATTENTION_DROPOUT_FACTS`) when given."""
    facts = {TRAIN_FILE_FACTS: file_facts(config.train_file)}
    if attention_dropout is not None:
        facts[ATTENTION_DROPOUT_FACTS] = attention_dropout
    with atomic_write(Path(ckpt_dir) / SETTINGS_NAME) as handle:
        json.dump({**run_settings(config), **facts}, handle, indent=2, sort_keys=True)
        handle.write("\n")


def check_resume_settings(config: TrainConfig, ckpt_dir: Path) -> None:
    """ConfigError naming every setting ``config`` gives otherwise than the run its checkpoints come from, but
    :data:`CADENCE` (:func:`cadence_changes` names those)."""
    recorded = _recorded(ckpt_dir)
    if recorded is None:  # checkpoints of a negmine that did not record them
        warnings.warn(f"{Path(ckpt_dir) / SETTINGS_NAME} not found: the settings of the run being resumed cannot be "
                      "checked", NegmineWarning, stacklevel=caller_stacklevel())
        return
    now, defaults = run_settings(config), run_settings_defaults(config)
    facts, dropout = recorded.get(TRAIN_FILE_FACTS), recorded.get(ATTENTION_DROPOUT_FACTS)
    # settings recorded before the run-only ones were left out
    recorded = without_run_only(_without(recorded, (TRAIN_FILE_FACTS, ATTENTION_DROPOUT_FACTS)))
    recorded = _auto_resolved(_model_dropout_named(recorded), defaults)
    same_dropout = _dropout_trained_alike(recorded, now, config, dropout, defaults)
    changed = [_with_dropout_note(_with_auto_note(line, config)) for line in
               differences(_without(recorded, CADENCE), _without(now, CADENCE), defaults)
               if not _precision_follows_device(line, config, recorded, defaults)
               and not (same_dropout and line.startswith("attention_dropout "))]
    changed = [train_file_changed(config.train_file, str(recorded.get("train_file")), now["train_file"], facts)
               if line.startswith("train_file ") else line for line in changed]
    if changed:
        shown = "; ".join(changed[:6]) + (f"; and {len(changed) - 6} more" if len(changed) > 6 else "")
        raise ConfigError(
            f"--resume: {len(changed)} setting(s) differ from those the checkpoints in {ckpt_dir} were trained "
            f"with (recorded in {SETTINGS_NAME}; the checkpoint's -> now): {shown}. "
            + device_changed(recorded.get(DEVICE_FIELD, defaults.get(DEVICE_FIELD)), now[DEVICE_FIELD])
            + "Resume with the run's own settings, or choose a new --output directory to train with these "
            "(only --checkpoint-steps, --no-checkpoints, --logging-steps and --no-progress may change)"
        )


def _auto_resolved(recorded: dict, defaults: dict) -> dict:
    """``recorded`` with a ``precision`` of ``auto`` (settings recorded before the precision was resolved) taken as
    what ``auto`` resolves to here on the run's device: what the run was assumed to have computed in when ``auto``
    was compared with ``auto``."""
    if recorded.get("precision") != "auto":
        return recorded
    device = recorded.get(DEVICE_FIELD, defaults.get(DEVICE_FIELD))
    return {**recorded, "precision": effective_precision("auto", device)}


def _model_dropout_named(recorded: dict) -> dict:
    """``recorded`` with the ``attention_dropout`` of a run started before ``auto`` became the default (None, or
    no such key: the model's own dropout) as ``model``, the value that now asks for it: compared with the default
    ``auto`` (0 on a CPU) it is a change, which resuming would make mid-run."""
    if recorded.get("attention_dropout") is not None:
        return recorded
    return {**recorded, "attention_dropout": "model"}


def _dropout_trained_alike(recorded: dict, now: dict, config: TrainConfig, facts, defaults: dict) -> bool:
    """Whether ``config`` trains with the attention dropout the run trained with, whatever each gave
    (:func:`negmine.train.attention_dropout.trained_with`): ``auto`` and 0 on a CPU, ``model`` and a number equal to
    the model's own. Known from the facts the run recorded of its model (:data:`ATTENTION_DROPOUT_FACTS`) while the
    model is the same; without them (recorded by an older negmine), ``auto`` is known off a CPU only, as the model's
    own: a run started before ``auto`` existed (the model's own) resumes under ``auto`` on a GPU or MPS, and on a CPU
    stays refused (``auto`` there is 0 for a model whose attention dropout negmine recognises)."""
    model = facts if isinstance(facts, dict) and recorded.get("model") == now.get("model") else None
    device = recorded.get(DEVICE_FIELD, defaults.get(DEVICE_FIELD))
    try:
        then = trained_with(model["trained"] if model else recorded.get("attention_dropout"), device, model)
        after = trained_with(config.attention_dropout, config.device, model)
    except (KeyError, TypeError, ValueError):  # an edited record: compared as given
        return False
    return "auto" not in (then, after) and then == after


def _with_dropout_note(line: str) -> str:
    """An attention dropout difference from a run that trained with the model's own says how to resume it."""
    if not line.startswith("attention_dropout 'model' -> "):
        return line
    return f"{line} (the run trained with the model's own attention dropout: resume with --attention-dropout model)"


def _precision_follows_device(line: str, config: TrainConfig, recorded: dict, defaults: dict) -> bool:
    """Whether ``line`` is a precision difference that ``--precision auto`` made by resolving on another device:
    the device's own refusal says so (:func:`device_changed`), and is the change to undo."""
    device = recorded.get(DEVICE_FIELD, defaults.get(DEVICE_FIELD))
    return line.startswith("precision ") and config.precision == "auto" and device != config.device


def _with_auto_note(line: str, config: TrainConfig) -> str:
    """A precision difference says what ``--precision auto`` resolved to, since the command line said ``auto``."""
    if config.precision != "auto" or not line.startswith("precision "):
        return line
    return f"{line} (--precision auto resolves to {effective_precision('auto', config.device)} on {config.device} here)"


def cadence_log_entry(config: TrainConfig) -> dict:
    """The cadence of ``config`` as keys of a trainer log entry (:data:`CADENCE_LOG_KEYS`)."""
    return {CADENCE_LOG_KEYS[key]: getattr(config, key) for key in CADENCE}


def cadence_changes(config: TrainConfig, ckpt_dir: Path, checkpoint: str | Path | None = None) -> list[str]:
    """Each :data:`CADENCE` setting whose value changed over the run, with every value in order: the run's first,
    those of the resumes whose logged steps ``checkpoint`` holds, and ``config``'s (``"logging_steps 10 -> 5 ->
    1"``; a resume that left no checkpoint trained no step of this run and is not named). Comparing the first
    value with the last lost the resumes in between (``10 -> 1``), and named no change for ``10 -> 5 -> 10``.
    Entries logged by a negmine that did not record the cadence are skipped. None when the run's settings were
    not recorded. Only the settings that took effect (:func:`effective_cadence`)."""
    recorded = _recorded(ckpt_dir)
    if recorded is None:
        return []
    defaults = run_settings_defaults(config)
    stretches = [{key: recorded.get(key, defaults.get(key)) for key in CADENCE}]
    for entry in _log_history(checkpoint):
        if all(CADENCE_LOG_KEYS[key] in entry for key in CADENCE):
            stretches.append({key: entry[CADENCE_LOG_KEYS[key]] for key in CADENCE})
    stretches.append({key: getattr(config, key) for key in CADENCE})
    out = []
    for key in effective_cadence(config):
        values = [stretch[key] for stretch in stretches]
        values = [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]
        if len(values) > 1:
            out.append(f"{key} " + " -> ".join(map(repr, values)))
    return out


def effective_cadence(config: TrainConfig) -> tuple[str, ...]:
    """The :data:`CADENCE` settings that act in a run of ``config``: with ``--keep-best`` a checkpoint is saved at
    every evaluation and at no other step, so ``checkpoint_steps`` does nothing (the preflight warns), and a
    change of it across resumes was listed in ``resume_changes`` and the report as if the checkpoints had
    followed it. ``--keep-best`` itself may not change on resume, so it holds for every part of the run."""
    if config.dev is not None and config.dev.keep_best:
        return tuple(key for key in CADENCE if key != "checkpoint_steps")
    return CADENCE


def _log_history(checkpoint: str | Path | None) -> list[dict]:
    """The trainer log ``checkpoint`` saved (empty without one or when unreadable)."""
    if checkpoint is None:
        return []
    try:
        state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    history = state.get("log_history") if isinstance(state, dict) else None
    return [entry for entry in history if isinstance(entry, dict)] if isinstance(history, list) else []


def _recorded(ckpt_dir: Path) -> dict | None:
    """The settings the run recorded when it started (None: not recorded). A file that is not a JSON object
    (edited, or cut short by a full disk) is an InputError naming it and the way out; it was a JSONDecodeError,
    UnicodeDecodeError or AttributeError traceback."""
    path = Path(ckpt_dir) / SETTINGS_NAME
    if not path.is_file():
        return None
    recorded = read_json_file(path)  # InputError at the line of invalid UTF-8 or JSON; a byte-order mark is fine
    if not isinstance(recorded, dict):
        raise InputError(path, None, None, f"must hold a JSON object (the settings negmine train recorded when the "
                         f"run started), got {json_type(recorded)}; restore it, or train into a new --output directory")
    return recorded


def device_changed(before: str, after: str) -> str:
    """Why a resume may not move the run to another device (empty when it stays), and what to do."""
    if before == after:
        return ""
    return (f"The run trained on {before}: on {after} the same steps compute with other kernels (other rounding, "
            f"another precision under --precision auto) and draw dropout masks from another random generator, so "
            f"the weights would be those of no single run. Resume on {before} (--device {before}), or start a new "
            f"run on {after} with another --output directory. ")


def _without(values: dict, keys: tuple[str, ...]) -> dict:
    return {k: v for k, v in values.items() if k not in keys}


def run_settings_defaults(config: TrainConfig) -> dict:
    """The default of each setting, for a field the recording negmine did not have yet (a run started before
    it was added trained at its default). For a re-mining run, also each field of its mining configuration
    (``mine``): a field added to MineConfig (``select.strategy_params``) was counted at None, so every run recorded
    before it was refused on resume (``mine.select.strategy_params None -> []``)."""
    from negmine.config import MineConfig

    mine = MineConfig() if config.mine is not None else None
    defaults = run_settings(TrainConfig(train_file=config.train_file, model=config.model, mine=mine))
    defaults.pop("train_file"), defaults.pop("model")
    return defaults
