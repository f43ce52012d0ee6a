"""The settings a training run started with, recorded next to its checkpoints, so ``--resume`` with other
settings is refused instead of silently mixing two runs (another learning rate, batch size, epoch count or
training file from the checkpoint on: a model no single run trains, reported under the new settings).

A fresh run writes ``checkpoints/negmine_run_settings.json`` before its first step: every ``TrainConfig``
field but :data:`MAY_CHANGE_ON_RESUME`, local paths resolved, with the training file named by the sha256 of
its bytes (a file re-mined to the same path is another file; the same file moved is not). ``--resume``
compares. Light to import (no torch), as :mod:`negmine.train.preflight`, which calls it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, fields
from pathlib import Path

from negmine.config import TrainConfig
from negmine.errors import ConfigError
from negmine.io.atomic import atomic_write

logger = logging.getLogger(__name__)

SETTINGS_NAME = "negmine_run_settings.json"
"""In the checkpoints folder (``checkpoints/``), beside the ``checkpoint-<step>`` folders."""

MAY_CHANGE_ON_RESUME = ("resume", "show_progress", "output_dir")
"""Fields that change neither the weights nor the run's log: the only ones ``--resume`` may give otherwise."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _jsonable(value):
    if isinstance(value, Path):
        return str(value.expanduser().resolve())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return json.loads(json.dumps(value, default=str))


def run_settings(config: TrainConfig) -> dict:
    """The run's settings as JSON: every field but :data:`MAY_CHANGE_ON_RESUME`; ``train_file`` is its
    content's sha256; a local ``model`` path is resolved."""
    values = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in MAY_CHANGE_ON_RESUME}
    values = {k: asdict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in values.items()}
    values["train_file"] = "sha256:" + file_digest(Path(config.train_file))
    if os.path.exists(os.path.expanduser(config.model)):
        values["model"] = Path(config.model)
    return _jsonable(values)


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


def record_run_settings(config: TrainConfig, ckpt_dir: Path) -> None:
    """Write the settings of a run starting afresh (replacing those of an earlier start that made no checkpoint)."""
    with atomic_write(Path(ckpt_dir) / SETTINGS_NAME) as handle:
        json.dump(run_settings(config), handle, indent=2, sort_keys=True)
        handle.write("\n")


def check_resume_settings(config: TrainConfig, ckpt_dir: Path) -> None:
    """ConfigError naming every setting ``config`` gives otherwise than the run its checkpoints come from."""
    path = Path(ckpt_dir) / SETTINGS_NAME
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:  # checkpoints of a negmine that did not record them
        logger.warning("%s not found: the settings of the run being resumed cannot be checked", path)
        return
    changed = differences(recorded, run_settings(config), run_settings_defaults(config))
    if changed:
        shown = "; ".join(changed[:6]) + (f"; and {len(changed) - 6} more" if len(changed) > 6 else "")
        raise ConfigError(
            f"--resume: {len(changed)} setting(s) differ from those the checkpoints in {ckpt_dir} were trained "
            f"with (recorded in {path.name}; the checkpoint's -> now): {shown}. Resume with the run's own "
            "settings, or choose a new --output directory to train with these"
        )


def run_settings_defaults(config: TrainConfig) -> dict:
    """The default of each setting, for a field the recording negmine did not have yet (a run started before
    it was added trained at its default)."""
    defaults = run_settings(TrainConfig(train_file=config.train_file, model=config.model))
    defaults.pop("train_file"), defaults.pop("model")
    return defaults
