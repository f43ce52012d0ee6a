"""CLI defaults must equal the config defaults they map onto, so `negmine mine ...` and `mine(MineConfig())`
do the same thing and a changed config default cannot silently drift from the command line."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from pathlib import Path

import pytest

import typer
from typer.models import ArgumentInfo, ParameterInfo

import negmine.config as C
from negmine.cli import audit_cmd, eval_cmd, mine_cmd, train_cmd

COMMANDS = {
    "mine": (mine_cmd.mine_command, (C.DataConfig, C.RetrieveConfig, C.FilterConfig, C.SelectConfig,
                                     C.NearDupConfig, C.EngineConfig, C.OutputConfig, C.JudgeConfig, C.EncoderConfig)),
    "train": (train_cmd.train_command, (C.TrainConfig, C.DevEvalConfig)),
    "eval": (eval_cmd.eval_command, (C.EvalConfig, C.EncoderConfig)),
    "audit": (audit_cmd.audit_command, (C.AuditConfig, C.JudgeConfig, C.NearDupConfig, C.EncoderConfig)),
}
RENAMED = {("train", "lr"): (C.TrainConfig, "learning_rate"), ("mine", "denoise_depth"): (C.DenoiseConfig, "depth"),
           ("train", "eval_split"): (C.DevEvalConfig, "split"), ("train", "eval_steps"): (C.DevEvalConfig, "steps"),
           ("train", "eval_max_documents"): (C.DevEvalConfig, "max_documents"),
           ("audit", "encode_batch_size"): (C.EncoderConfig, "batch_size"),
           ("mine", "cross_encoder_batch_size"): (C.JudgeConfig, "cross_encoder_batch_size"),
           **{(command, f"near_dup_{name}"): (C.NearDupConfig, name) for command in ("mine", "audit")
              for name in ("min_shared", "shingle", "num_perm")},
           **{(command, "cache"): (C.EncoderConfig, "use_cache") for command in ("mine", "eval", "audit")},
           **{(command, "progress"): (C.EncoderConfig, "show_progress") for command in ("mine", "eval", "audit")},
           ("train", "progress"): (C.TrainConfig, "show_progress"),
           ("mine", "strategy_param"): (C.SelectConfig, "strategy_params")}
"""CLI option -> (config, field) where the names differ."""
DIFFERENT_MEANING = {("train", "train_file"), ("eval", "split"), ("eval", "metrics"), ("audit", "flags"),
                     ("eval", "model")}
"""Same name, different thing: a required argument, a per-command default split, a repeatable list option
whose empty default means "the config's default list", an output path derived from another option, eval's
repeatable --model (EvalConfig.models, not its encoder's model)."""


def _typer_info(param: inspect.Parameter):
    """The ``typer.Option`` / ``typer.Argument`` of a command parameter, declared either way typer takes:
    ``name: Annotated[type, typer.Option(...)] = default`` or ``name: type = typer.Option(default, ...)``."""
    if typing.get_origin(param.annotation) is typing.Annotated:
        return next(m for m in typing.get_args(param.annotation)[1:] if isinstance(m, ParameterInfo))
    return param.default


def _type(param: inspect.Parameter):
    """The parameter's type, without its ``Annotated`` wrapper."""
    hint = param.annotation
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint


def _parameters(command: str) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(COMMANDS[command][0], eval_str=True).parameters)


@functools.cache
def _click_commands() -> dict:
    from negmine.cli import build_app

    return typer.main.get_command(build_app()).commands


def _click_param(command: str, name: str):
    """The click parameter typer built for the command's parameter ``name``."""
    (param,) = [p for p in _click_commands()[command].params if p.name == name]
    return param


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
        for param in _parameters(command).values():
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
                     ("mine", "export_as"), ("audit", "export_as"), ("train", "eval_split"), ("train", "keep_best"),
                     ("train", "device"), ("mine", "model"), ("mine", "min_votes"), ("audit", "cache"),
                     ("eval", "progress"), ("train", "progress")]:
        assert expected in names


