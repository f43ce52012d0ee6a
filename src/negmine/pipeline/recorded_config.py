"""The :class:`MineConfig` a ``negmine mine`` run recorded in its summary JSON (``<name>.summary.json``):
what re-mining during training re-runs."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path

from negmine.config import MineConfig
from negmine.config_unused import without_unused
from negmine.errors import ConfigError, field_option
from negmine.io.jsonl import read_json_file


def _unwrap_optional(hint):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def config_from_dict(cls, data: dict):
    """Rebuild a (nested) config dataclass from ``asdict`` JSON: paths from strings, tuples from lists."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data or not f.init:
            continue
        value, target = data[f.name], _unwrap_optional(hints[f.name])
        if dataclasses.is_dataclass(target) and isinstance(value, dict):
            value = config_from_dict(target, value)
        elif value is not None and target is Path:
            value = Path(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def load_mine_config(mined: str | Path, summary: str | Path | None = None) -> MineConfig:
    """The MineConfig recorded by ``negmine mine`` in the summary JSON next to the mined file (or ``summary``).
    Either may be a str, as every path a config takes (``load_mine_config("out/negatives.jsonl")`` failed with
    "'str' object has no attribute 'with_name'").

    A summary written before MineConfig refused settings its mode leaves unused (``simans_a`` with the ``top``
    strategy) may hold some: they are set back to their defaults (:func:`negmine.config_unused.without_unused`),
    which re-mines exactly what the recorded run mined, since that run never read them."""
    mined = Path(mined)
    path = Path(summary) if summary is not None else mined.with_name(f"{mined.stem}.summary.json")
    if not path.is_file():
        raise ConfigError(
            f"re-mining needs the mining configuration, but {path} does not exist; pass --mine-summary PATH "
            "(the <name>.summary.json written by `negmine mine`; from Python load_mine_config(mined, summary=PATH)) or "
            f"turn re-mining off ({field_option('remine_every_epoch')}, {field_option('remine_steps')})"
        )
    document = read_json_file(path)  # InputError at the line of invalid UTF-8 or JSON; a byte-order mark is fine
    try:
        config = config_from_dict(MineConfig, document["config"])
    except (KeyError, TypeError) as err:
        raise ConfigError(f"{path}: not a negmine mining summary with a 'config' object ({err})") from None
    check_relative_data_paths(config, path)
    return without_unused(config)


DATA_PATH_FIELDS = ("data_dir", "corpus", "queries", "qrels", "pairs")


def check_relative_data_paths(config: MineConfig, summary: Path) -> None:
    """ConfigError when a data path the summary records as typed, relative to the folder ``negmine mine`` ran in,
    is not found from this one: re-mining failed with only ``pairs.csv: pairs file not found``, which named
    neither the summary it came from nor the fix."""
    for name in DATA_PATH_FIELDS:
        value = getattr(config.data, name)
        if value is not None and not Path(value).is_absolute() and not Path(value).exists():
            raise ConfigError(
                f"{summary}: re-mining reads data.{name} {str(value)!r} as the mining run recorded it, relative to "
                f"the folder that run started in, and {Path.cwd()} has no such path; run negmine train from that "
                "folder, or pass --mine-summary (load_mine_config(mined, summary=...)) with a copy of the summary "
                "whose data paths are absolute"
            )


RUN_ONLY_ENCODER_FIELDS = ("show_progress", "device")
"""Encoder settings of a recorded mining configuration that say how that mining run ran, not what re-mining runs:
re-mining's pipeline draws no progress bar (:func:`negmine.train.pipeline_miner.pipeline_miner`) and runs a torch
encoder's judges on the training run's ``device`` (:meth:`negmine.config.TrainConfig.remine_config`; an onnx
encoder runs on the CPU), which the training record holds at its top level. Copied into ``negmine_train.json``,
they made the records of two runs on the same data and settings differ (the file mined with and without
``--no-progress``), so model reuse by record (``benchmarks/train_scifact.py``) retrained."""


def without_run_only(config: Mapping) -> dict:
    """A :class:`~negmine.config.TrainConfig` as JSON (``asdict``), or the ``config`` of a ``negmine_train.json``,
    with its ``mine`` section's :data:`RUN_ONLY_ENCODER_FIELDS` left out: what the training record holds. Records
    written before they were left out compare equal through it too."""
    mine = config.get("mine")
    encoder = mine.get("encoder") if isinstance(mine, Mapping) else None
    if not isinstance(encoder, Mapping):
        return dict(config)
    encoder = {key: value for key, value in encoder.items() if key not in RUN_ONLY_ENCODER_FIELDS}
    return {**config, "mine": {**mine, "encoder": encoder}}
