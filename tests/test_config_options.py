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
    for build, message in cases:
        with pytest.raises(ConfigError) as info:
            build()
        assert str(info.value).startswith(message)


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
