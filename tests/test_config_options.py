"""negmine.config_options: the option -> field tables behind "did you mean 'learning_rate' (the field --lr sets)?",
checked against the typer commands so that they cannot drift from the CLI."""

from __future__ import annotations

import dataclasses

import pytest
import typer
import typer.main

from negmine import config as config_module
from negmine.config_options import ARGUMENTS, COMMANDS as CONFIG_COMMANDS, NOT_FIELDS, option_tables
from negmine.errors import ConfigError

COMMANDS = {command: config for config, command in CONFIG_COMMANDS.items()}


def test_each_command_s_config_has_a_table():
    assert sorted(COMMANDS) == ["audit", "eval", "mine", "train"] and set(CONFIG_COMMANDS) == set(option_tables())


def _command_params(name: str) -> dict:
    from negmine.cli import build_app

    group = typer.main.get_command(build_app())
    command = group.get_command(typer.Context(group), name)
    return {p.name: p for p in command.params}


def _has_field(cls: type, path: str) -> bool:
    head, _, rest = path.partition(".")
    kinds = config_module._field_kinds(cls)
    if head not in kinds:
        return False
    return not rest or (isinstance(kinds[head], type) and dataclasses.is_dataclass(kinds[head])
                        and _has_field(kinds[head], rest))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_of_a_command_is_a_field_of_its_config_or_in_the_table(command):
    config = getattr(config_module, COMMANDS[command])
    table = option_tables()[COMMANDS[command]]
    params = _command_params(command)
    assert sorted(set(table) - set(params)) == [], "table options the command does not have"
    assert sorted(p for p, path in table.items() if not _has_field(config, path)) == [], "no such field"
    uncovered = [p for p in params if p not in table and p not in config_module._field_kinds(config)
                 and p not in NOT_FIELDS.get(COMMANDS[command], ())]
    assert uncovered == [], f"options of negmine {command} that are no {config.__name__} field: add them to the table"
    for name in table:  # the message names the option as the command's help does
        if params[name].param_type_name == "argument":
            assert ARGUMENTS[name] == f"the {name.upper()} argument"
        else:
            assert params[name].opts[0] == "--" + name.replace("_", "-")


def test_the_near_duplicate_options_set_mines_exclusion_and_audits_judge():
    tables = option_tables()
    assert tables["MineConfig"]["near_dup_shingle"] == "near_dup.shingle"
    assert tables["MineConfig"]["near_dup_threshold"] == "near_dup.cosine"
    assert tables["AuditConfig"]["near_dup_shingle"] == "judges.near_dup.shingle"


def test_an_options_name_given_as_a_keyword_suggests_the_field_it_sets():
    """``TrainConfig(lr=1e-4)`` got no suggestion at all: no field is close to 'lr'."""
    from negmine.config import DevEvalConfig, EncoderConfig, EvalConfig, MineConfig, RetrieveConfig, TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(lr=1e-4)
    assert isinstance(info.value, TypeError)
    assert str(info.value).startswith("TrainConfig has no field 'lr' ('lr': did you mean 'learning_rate' (the field "
                                      "--lr sets)?); its fields: train_file, output_dir, ")
    cases = [
        (lambda: TrainConfig(eval_steps=100), "TrainConfig has no field 'eval_steps' ('eval_steps': did you mean "
         "'dev.steps' (the field --eval-steps sets: dev=DevEvalConfig(steps=...))?); "),
        (lambda: DevEvalConfig(eval_steps=100), "DevEvalConfig has no field 'eval_steps' ('eval_steps': did you mean "
         "'steps' (the field --eval-steps sets)?); "),
        (lambda: TrainConfig(output="out"), "TrainConfig has no field 'output' ('output': did you mean 'output_dir' "
         "(the field --output sets)?); "),
        (lambda: RetrieveConfig(retriever="bm25"), "RetrieveConfig has no field 'retriever' ('retriever': did you "
         "mean 'method' (the field --retriever sets)?); "),
        (lambda: EncoderConfig(cache=False), "EncoderConfig has no field 'cache' ('cache': did you mean 'use_cache' "
         "(the field --cache sets)?); "),
        (lambda: EvalConfig(run=("a.trec",)), "EvalConfig has no field 'run' ('run': did you mean 'run_files' (the "
         "field --run sets)?); "),
        (lambda: MineConfig(num_negatives=3), "MineConfig has no field 'num_negatives' ('num_negatives': did you mean "
         "'select.num_negatives' (the field --num-negatives sets: select=SelectConfig(num_negatives=...))?); "),
        (lambda: MineConfig(data_dir="beir"), "MineConfig has no field 'data_dir' ('data_dir': did you mean "
         "'data.data_dir' (the field the DATA_DIR argument sets: data=DataConfig(data_dir=...))?); "),
    ]
    _assert_unknown_field_messages(cases)


def test_an_option_of_another_command_names_the_config_it_sets():
    """``--eval-steps`` is negmine train's: EvalConfig(eval_steps=...) named no field at all."""
    from negmine.config import EvalConfig, SelectConfig

    with pytest.raises(ConfigError) as info:
        EvalConfig(eval_steps=100)
    assert str(info.value).startswith("EvalConfig has no field 'eval_steps' ('eval_steps': did you mean TrainConfig's "
                                      "'dev.steps' (--eval-steps is an option of negmine train)?); its fields: ")
    with pytest.raises(ConfigError) as info:
        SelectConfig(lr=1e-4)
    assert str(info.value).startswith("SelectConfig has no field 'lr' ('lr': did you mean TrainConfig's "
                                      "'learning_rate' (--lr is an option of negmine train)?); ")
    with pytest.raises(ConfigError) as info:  # a typo of a field of its own comes first
        EvalConfig(model_s=("m",))
    assert str(info.value).startswith("EvalConfig has no field 'model_s' ('model_s': did you mean 'models'?); ")


