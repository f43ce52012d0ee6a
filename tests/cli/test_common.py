from __future__ import annotations

from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.cli.common import ENCODER_OPTIONS, SHARED_OPTIONS, encoder_options, shared_option
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


@pytest.mark.parametrize(("command", "left_out"), [("mine", set()), ("eval", {"model"}), ("audit", {"batch_size"})])
def test_encoding_commands_offer_every_encoder_option_but_their_own_meanings(command, left_out):
    names = {param.name for param in _commands()[command].params}
    assert set(ENCODER_OPTIONS) - left_out <= names
    assert "encoder" not in names


def _decorated_app(received: list) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @encoder_options(exclude=("batch_size",))
    def run(encoder: EncoderConfig, name: str = typer.Option("x"), progress: bool = shared_option("progress")):
        received.append((encoder, name, progress))

    return app


def test_encoder_options_arrive_as_one_encoder_config():
    received: list = []
    result = runner.invoke(_decorated_app(received), [
        "--name", "y", "--model", "m", "--query-prompt", "q: ", "--max-length", "7", "--no-cache",
        "--precision", "fp32", "--no-progress", "--cache-dir", "c",
    ])
    assert result.exit_code == 0, result.output
    [(encoder, name, progress)] = received
    assert encoder == EncoderConfig(model="m", query_prompt="q: ", max_length=7, use_cache=False, precision="fp32",
                                    show_progress=False, cache_dir=Path("c"))
    assert (name, progress) == ("y", False)


def test_excluded_encoder_option_is_not_offered_and_keeps_the_config_default():
    received: list = []
    result = runner.invoke(_decorated_app(received), ["--batch-size", "8"])
    assert result.exit_code == 2 and "No such option" in result.output
    assert runner.invoke(_decorated_app(received), []).exit_code == 0
    assert received[0][0].batch_size == EncoderConfig().batch_size


def test_encoder_options_reject_a_command_that_declares_one_itself():
    def command(encoder: EncoderConfig, precision: str = "fp32"):
        return None

    with pytest.raises(TypeError, match=r"command declares precision itself; pass exclude=\('precision',\)"):
        encoder_options()(command)


def test_encoder_options_need_the_encoder_parameter_and_known_names():
    with pytest.raises(TypeError, match="must take an `encoder: EncoderConfig` parameter"):
        encoder_options()(lambda name="x": None)
    with pytest.raises(KeyError, match="not encoder options: modle; choose from model, query_prompt"):
        encoder_options(exclude=("modle",))


@pytest.mark.parametrize(
    "error", [IsADirectoryError(21, "Is a directory", "runs"), PermissionError(13, "Permission denied", "x")]
)
def test_user_errors_reports_os_errors_about_a_path_as_one_line(error, capsys):
    from negmine.cli.common import user_errors

    with pytest.raises(typer.Exit) as info, user_errors():
        raise error
    assert info.value.exit_code == 2
    assert capsys.readouterr().err == f"error: {error.filename}: {error.strerror}\n"


def test_user_errors_keeps_the_traceback_of_os_errors_without_a_path():
    from negmine.cli.common import user_errors

    with pytest.raises(PermissionError), user_errors():
        raise PermissionError("not about a file")
