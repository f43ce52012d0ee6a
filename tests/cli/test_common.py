from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Annotated

import click
import pytest
import typer
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.cli.common import (
    DEVICE_HELP, ENCODER_OPTIONS, SHARED_OPTIONS, TUNING_PANEL, Progress, encoder_options, shared_type,
)
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
            own = DEVICE_HELP[command.name] if param.name == "device" else spec.help  # what it drives there
            assert (param.default, param.help, param.rich_help_panel) == (spec.default, own, spec.panel), (
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
        shared_type("precisoin", str)


@pytest.mark.parametrize("command", ["mine", "eval", "audit"])
def test_encoding_commands_offer_backend_and_quantize(command):
    names = {param.name for param in _commands()[command].params}
    assert {"backend", "quantize", "precision", "cache_dir", "cache", "progress"} <= names


@pytest.mark.parametrize("command", ["mine", "eval", "audit"])
def test_quantize_help_says_int8_encodes_one_text_per_pass(command):
    """It said int8 vectors depend on the texts in their batch and advised --batch-size 1; int8 now runs one text
    per pass at any batch size, so the help says its vectors do not depend on the others, and what it costs."""
    (param,) = [p for p in _commands()[command].params if p.name == "quantize"]
    assert ("activations are quantised per forward pass, so int8 encodes one text per pass whatever the batch size, "
            "and a text's vector does not depend on the texts encoded with it (a partly cached run writes the cold run's "
            "file); against batches of 64 it measured about as fast on long texts, up to 2x slower on short "
            "ones") in param.help
    assert "--batch-size 1" not in param.help


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
    def run(encoder: EncoderConfig, name: str = typer.Option("x"), progress: Progress = True):
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


Fast = Annotated[int, typer.Option(rich_help_panel=TUNING_PANEL)]


def test_encoder_options_go_before_the_tuning_options_declared_either_way():
    """The Tuning panel shows last: a command's own Tuning options follow the encoder options the decorator adds,
    whether declared ``name: Annotated[int, typer.Option(...)] = 1`` or ``name: int = typer.Option(1, ...)``."""
    @encoder_options()
    def command(encoder: EncoderConfig, fast: Fast = 1, slow: int = typer.Option(2, rich_help_panel=TUNING_PANEL),
                name: str = "x"):
        return None

    names = list(inspect.signature(command).parameters)
    assert names[:1] == ["name"] and names[-2:] == ["fast", "slow"] and set(names[1:-2]) == set(ENCODER_OPTIONS)


@pytest.mark.parametrize("command", ["mine", "audit"])
def test_the_tuning_panel_is_the_last_of_a_command(command):
    """rich orders the panels of `--help` by their first option: a Tuning option before the others would show its
    speed / memory knobs above the options most runs set."""
    panels = [param.rich_help_panel for param in _commands()[command].params]
    first = panels.index(TUNING_PANEL)
    assert all(panel == TUNING_PANEL for panel in panels[first:]), panels


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
    with pytest.raises(KeyError, match="not encoder options: devcie; choose from model, query_prompt"):
        encoder_options(helps={"devcie": "torch device"})


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


def test_choices_lists_the_values_with_their_notes_and_refuses_a_note_for_a_value_not_allowed():
    from negmine.cli.common import choices

    assert choices(("a", "b"), {"b": "the second"}) == "a | b (the second)"
    with pytest.raises(KeyError, match="notes for values not allowed: c; allowed: a, b"):
        choices(("a", "b"), {"c": "gone"})


def _choice_options():
    from negmine import config as C
    from negmine.export.registry import export_format_names
    from negmine.select.strategy import strategy_names

    yield from [("mine", "retriever", C.RETRIEVERS), ("mine", "fusion", C.FUSIONS), ("mine", "fallback", C.FALLBACKS),
                ("mine", "strategy", tuple(strategy_names())), ("mine", "margin_from", C.MARGIN_FROM),
                ("mine", "judge", C.JUDGE_NAMES), ("mine", "engine", C.ENGINES), ("mine", "index", C.INDEXES),
                ("mine", "export", tuple(export_format_names())), ("mine", "export_as", C.EXPORT_FILE_TYPES),
                ("audit", "judge", C.JUDGE_NAMES), ("audit", "export", tuple(export_format_names())),
                ("audit", "export_as", C.EXPORT_FILE_TYPES), ("audit", "false_negative_policy", C.FALSE_NEGATIVE_POLICIES),
                ("audit", "positive_policy", C.POSITIVE_POLICIES), ("train", "loss", C.TRAIN_LOSSES),
                ("train", "hardness", C.TRAIN_HARDNESS), ("train", "direction", C.TRAIN_DIRECTIONS),
                ("train", "partition_mode", C.TRAIN_PARTITION_MODES), ("train", "batching", C.TRAIN_BATCHINGS),
                ("eval", "stat_test", C.STAT_TESTS), ("eval", "correction", C.CORRECTIONS)]
    for command in ("mine", "audit", "train", "eval"):
        yield (command, "precision", C.PRECISIONS)
    for command in ("mine", "audit", "eval"):
        yield from [(command, "backend", C.BACKENDS), (command, "quantize", C.QUANTIZATIONS)]


@pytest.mark.parametrize("command,option,values", list(_choice_options()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_choice_option_names_every_value_its_config_accepts(command, option, values):
    """`negmine audit --help` did not say which --export formats exist ("as negmine mine --export")."""
    import re

    (param,) = [p for p in _commands()[command].params if p.name == option]
    missing = [v for v in values if not re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", param.help)]
    assert not missing, f"negmine {command} --{option.replace('_', '-')} help does not name {missing}: {param.help!r}"


NO_DEFAULT_TO_STATE = {
    ("mine", "corpus"), ("mine", "queries"), ("mine", "qrels"), ("mine", "pairs"), ("mine", "no_fallback"),
    ("mine", "denoise"), ("mine", "cross_encoder"), ("mine", "teacher"), ("mine", "export"), ("audit", "cross_encoder"),
    ("audit", "teacher"), ("audit", "export"), ("train", "output"), ("train", "no_checkpoints"), ("train", "resume"),
    ("train", "eval_data"), ("train", "keep_best"), ("eval", "run"),
}
"""Inputs, on-switches and repeatable lists that are simply absent unless given."""


def test_every_option_whose_default_is_not_shown_states_it():
    """An option left unset must say what happens then (a window, a length, a size, off): typer prints
    `[default: ...]` only for options whose default is a value."""
    unstated, checked = [], False
    for name, command in _commands().items():
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help" or (name, param.name) in NO_DEFAULT_TO_STATE:
                continue
            shown = param.default not in (None, [], ()) and not (param.is_flag and not param.secondary_opts)
            if not shown and not any(word in (param.help or "") for word in ("default", "off", "auto-detected")):
                unstated.append(f"{name} --{param.name.replace('_', '-')}")
            checked = True
    assert checked and not unstated


@pytest.mark.parametrize("command", ["mine", "audit"])
def test_the_judge_options_are_the_one_definition_with_judge_config_defaults(command):
    from negmine.cli.common import JUDGE_OPTIONS, NEAR_DUP_TUNING
    from negmine.config import JudgeConfig, NearDupConfig

    params = {p.name: p for p in _commands()[command].params}
    for name, (field, spec) in JUDGE_OPTIONS.items():
        assert spec.default == getattr(JudgeConfig(), field), name
        assert (params[name].default, params[name].help) == (spec.default, spec.help), f"{command} --{name}"
    for name, (field, spec) in NEAR_DUP_TUNING.items():
        assert spec.default == getattr(NearDupConfig(), field), name
        assert (params[name].default, params[name].help) == (spec.default, spec.help), f"{command} --{name}"


def test_command_lists_give_each_command_one_line():
    """`negmine --help` listed report's summary as two lines broken mid-sentence ('... or a training' / 'run's loss
    ...'), and `negmine cache --help` list's and prune's as three: typer (0.29) lists a docstring's first paragraph
    with its line breaks. Each command's help now has no line break inside a paragraph, and a summary that fits a
    line of the list."""
    root = typer.main.get_command(build_app())
    commands = [*root.commands.values(), *root.commands["cache"].commands.values()]
    assert len(commands) == 8  # five commands, the cache group and its two
    for command in commands:
        paragraphs = command.help.split("\n\n")
        assert all("\n" not in paragraph for paragraph in paragraphs), (command.name, command.help)
        assert len(paragraphs[0]) <= 110, (command.name, paragraphs[0])


@pytest.mark.parametrize("args", [["mine"], ["audit"], ["train"], ["eval"], ["report"], ["cache", "list"],
                                  ["cache", "prune"]])
def test_a_commands_help_wraps_its_paragraphs_at_the_terminal_width(args):
    """The help kept the docstring's source line breaks after its first paragraph (`negmine audit --help`: '... a
    mined' / 'file's scores ...' at any width): each paragraph is one line for the terminal to wrap."""
    command = typer.main.get_command(build_app())
    for name in args:
        command = command.commands[name]
    result = runner.invoke(build_app(), [*args, "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert result.exit_code == 0, result.output
    shown = {line.strip() for line in result.output.splitlines()}
    paragraphs = [" ".join(p.split()) for p in inspect.cleandoc(command.callback.__doc__).split("\n\n")]
    assert all(paragraph in shown for paragraph in paragraphs), result.output


DEVICE_SHOWN = {
    "mine": "torch device that encodes with --model and, with --denoise, runs the --cross-encoder and --teacher PATH "
            "judges: cpu | cuda | cuda:N | mps; --backend onnx runs on the CPU [default: cpu]",
    "audit": "torch device that encodes with --model (a BEIR directory's candidates, the near-duplicate cosines) and "
             "runs the --cross-encoder and --teacher PATH judges: cpu | cuda | cuda:N | mps; --backend onnx runs on the "
             "CPU [default: cpu]",
    "eval": "torch device that encodes the queries and the corpus with each --model: cpu | cuda | cuda:N | mps; "
            "--backend onnx runs on the CPU [default: cpu]",
    "train": "torch device that trains the model, and with it --batching topic clustering, --eval-data dev evaluation "
             "and re-mining (its encoding and the --denoise judges it repeats): cpu | cuda | cuda:N | mps; one visible "
             "GPU: pick it with CUDA_VISIBLE_DEVICES [default: cpu]",
}


@pytest.mark.parametrize("command", list(DEVICE_SHOWN))
def test_each_commands_device_help_says_what_it_drives_there(command):
    """One shared --device help said '(and runs mine's and audit's --cross-encoder judge, and negmine train's
    training) ...; negmine train: one visible GPU' in every command: train's talked of mine's and audit's judges,
    eval's of judges and training it has not."""
    result = runner.invoke(build_app(), [command, "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert result.exit_code == 0, result.output
    (line,) = [" ".join(line.strip(" │").split()) for line in result.output.splitlines() if "--device" in line]
    assert line.split(maxsplit=2)[2] == DEVICE_SHOWN[command], line


@pytest.mark.parametrize(("stopped", "text"), [
    ((1, 0, 8192, 1), "; it stopped in encode corpus with 0 of 1 shard finished (up to 8,192 texts each): the 1 text "
                      "it encoded in unfinished shards is encoded again"),
    ((3, 1, 100, 2), "; it stopped in encode corpus with 1 of 3 shards finished (up to 100 texts each): the 2 texts it "
                     "encoded in unfinished shards are encoded again"),
])
def test_the_stopped_encoding_clause_agrees_with_its_counts(stopped, text):
    """'0 of 1 shards finished', 'the 1 texts ... are' until 2026-12-07."""
    from negmine.cli.common import encoding_stopped
    from negmine.engine.encode_shards import EncodingStopped

    assert encoding_stopped(EncodingStopped("encode corpus", *stopped)) == text
