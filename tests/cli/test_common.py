from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.cli.common import SHARED_OPTIONS, shared_option
from negmine.config import UNKNOWN_QRELS, DataConfig, EncoderConfig

runner = CliRunner()
ENCODER_FIELD = {"cache": "use_cache", "progress": "show_progress"}
DATA_OPTIONS = {"unknown_qrels"}  # shared options that map onto DataConfig (the others: EncoderConfig)
# same name, another meaning: eval's repeatable --model list, audit's rows judged per batch, train's pairs per batch
OWN_MEANING = {("eval", "model"), ("audit", "batch_size"), ("train", "batch_size")}


def _commands() -> dict[str, click.Command]:
    return typer.main.get_command(build_app()).commands


def test_every_command_uses_the_one_definition_of_a_shared_option():
    seen = set()
    for command in _commands().values():
        for param in command.params:
            spec = SHARED_OPTIONS.get(param.name)
            if spec is None or (command.name, param.name) in OWN_MEANING:
                continue
            seen.add(param.name)
            assert (param.default, param.help, param.rich_help_panel) == (spec.default, spec.help, spec.panel), (
                f"{command.name} --{param.name} differs from cli.common.SHARED_OPTIONS[{param.name!r}]"
            )
    assert seen == set(SHARED_OPTIONS)


def test_shared_defaults_match_their_config_field():
    for name, spec in SHARED_OPTIONS.items():
        defaults = DataConfig() if name in DATA_OPTIONS else EncoderConfig()
        assert spec.default == getattr(defaults, ENCODER_FIELD.get(name, name)), name


@pytest.mark.parametrize("command", ["mine", "eval", "audit"])
def test_beir_commands_offer_unknown_qrels_with_its_choices(command):
    option = next(p for p in _commands()[command].params if p.name == "unknown_qrels")
    assert option.opts == ["--unknown-qrels"] and option.default == "error"
    assert f"{' | '.join(UNKNOWN_QRELS)}" in option.help


def test_unknown_shared_option_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="precisoin"):
        shared_option("precisoin")


@pytest.mark.parametrize("command", ["mine", "eval", "audit"])
def test_encoding_commands_offer_backend_and_quantize(command):
    names = {param.name for param in _commands()[command].params}
    assert {"backend", "quantize", "precision", "cache_dir", "cache", "progress"} <= names


def test_no_command_has_a_double_negative_flag():
    for command in _commands().values():
        for param in command.params:
            flags = [*param.opts, *param.secondary_opts]
            assert not any(f.startswith("--no-no-") for f in flags), f"{command.name}: {flags}"
