"""CLI defaults must equal the config defaults they map onto, so `negmine mine ...` and `mine(MineConfig())`
do the same thing and a changed config default cannot silently drift from the command line."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import negmine.config as C
from negmine.cli import audit_cmd, eval_cmd, mine_cmd, train_cmd

COMMANDS = {
    "mine": (mine_cmd.mine_command, (C.DataConfig, C.RetrieveConfig, C.FilterConfig, C.SelectConfig,
                                     C.NearDupConfig, C.EngineConfig, C.OutputConfig)),
    "train": (train_cmd.train_command, (C.TrainConfig, C.DevEvalConfig)),
    "eval": (eval_cmd.eval_command, (C.EvalConfig,)),
    "audit": (audit_cmd.audit_command, (C.AuditConfig, C.JudgeConfig, C.NearDupConfig)),
}
RENAMED = {("train", "lr"): (C.TrainConfig, "learning_rate"), ("mine", "denoise_depth"): (C.DenoiseConfig, "depth"),
           ("train", "eval_split"): (C.DevEvalConfig, "split"), ("train", "eval_steps"): (C.DevEvalConfig, "steps"),
           ("train", "eval_max_documents"): (C.DevEvalConfig, "max_documents")}
"""CLI option -> (config, field) where the names differ."""
DIFFERENT_MEANING = {("train", "train_file"), ("eval", "split"), ("eval", "metrics"), ("audit", "flags")}
"""Same name, different thing: a required argument, a per-command default split, a repeatable list option
whose empty default means "the config's default list", an output path derived from another option."""


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()  # type: ignore[misc]


def _pairs():
    """(command, CLI parameter, config class, config field) for every option that maps onto a field."""
    for command, (fn, configs) in COMMANDS.items():
        fields = {}
        for config in reversed(configs):  # the first config listed wins a name clash
            fields.update({f.name: (config, f) for f in dataclasses.fields(config)})
        for param in inspect.signature(fn).parameters.values():
            if (command, param.name) in DIFFERENT_MEANING:
                continue
            if (command, param.name) in RENAMED:
                config, name = RENAMED[command, param.name]
                yield command, param, config, config.__dataclass_fields__[name]
            elif param.name in fields:
                yield command, param, *fields[param.name]


def test_the_mapping_covers_the_main_options():
    names = {(command, param.name) for command, param, _, _ in _pairs()}
    for expected in [("train", "lr"), ("train", "fn_margin"), ("train", "batch_size"), ("mine", "relative_margin"),
                     ("mine", "num_negatives"), ("mine", "depth"), ("mine", "denoise_depth"), ("audit", "min_votes"),
                     ("mine", "export_as"), ("audit", "export_as"), ("train", "eval_split"), ("train", "keep_best")]:
        assert expected in names


@pytest.mark.parametrize("command,param,config,field", list(_pairs()), ids=lambda x: getattr(x, "name", str(x)))
def test_cli_default_equals_config_default(command, param, config, field):
    cli = getattr(param.default, "default", param.default)
    wanted = _default(field)
    if isinstance(wanted, tuple) and isinstance(cli, list):
        wanted = list(wanted)
    assert cli == wanted, f"negmine {command} --{param.name.replace('_', '-')} defaults to {cli!r}, {config.__name__}.{field.name} to {wanted!r}"