def test_a_field_of_another_commands_config_names_every_config_that_has_it():
    """EvalConfig(num_negatives=...) was told only "did you mean MineConfig's 'select.num_negatives'", though negmine
    train's TrainConfig.num_negatives takes the name too; AuditConfig(num_negatives=...) "did you mean
    'ntuple_negatives'?", an unrelated field of its own; EvalConfig(learning_rate=...) and TrainConfig(metrics=...)
    nothing at all."""
    from negmine.config import (AuditConfig, EvalConfig, FilterConfig, OutputConfig, RetrieveConfig, SelectConfig,
                                TrainConfig)

    num_negatives = ("a field of MineConfig.select / SelectConfig (negmine mine --num-negatives) and TrainConfig "
                     "(negmine train --num-negatives), not of ")
    cases = [
        (lambda: EvalConfig(num_negatives=5), "EvalConfig has no field 'num_negatives' ('num_negatives': "
         + num_negatives + "EvalConfig); its fields: "),
        (lambda: AuditConfig(num_negatives=5), "AuditConfig has no field 'num_negatives' ('num_negatives': "
         + num_negatives + "AuditConfig); its fields: "),
        (lambda: EvalConfig(learning_rate=1e-4), "EvalConfig has no field 'learning_rate' ('learning_rate': a field "
         "of TrainConfig (negmine train --lr), not of EvalConfig); "),
        (lambda: TrainConfig(metrics=("map",)), "TrainConfig has no field 'metrics' ('metrics': a field of EvalConfig "
         "(negmine eval --metrics), not of TrainConfig); "),
        (lambda: SelectConfig(depth=50), "SelectConfig has no field 'depth' ('depth': a field of MineConfig.retrieve "
         "/ RetrieveConfig (negmine mine --depth), MineConfig.denoise / DenoiseConfig (negmine mine --denoise-depth), "
         "AuditConfig (negmine audit --depth) and EvalConfig (negmine eval --depth), not of SelectConfig); "),
        (lambda: TrainConfig(block_size=8), "TrainConfig has no field 'block_size' ('block_size': a field of "
         "MineConfig.retrieve / RetrieveConfig (no command-line option), not of TrainConfig); "),
        # a field of another part of the same command's config (a session trial reported these as unhinted)
        (lambda: OutputConfig(show_progress=False), "OutputConfig has no field 'show_progress' ('show_progress': a "
         "field of MineConfig.encoder / EncoderConfig (negmine mine --progress), "),
        (lambda: RetrieveConfig(num_negatives=3), "RetrieveConfig has no field 'num_negatives' ('num_negatives': "
         + num_negatives + "RetrieveConfig); "),
        (lambda: FilterConfig(strategy="random"), "FilterConfig has no field 'strategy' ('strategy': a field of "
         "MineConfig.select / SelectConfig (negmine mine --strategy), not of FilterConfig); "),
    ]
    _assert_unknown_field_messages(cases)


def test_a_field_of_a_nested_config_suggests_its_path():
    """TrainConfig(steps=...) got no hint: no top-level field is close to 'steps', and no option is called so."""
    from negmine.config import MineConfig, TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(steps=100)
    assert str(info.value).startswith("TrainConfig has no field 'steps' ('steps': did you mean 'dev.steps' "
                                      "(dev=DevEvalConfig(steps=...))?); its fields: ")
    with pytest.raises(ConfigError) as info:
        MineConfig(cosine=0.9)
    assert str(info.value).startswith("MineConfig has no field 'cosine' ('cosine': did you mean 'near_dup.cosine' "
                                      "(near_dup=NearDupConfig(cosine=...)) or 'denoise.judges.near_dup.cosine' "
                                      "(denoise=DenoiseConfig(judges=JudgeConfig(near_dup=NearDupConfig(cosine=...))))?); ")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_a_field_hint_names_is_an_option_of_that_command(command):
    """The hints name the option that sets each field (:func:`negmine.config_options.field_homes`): the table's, or
    for a top-level field the option of its name; each must exist, so a field added without an option fails here."""
    from negmine.config_options import _field_paths, _option_setting

    config, params = getattr(config_module, COMMANDS[command]), _command_params(command)
    shown = {opt: name for name, param in params.items() for opt in param.opts if param.param_type_name == "option"}
    shown.update({ARGUMENTS[name]: name for name, param in params.items() if param.param_type_name == "argument"})
    names = {name for cls in vars(config_module).values() if isinstance(cls, type) and dataclasses.is_dataclass(cls)
             and issubclass(cls, config_module.ConfigFields) for name in config_module._field_kinds(cls)}
    named = {path: _option_setting(COMMANDS[command], path) for name in names for path in _field_paths(config, name)}
    assert len(named) > 10 and sorted(path for path, option in named.items()
                                      if option is not None and option not in shown) == []


def _assert_unknown_field_messages(cases) -> None:
    """Each ``build`` raises an UnknownFieldError (a ConfigError and a TypeError) whose message starts so."""
    for build, message in cases:
        with pytest.raises(ConfigError) as info:
            build()
        assert isinstance(info.value, TypeError)
        assert str(info.value).startswith(message)