@pytest.mark.parametrize("command,param,config,field", list(_pairs()), ids=lambda x: getattr(x, "name", str(x)))
def test_cli_default_equals_config_default(command, param, config, field):
    cli = _click_param(command, param.name).default  # what typer made of the declaration, either style
    wanted = _default(field)
    if isinstance(wanted, tuple) and isinstance(cli, list):
        wanted = list(wanted)
    assert cli == wanted, f"negmine {command} --{param.name.replace('_', '-')} defaults to {cli!r}, {config.__name__}.{field.name} to {wanted!r}"


PARSED_TYPE = {("train", "matryoshka_dims"): str, ("train", "matryoshka_weights"): str,
               ("mine", "strategy_param"): list[str], ("train", "attention_dropout"): str}
"""Options whose text the command parses into the field's type (comma-separated numbers; repeated NAME=VALUE
pairs; a name or a number), and the type the option takes."""


def _base_type(hint):
    """``X | None`` and ``Optional[X]`` -> ``X``; ``tuple[X, ...]`` -> ``list[X]`` (a repeatable option's list)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is tuple:
        hint = list[typing.get_args(hint)[0]]
    return hint


@pytest.mark.parametrize("command,param,config,field", list(_pairs()), ids=lambda x: getattr(x, "name", str(x)))
def test_cli_type_equals_config_type(command, param, config, field):
    """An option's type is its field's (nullability aside: None is an option left unset): an ``int`` option for a
    ``float`` field would refuse ``--dense-weight 0.5``, a ``str`` one would hand the config text."""
    cli = _base_type(_type(param))
    if (command, param.name) in PARSED_TYPE:
        assert cli == PARSED_TYPE[command, param.name], (
            f"negmine {command} --{param.name.replace('_', '-')} is parsed from text, typed {cli}")
    else:
        wanted = _base_type(typing.get_type_hints(config)[field.name])
        flag = f"--{param.name.replace('_', '-')}"
        assert cli == wanted, f"negmine {command} {flag} is {cli}, {config.__name__}.{field.name} {wanted}"


EXTRA_FLAGS = {("train", "lr"): ["--learning-rate"], **{(command, "output"): ["-o"] for command in COMMANDS},
               ("report", "output"): ["-o"]}
"""Flags besides ``--<name>``."""
PAIRED_FLAGS = {"cache", "progress", "html", "fn_mask", "keep_partial", "keep_work", "remine_every_epoch"}
"""Flags with a ``--no-<name>`` switch (the others, e.g. ``--denoise``, ``--no-sd-margin``, are one flag)."""


@pytest.mark.parametrize("command", [*COMMANDS, "report"])
def test_every_option_is_named_after_its_parameter(command):
    """``--<name>`` (and ``--no-<name>`` for PAIRED_FLAGS), besides EXTRA_FLAGS: the config field,
    the README and the option cannot go by different names through a flag spelled by hand."""
    for param in _click_commands()[command].params:
        if param.param_type_name != "option" or param.name == "help":
            continue
        flag = "--" + param.name.replace("_", "-")
        assert param.opts == [flag, *EXTRA_FLAGS.get((command, param.name), [])], (command, param.opts)
        off = [f"--no-{flag[2:]}"] if param.name in PAIRED_FLAGS else []
        assert param.secondary_opts == off, (command, param.secondary_opts)


def _captured(monkeypatch, tmp_path, args: list[str]):
    """The config (and the other arguments) ``negmine *args`` hands to the API function (faked: nothing runs)."""
    import negmine.audit.api
    import negmine.evaluate.api
    import negmine.pipeline.mine
    import negmine.train.preflight
    from typer.testing import CliRunner

    from negmine.cli import build_app

    seen = []

    class Captured(Exception):
        pass

    def capture(config, *rest, **kwargs):
        seen.append((config, rest + tuple(sorted(kwargs.items()))))
        raise Captured

    for module, name in ((negmine.pipeline.mine, "mine"), (negmine.audit.api, "run_audit"),
                         (negmine.train.preflight, "check_before_work"), (negmine.evaluate.api, "evaluate")):
        monkeypatch.setattr(module, name, capture)
    monkeypatch.chdir(tmp_path)
    Path("mined.jsonl").write_text("{}\n")
    Path("beir").mkdir(exist_ok=True)
    result = CliRunner().invoke(build_app(), args)
    assert isinstance(result.exception, Captured), result.output
    return seen[0]


@pytest.mark.parametrize("args,api", [
    (["mine", "beir"], lambda: (C.MineConfig(data=C.DataConfig(data_dir=Path("beir"))), ())),
    (["audit", "mined.jsonl"], lambda: (C.AuditConfig(input=Path("mined.jsonl"), **_AUDIT_PATHS), ())),
    (["audit", "beir"], lambda: (C.AuditConfig(input=Path("beir"), candidates=Path("audit/audit.candidates.jsonl"),
                                               **{k: Path("audit") / f"audit{v.name.removeprefix('mined')}"
                                                  for k, v in _AUDIT_PATHS.items()}), ())),
    (["train", "mined.jsonl", "-o", "model"], lambda: (C.TrainConfig(train_file=Path("mined.jsonl"),
                                                                     output_dir=Path("model")), ())),
    (["eval", "beir"], lambda: (C.EvalConfig(data_dir=Path("beir")), ())),
    (["eval", "beir", "--run", "r.trec"], lambda: (C.EvalConfig(data_dir=Path("beir"), run_files=(Path("r.trec"),)), ())),
], ids=["mine", "audit", "audit-beir", "train", "eval", "eval-run"])
def test_a_command_without_options_hands_the_api_its_default_config(monkeypatch, tmp_path, args, api):
    """The whole mapping, not only options named like fields: `negmine <command> INPUT` must run exactly what
    the README's Python `<function>(<Config>(input))` runs (audit: plus the output paths the command derives,
    README: `negmine.cli.audit_cmd.default_paths`)."""
    assert _captured(monkeypatch, tmp_path, args) == api()


_AUDIT_PATHS = {"output": Path("mined.clean.jsonl"), "flags": Path("mined.flags.jsonl"),
                "summary": Path("mined.audit-summary.json"), "report": Path("mined.report.html")}


_BASE = {"mine": ["mine", "beir"], "audit": ["audit", "mined.jsonl"], "train": ["train", "mined.jsonl", "-o", "model"],
         "eval": ["eval", "beir"]}
_CONTEXT = {("mine", "cross_encoder_batch_size"): ["--denoise", "--cross-encoder", "ce"],
            ("mine", "ray_address"): ["--engine", "ray"], ("mine", "ray_actors"): ["--engine", "ray"],
            ("mine", "ray_cpus_per_actor"): ["--engine", "ray"], ("mine", "no_fallback"): ["--fallback", "hybrid"],
            ("mine", "no_relative_margin"): ["--relative-margin", "0.05"], ("train", "no_fn_margin"): ["--fn-margin", "0.1"],
            ("mine", "fusion"): ["--retriever", "hybrid"], ("mine", "rrf_k"): ["--retriever", "hybrid"],
            ("mine", "dense_weight"): ["--retriever", "hybrid", "--fusion", "weighted"],
            ("mine", "simans_a"): ["--strategy", "simans"], ("mine", "simans_b"): ["--strategy", "simans"],
            ("mine", "denoise_depth"): ["--denoise"], ("mine", "denoise_full_depth"): ["--denoise"],
            ("mine", "export_as"): ["--export", "n-tuple"], ("mine", "ntuple_negatives"): ["--export", "n-tuple"],
            ("audit", "export_as"): ["--export", "n-tuple"], ("audit", "ntuple_negatives"): ["--export", "n-tuple"],
            ("mine", "export_scores"): ["--export", "n-tuple"], ("audit", "export_scores"): ["--export", "n-tuple"],
            ("mine", "export_scores_from"): ["--export", "n-tuple", "--export-scores"],
            ("audit", "export_scores_from"): ["--export", "n-tuple", "--export-scores"],
            ("audit", "cross_encoder_margin"): ["--cross-encoder", "ce"], ("audit", "teacher_margin"): ["--teacher", "t"],
            ("train", "mini_batch_size"): ["--loss", "cached-mnrl"], ("train", "topic_clusters"): ["--batching", "topic"],
            ("eval", "n_permutations"): ["--stat-test", "fisher"], ("eval", "seed"): ["--stat-test", "fisher"],
            ("mine", "query_column"): ["--pairs", "p.jsonl"], ("mine", "positive_column"): ["--pairs", "p.jsonl"],
            ("mine", "seed"): ["--strategy", "random"],
            ("train", "partition_mode"): ["--direction", "query_to_doc", "--direction", "doc_to_query"],
            ("train", "matryoshka_weights"): ["--matryoshka-dims", "8,4"],
            ("train", "matryoshka_dims_per_step"): ["--matryoshka-dims", "8,4"],
            **{("train", name): ["--distill", "kl"] for name in ("distill_weight", "distill_from", "distill_temperature")},
            ("audit", "cross_encoder_threshold"): ["--cross-encoder", "ce"], ("audit", "teacher_min_votes"): ["--teacher", "t"],
            ("audit", "teacher_max_words"): ["--teacher", "t"], ("audit", "teacher_query_prompt"): ["--teacher", "t"],
            ("audit", "teacher_document_prompt"): ["--teacher", "t"], ("audit", "cross_encoder_batch_size"): ["--cross-encoder", "ce"],
            **{("mine", name): ["--denoise"] for name in ("judge", "min_votes", "cross_encoder", "teacher")},
            **{("train", name): ["--eval-data", "beir"]
               for name in ("eval_split", "eval_steps", "eval_max_documents", "unknown_qrels", "keep_best")},
            **{("mine", name): ["--denoise", "--cross-encoder", "ce"]
               for name in ("cross_encoder_margin", "cross_encoder_threshold")},
            **{("mine", name): ["--denoise", "--teacher", "t"] for name in (
                "teacher_margin", "teacher_min_votes", "teacher_max_words", "teacher_query_prompt",
                "teacher_document_prompt")}}
"""Options that only act on another one: the test gives that one in both runs."""
_BASE_OF = {("audit", name): ["audit", "beir"]
            for name in ("split", "unknown_qrels", "query_prompt", "candidates", "work_dir")}
"""Options that act on one kind of input only: audit's qrels split, query prompt, candidates file and candidates'
work folder on a BEIR directory (for a mined file, whose rows hold their queries and scores, they are refused)."""


def _base(command: str, name: str) -> list[str]:
    return _BASE_OF.get((command, name), _BASE[command])
_VALUES = {"judge": "score", "direction": "doc_to_query", "export": "triplet", "metrics": "map", "run": "mine=r.trec",
           "teacher": "t", "model": "m", "split": "dev", "eval_split": "test", "matryoshka_dims": "8,4",
           "matryoshka_weights": "1,0.5", "unknown_qrels": "skip", "distill": "kl", "distill_from": "mining",
           "strategy_param": "x=1", "attention_dropout": "0.123"}
_PARSED = {("train", "matryoshka_dims"): (8, 4), ("train", "matryoshka_weights"): (1.0, 0.5),
           ("mine", "strategy_param"): (("x", "1"),), ("train", "attention_dropout"): 0.123}
"""Comma-separated options (and NAME=VALUE, a text for a name the strategy does not declare): the field value their
_VALUES entry gives."""
NOT_IN_THE_CONFIG = {("train", "remine_every_epoch"), ("train", "remine_steps"), ("train", "mine_summary")}
"""Re-mining reads the mined file's recorded MineConfig first (covered end to end in test_train_cmd.py)."""


def _options():
    import typer

    from negmine.cli import build_app

    for name, command in typer.main.get_command(build_app()).commands.items():
        for param in command.params:
            if name in _BASE and param.param_type_name == "option" and param.name != "help" \
                    and (name, param.name) not in NOT_IN_THE_CONFIG:
                yield name, param


def _other_value(command: str, param) -> list[str]:
    """Arguments that give ``param`` a value other than its default."""
    if param.is_flag:
        return [param.secondary_opts[0] if param.default and param.secondary_opts else param.opts[0]]
    hint = str(_type(_parameters(command)[param.name]))
    if param.name in _VALUES:
        value = _VALUES[param.name]
    elif "int" in hint:
        value = str((param.default or 0) + 2)
    elif "float" in hint:
        value = "0.123"
    elif "Path" in hint:
        value = "some.jsonl"
    else:
        value = "other"
    return [param.opts[0], value]


@pytest.mark.parametrize("command,param", list(_options()), ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_option_reaches_what_the_api_receives(monkeypatch, tmp_path, command, param):
    """No option does its work in the CLI layer only (or nowhere): giving it another value changes the config
    (or the other arguments) the command hands to the Python API."""
    context = _CONTEXT.get((command, param.name), [])
    default = _captured(monkeypatch, tmp_path, _base(command, param.name) + context)
    other = _other_value(command, param)
    assert _captured(monkeypatch, tmp_path, _base(command, param.name) + context + other) != default, (
        f"negmine {command} {' '.join(other)} hands the API the same config as without it")


def _find(config, cls):
    """The first ``cls`` instance in the (nested) dataclass ``config``, breadth first."""
    queue = [config]
    while queue:
        item = queue.pop(0)
        if isinstance(item, cls):
            return item
        queue += [getattr(item, f.name) for f in dataclasses.fields(item) if dataclasses.is_dataclass(getattr(item, f.name))]
    raise AssertionError(f"no {cls.__name__} in {type(config).__name__}")


_OPTION_PAIRS = [(command, param, config, field) for command, param, config, field in _pairs()
                 if not isinstance(_typer_info(param), ArgumentInfo) and (command, param.name) not in NOT_IN_THE_CONFIG]


@pytest.mark.parametrize("command,param,config,field", _OPTION_PAIRS, ids=lambda x: getattr(x, "name", str(x)))
def test_every_option_named_after_a_field_sets_that_field(monkeypatch, tmp_path, command, param, config, field):
    """Not only the default: the value given lands in the field the option is named after (a positional
    argument out of order in the command's config construction would send it to another field)."""
    click_param = _click_param(command, param.name)
    args = _other_value(command, click_param)
    context = _CONTEXT.get((command, param.name), [])
    captured, _ = _captured(monkeypatch, tmp_path, _base(command, param.name) + context + args)
    got = getattr(_find(captured, config), field.name)
    if click_param.is_flag:
        expected = not click_param.default
    else:
        hint = str(_type(param))
        kind = Path if "Path" in hint else int if "int" in hint else float if "float" in hint else str
        expected = kind(args[1])
        if "list" in hint:
            expected = (expected,)
        expected = _PARSED.get((command, param.name), expected)
    assert got == expected, f"negmine {command} {' '.join(args)} set {config.__name__}.{field.name} to {got!r}"


NO_OPTION = {
    ("mine", "retrieve.block_size"): "the documents per search shard when neither --shard-size nor --memory-budget "
                                     "is given: --shard-size sets those rows and overrides it, so a second option "
                                     "would be two names for one setting",
    ("mine", "denoise.judges.sd_margin"): "the score judge's margins act as the mining filters' margins (--sd-margin, "
                                          "--relative-margin, --absolute-margin), which the judged candidates passed",
    ("mine", "denoise.judges.relative_margin"): "as denoise.judges.sd_margin",
    ("mine", "denoise.judges.absolute_margin"): "as denoise.judges.sd_margin",
    **{("mine", f"denoise.judges.near_dup.{name}"): "near-duplicates are excluded before denoising by the mining "
       "near-duplicate test (--near-dup-*), which the judged candidates passed"
       for name in ("cosine", "overlap", "min_shared", "shingle", "num_perm")},
    **{("mine", f"denoise.judges.{name}"): "denoising drops false negatives only; noisy positives are the audit's "
       for name in ("positive_top_k", "positive_below_share", "positive_min_sources")},
    ("eval", "encoder.model"): "EvalConfig.models names the models (--model, repeatable); the encoder's own is unused",
    ("train", "mine"): "re-mining reads the mining configuration the mined file records (<mined>.summary.json, "
                       "or --mine-summary), not options",
}
"""(command, field path in the config the command hands the API) -> why no option sets that field."""
REACHED_ELSEWHERE = {("train", "remine_every_epoch"), ("train", "remine_steps")}
"""Set by the options of NOT_IN_THE_CONFIG (re-mining, covered end to end in test_train_cmd.py)."""
_ROOTS = {"mine": C.MineConfig, "audit": C.AuditConfig, "train": C.TrainConfig, "eval": C.EvalConfig}


WHOLE = {(C.TrainConfig, "mine")}
"""Nested configs taken as one field (TrainConfig.mine: a whole recorded MineConfig)."""


def _nested(cls, name: str):
    """The config class of field ``name`` of ``cls`` when it holds a nested config (optional or not), else None."""
    import typing

    if (cls, name) in WHOLE:
        return None
    hint = typing.get_type_hints(cls)[name]
    kinds = [k for k in typing.get_args(hint) or (hint,) if k is not type(None)]
    return kinds[0] if len(kinds) == 1 and dataclasses.is_dataclass(kinds[0]) else None


def _field_paths(cls, prefix: str = "") -> list[str]:
    """Every leaf field of the config class ``cls`` as a dotted path; nested configs (also optional ones) recursed."""
    out = []
    for f in dataclasses.fields(cls):
        nested = _nested(cls, f.name)
        out += _field_paths(nested, f"{prefix}{f.name}.") if nested else [f"{prefix}{f.name}"]
    return out


def _leaves(config, prefix: str = "") -> dict:
    """``{dotted path: value}`` of a config as :func:`_field_paths` names its fields; a nested config left None
    (TrainConfig.dev) counts as its defaults, so an option that sets one of its fields shows as that field."""
    out = {}
    for f in dataclasses.fields(config):
        item, nested = getattr(config, f.name), _nested(type(config), f.name)
        if nested:
            out.update(_leaves(nested() if item is None else item, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = item
    return out


def _compare(a, b) -> set[str]:
    """Dotted paths whose values differ between two configs of one class."""
    left, right = _leaves(a), _leaves(b)
    return {path for path in left if left[path] != right[path]}


@pytest.fixture(scope="module")
def reached(tmp_path_factory):
    """Per command, the config field paths some option (or the positional argument) changes."""
    out, defaults = {command: set() for command in _BASE}, {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        tmp = tmp_path_factory.mktemp("reach")
        for command, param in _options():
            args = _base(command, param.name) + _CONTEXT.get((command, param.name), [])
            if tuple(args) not in defaults:
                defaults[tuple(args)] = _captured(monkeypatch, tmp, args)[0]
            other, _ = _captured(monkeypatch, tmp, args + _other_value(command, param))
            out[command] |= _compare(defaults[tuple(args)], other)
        for command, base in _BASE.items():
            argument = base[:1] + ["other.jsonl" if base[1].endswith(".jsonl") else "other"] + base[2:]
            out[command] |= _compare(_captured(monkeypatch, tmp, base)[0], _captured(monkeypatch, tmp, argument)[0])
    return out


_FIELDS = [(command, path) for command, root in _ROOTS.items() for path in _field_paths(root)
           if (command, path) not in REACHED_ELSEWHERE]


@pytest.mark.parametrize("command,path", _FIELDS, ids=lambda x: x)
def test_every_config_field_has_an_option_or_a_reason(reached, command, path):
    """A field no option sets cannot be tuned from the command line (--query-batch-size, the MinHash parameters
    and others were API-only): each field the command's config holds has an option, or NO_OPTION says why not."""
    if (command, path) in NO_OPTION:
        assert path not in reached[command], f"negmine {command} has an option for {path}: drop it from NO_OPTION"
    else:
        assert path in reached[command], (
            f"no negmine {command} option sets {_ROOTS[command].__name__}.{path}: add one (Tuning panel) or list it "
            "in NO_OPTION with the reason")


def test_every_reason_names_a_field_of_the_command():
    paths = {(command, path) for command, root in _ROOTS.items() for path in _field_paths(root)}
    assert set(NO_OPTION) - paths == set()
