"""Shared CLI plumbing: the options several commands share (defined once here), and turning negmine
errors into one clear line and exit code 2.

Options are declared as ``name: Alias = default``, ``Alias`` an ``Annotated[type, typer.Option(...)]`` defined
once at module level (here for the shared options, in the command's module for its own): a command's signature
then holds one short item per option, and an option several commands share cannot drift apart in flags, help
or panel between them; ``--device``, which drives other things in each command, takes its help from
:data:`DEVICE_HELP` by command. The default stays with the command (typer takes it only from ``=``);
tests/cli/test_common.py checks that a shared option's equals its spec's, tests/cli/test_defaults.py that every
option's equals its config field's."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import typing
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Iterator, NamedTuple, Optional

import typer
from typer.models import ParameterInfo

from negmine.cli.interrupts import INTERRUPTED
from negmine.config import (
    BACKENDS, DEFAULT_MODEL, DEVICES, PRECISIONS, QUANTIZATIONS, UNKNOWN_QRELS, EncoderConfig, JudgeConfig,
    NearDupConfig,
)
from negmine.errors import NegmineError

ENCODER_PANEL = "Model and encoding"
OUTPUT_PANEL = "Output"
DATA_PANEL = "Input"
TUNING_PANEL = "Tuning"
"""Speed / memory / accuracy knobs whose defaults suit most runs (kept out of the main panels)."""


class OptionSpec(NamedTuple):
    """One shared option: default, explicit flag declarations (empty: typer derives ``--name``), help, panel.

    :func:`option_type` makes the ``Annotated`` type of the last three; the default is what a command writes after
    ``=`` (and what :func:`encoder_options` gives the options it adds)."""

    default: Any
    decls: tuple[str, ...]
    help: str
    panel: str = ENCODER_PANEL


def choices(values: Iterable[str], notes: dict[str, str] | None = None) -> str:
    """``"a | b (note) | c"``: the allowed values of an option, from its registry or config tuple, so its help
    cannot drift from what the config accepts. A note for a value that is not allowed is a KeyError."""
    values, notes = list(values), notes or {}
    unknown = sorted(set(notes) - set(values))
    if unknown:
        raise KeyError(f"notes for values not allowed: {', '.join(unknown)}; allowed: {', '.join(values)}")
    return " | ".join(f"{v} ({notes[v]})" if v in notes else v for v in values)


INT8_NOTE = ("dynamic int8 weights; activations are quantised per forward pass, so int8 encodes one text per pass "
             "whatever the batch size, and a text's vector does not depend on the texts encoded with it (a partly cached run "
             "writes the cold run's file); against batches of 64 it measured about as fast on long texts, up to 2x "
             "slower on short ones")

SHARED_OPTIONS: dict[str, OptionSpec] = {
    "model": OptionSpec(DEFAULT_MODEL, (), "sentence-transformers model name or path"),
    "query_prompt": OptionSpec("", (), "prefix for queries, e.g. 'query: '"),
    "document_prompt": OptionSpec("", (), "prefix for documents, e.g. 'passage: '"),
    "max_length": OptionSpec(None, (), "max tokens per text (longer texts are truncated; default: the model's own max_seq_length)"),
    "batch_size": OptionSpec(64, (), "encoding batch size: texts per forward pass at most (on the CPU also at most 2048 tokens per pass; --quantize int8 runs one text per pass); with --backend torch another value caches its vectors apart"),
    "precision": OptionSpec("auto", (), choices(PRECISIONS, {"auto": "bf16 where the CPU or GPU has it natively"})),
    "device": OptionSpec("cpu", (), f"torch device that encodes: {choices(DEVICES)}"),  # each command's: DEVICE_HELP
    "cache_dir": OptionSpec(None, (), "embedding cache (default $NEGMINE_CACHE or ~/.cache/negmine)"),
    "cache": OptionSpec(True, ("--cache/--no-cache",), "reuse cached embeddings"),
    "backend": OptionSpec("torch", (), f"encoder runtime: {choices(BACKENDS, {'onnx': 'exported once, cached'})}"),
    "quantize": OptionSpec("none", (), f"with --backend onnx: {choices(QUANTIZATIONS, {'int8': INT8_NOTE})}"),
    "progress": OptionSpec(True, ("--progress/--no-progress",), "progress bars", OUTPUT_PANEL),
    "unknown_qrels": OptionSpec(
        "error", (),
        f"qrels rows whose corpus-id is not in the corpus: {choices(UNKNOWN_QRELS)} (skip: load anyway and report "
        "the count; mining drops them, eval scores them as never retrievable, as BEIR does)",
        DATA_PANEL,
    ),
}


_ONNX_CPU = "; --backend onnx runs on the CPU"
DEVICE_HELP: dict[str, str] = {
    "mine": f"torch device that encodes with --model and, with --denoise, runs the --cross-encoder and --teacher PATH "
            f"judges: {choices(DEVICES)}{_ONNX_CPU}",
    "audit": f"torch device that encodes with --model (a BEIR directory's candidates, the near-duplicate cosines) and "
             f"runs the --cross-encoder and --teacher PATH judges: {choices(DEVICES)}{_ONNX_CPU}",
    "eval": f"torch device that encodes the queries and the corpus with each --model: {choices(DEVICES)}{_ONNX_CPU}",
    "train": f"torch device that trains the model, and with it --batching topic clustering, --eval-data dev "
             f"evaluation and re-mining (its encoding and the --denoise judges it repeats): {choices(DEVICES)}; one "
             "visible GPU: pick it with CUDA_VISIBLE_DEVICES",
}
"""The help of ``--device`` in each command, which says what it drives there (:func:`shared_type`'s ``help``,
:func:`encoder_options`' ``helps``): one text for all named mine's and audit's cross-encoder judge in ``negmine
train --help`` and ``negmine eval --help`` and train's GPU advice in the others."""


JUDGE_PANEL = "Judges"
_JUDGE = JudgeConfig()
JUDGE_OPTIONS: dict[str, tuple[str, OptionSpec]] = {
    "min_votes": ("min_votes", OptionSpec(_JUDGE.min_votes, (), "judges that must flag a candidate", JUDGE_PANEL)),
    "cross_encoder_margin": ("cross_encoder_margin", OptionSpec(
        _JUDGE.cross_encoder_margin, (), "flag when ce(c) >= ce(p) - margin", JUDGE_PANEL)),
    "cross_encoder_threshold": ("cross_encoder_threshold", OptionSpec(
        _JUDGE.cross_encoder_threshold, (), "also flag when ce(c) >= threshold (default: off)", JUDGE_PANEL)),
    "teacher_margin": ("teacher_relative_margin", OptionSpec(
        _JUDGE.teacher_relative_margin, (), "teacher votes when t(c) >= t(p) - r|t(p)|", JUDGE_PANEL)),
    "teacher_min_votes": ("teacher_min_votes", OptionSpec(
        _JUDGE.teacher_min_votes, (), "teachers that must agree (default: all)", JUDGE_PANEL)),
    "cross_encoder_batch_size": ("cross_encoder_batch_size", OptionSpec(
        _JUDGE.cross_encoder_batch_size, (), "the most query-document pairs of one token length the cross-encoder "
        "scores at once (pairs): larger is faster on a GPU and holds more memory; on the CPU scores are the same at "
        "any value", TUNING_PANEL)),
}
"""How the judges decide (``negmine audit`` and ``negmine mine --denoise``): option name -> (JudgeConfig field,
spec); the defaults are JudgeConfig's."""


_NEAR_DUP = NearDupConfig()
NEAR_DUP_TUNING: dict[str, tuple[str, OptionSpec]] = {
    "near_dup_min_shared": ("min_shared", OptionSpec(
        _NEAR_DUP.min_shared, (), "near-duplicate MinHash: word shingles a candidate must share with a positive before "
        "its overlap counts (shingles): higher spares short texts that share a phrase by chance, and misses more short "
        "near-copies", TUNING_PANEL)),
    "near_dup_shingle": ("shingle", OptionSpec(
        _NEAR_DUP.shingle, (), "near-duplicate MinHash: words per shingle (n-gram length): shorter also catches "
        "reworded copies and flags more, longer catches near-verbatim copies only", TUNING_PANEL)),
    "near_dup_num_perm": ("num_perm", OptionSpec(
        _NEAR_DUP.num_perm, (), "near-duplicate MinHash: hash permutations per signature (count): more is a finer "
        "overlap estimate (error about 1/sqrt(N)) for more time and 4 bytes per permutation per document", TUNING_PANEL)),
}
"""The MinHash settings of the near-duplicate test (``negmine mine``'s exclusion, ``negmine audit``'s judge): option
name -> (NearDupConfig field, spec); the defaults are NearDupConfig's."""


NEAR_DUP_FIELDS: dict[str, str] = {name: field for name, (field, _) in NEAR_DUP_TUNING.items()}
"""The MinHash options -> NearDupConfig field (:func:`refuse_unused_config`: unused when the overlap test is off)."""


def near_dup_tuning(**options: int) -> dict[str, int]:
    """The NearDupConfig fields of the :data:`NEAR_DUP_TUNING` options given as keywords."""
    return {NEAR_DUP_TUNING[name][0]: value for name, value in options.items()}


JUDGE_FIELDS: dict[str, str] = {
    "cross_encoder_margin": "cross_encoder_margin", "cross_encoder_threshold": "cross_encoder_threshold",
    "teacher_margin": "teacher_relative_margin", "teacher_min_votes": "teacher_min_votes",
    "teacher_max_words": "teacher_max_words", "teacher_query_prompt": "teacher_query_prompt",
    "teacher_document_prompt": "teacher_document_prompt", "cross_encoder_batch_size": "cross_encoder_batch_size",
}
"""Judge options ``negmine mine`` and ``negmine audit`` both have that a judge which does not run leaves unused:
option name -> JudgeConfig field (:func:`refuse_unused_config`)."""


def option_type(kind: Any, spec: OptionSpec) -> Any:
    """``Annotated[kind, typer.Option(...)]`` with the flags, help and panel of ``spec`` (its default is the
    command's ``= value``: typer refuses a default inside ``Annotated``). typer copies the option info of each
    parameter, so one alias serves every command that declares the option."""
    return Annotated[kind, typer.Option(*spec.decls, help=spec.help, rich_help_panel=spec.panel)]


def shared_type(name: str, kind: Any, help: str | None = None) -> Any:
    """:func:`option_type` of the shared option ``name``, a key of :data:`SHARED_OPTIONS` (KeyError naming it), with
    the command's own ``help`` when the option drives other things in each command (``device``:
    :data:`DEVICE_HELP`)."""
    spec = SHARED_OPTIONS[name]
    return option_type(kind, spec if help is None else spec._replace(help=help))


def judge_type(name: str, kind: Any) -> Any:
    """:func:`option_type` of the judge option ``name``, a key of :data:`JUDGE_OPTIONS` or
    :data:`NEAR_DUP_TUNING`."""
    return option_type(kind, (JUDGE_OPTIONS.get(name) or NEAR_DUP_TUNING[name])[1])


Model = shared_type("model", str)
QueryPrompt = shared_type("query_prompt", str)
DocumentPrompt = shared_type("document_prompt", str)
MaxLength = shared_type("max_length", Optional[int])
Precision = shared_type("precision", str)
Progress = shared_type("progress", bool)
UnknownQrels = shared_type("unknown_qrels", str)

MinVotes = judge_type("min_votes", int)
CrossEncoderMargin = judge_type("cross_encoder_margin", float)
CrossEncoderThreshold = judge_type("cross_encoder_threshold", Optional[float])
TeacherMargin = judge_type("teacher_margin", float)
TeacherMinVotes = judge_type("teacher_min_votes", Optional[int])
CrossEncoderBatchSize = judge_type("cross_encoder_batch_size", int)
NearDupMinShared = judge_type("near_dup_min_shared", int)
NearDupShingle = judge_type("near_dup_shingle", int)
NearDupNumPerm = judge_type("near_dup_num_perm", int)

DataDir = Annotated[Optional[Path], typer.Argument(help="BEIR directory (corpus.jsonl, queries.jsonl, qrels/).")]
NtupleNegatives = Annotated[Optional[int], typer.Option(
    help="n-tuple export width: rows with more negatives give their first N (the hardest), rows with fewer are skipped "
         "(default: the widest row; after an audit that dropped negatives, set it so narrower rows are kept)",
    rich_help_panel=OUTPUT_PANEL)]
TEACHER_TEXT_HELP = {
    "teacher_max_words": "truncate texts to this many words for teachers (speed; default: whole texts)",
    "teacher_query_prompt": "prefix for queries of --teacher PATH models, e.g. 'query: ' (default: the model's own "
                            "configured prompt, if any)",
    "teacher_document_prompt": "prefix for documents of --teacher PATH models, e.g. 'passage: ' (default: the model's "
                               "own configured prompt, if any)",
}
"""Help of the teacher options ``negmine mine`` (denoising panel) and ``negmine audit`` (Judges panel) share."""


ENCODER_OPTIONS: dict[str, tuple[str, Any]] = {
    "model": ("model", str),
    "query_prompt": ("query_prompt", str),
    "document_prompt": ("document_prompt", str),
    "max_length": ("max_length", Optional[int]),
    "batch_size": ("batch_size", int),
    "precision": ("precision", str),
    "device": ("device", str),
    "cache_dir": ("cache_dir", Optional[Path]),
    "cache": ("use_cache", bool),
    "backend": ("backend", str),
    "quantize": ("quantize", str),
}
"""The shared options that make an :class:`EncoderConfig`: option name -> (EncoderConfig field, type)."""


PROMPT_OPTIONS = ("query_prompt", "document_prompt")
"""The encoder options whose value, given on the command line, is a choice even when empty: no warning that the
model's configured prompt is left out (:func:`negmine.encode.model_prompts.prompts_given`)."""


def encoder_options(*, exclude: tuple[str, ...] = (),
                    helps: dict[str, str] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command that takes ``encoder: EncoderConfig``: typer sees the shared encoder options instead
    (all of :data:`ENCODER_OPTIONS` but ``exclude``, whose fields keep EncoderConfig's defaults; ``helps``: the
    command's own help of some, e.g. ``{"device": DEVICE_HELP["mine"]}``), and the command gets them as one
    EncoderConfig, ``show_progress`` from its own ``progress`` option when it has one.

    One list for every command, so ``mine``, ``eval`` and ``audit`` cannot drift apart in what they let a user
    set about the model that scores texts. A command that takes ``ctx: typer.Context`` runs with the prompts typed on
    the command line, empty ones included, counted as given on purpose (:data:`PROMPT_OPTIONS`)."""
    helps = helps or {}
    unknown = sorted((set(exclude) | set(helps)) - set(ENCODER_OPTIONS))
    if unknown:
        raise KeyError(f"not encoder options: {', '.join(unknown)}; choose from {', '.join(ENCODER_OPTIONS)}")
    names = [name for name in ENCODER_OPTIONS if name not in exclude]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        if "encoder" not in signature.parameters:
            raise TypeError(f"{command.__name__} must take an `encoder: EncoderConfig` parameter")
        own = [p for p in signature.parameters.values() if p.name != "encoder"]
        clash = sorted({p.name for p in own} & set(names))
        if clash:
            raise TypeError(f"{command.__name__} declares {', '.join(clash)} itself; pass exclude={tuple(clash)!r}")
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=SHARED_OPTIONS[name].default,
                              annotation=shared_type(name, ENCODER_OPTIONS[name][1], helps.get(name)))
            for name in names
        ]
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        ctx_name = next((p.name for p in own if p.annotation is typer.Context), None)  # typer passes the context
        tuning = [p for p in own if help_panel(p) == TUNING_PANEL]
        params = [p for p in own if p not in tuning] + added + tuning  # the Tuning panel shows last

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            from negmine.encode.model_prompts import prompts_given

            fields = {ENCODER_OPTIONS[name][0]: kwargs.pop(name) for name in names}
            if "progress" in kwargs:
                fields["show_progress"] = kwargs["progress"]
            ctx = kwargs.get(ctx_name) if ctx_name else None
            typed = [ENCODER_OPTIONS[name][0] for name in PROMPT_OPTIONS if name in names and ctx is not None
                     and getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"]
            with prompts_given(typed):  # an empty prompt typed is a choice: no warning for it (the command's ctx says)
                return command(encoder=EncoderConfig(**fields), **kwargs)

        run.__signature__ = inspect.Signature(params, return_annotation=signature.return_annotation)
        run.__annotations__ = {p.name: p.annotation for p in params}
        del run.__wrapped__  # typer must see the new signature, not the command's
        return run

    return decorate


def help_panel(parameter: inspect.Parameter) -> str | None:
    """The help panel of a command parameter, declared either way typer takes: ``Annotated[kind, typer.Option(...)]``
    or ``= typer.Option(...)``."""
    annotated = typing.get_origin(parameter.annotation) is Annotated
    infos = [m for m in typing.get_args(parameter.annotation)[1:] if isinstance(m, ParameterInfo)] if annotated else []
    return getattr(infos[0] if infos else parameter.default, "rich_help_panel", None)


@contextlib.contextmanager
def user_errors(interrupted_hint: Callable[[], str] | None = None) -> Iterator[None]:
    """Report expected errors (bad input, bad options) as ``error: <message>`` and exit 2, no traceback; Ctrl-C
    as one line (exit 130), followed by ``interrupted_hint()`` when given: what to rerun (``negmine train``: with
    ``--resume`` or without, depending on the checkpoints saved).

    Besides negmine's own errors, that covers the OS refusing a named path (missing, a directory where a file
    was expected or the reverse, no permission); other exceptions, UnicodeDecodeError included, keep their
    traceback (the readers report undecodable input themselves, with its line).
    """
    try:
        yield
    except NegmineError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=2) from err
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        if interrupted_hint is not None:
            typer.echo(interrupted_hint(), err=True)
        raise typer.Exit(code=130) from None
    except FileNotFoundError as err:
        typer.echo(f"error: file not found: {err.filename}", err=True)
        raise typer.Exit(code=2) from err
    except (IsADirectoryError, NotADirectoryError, PermissionError) as err:
        if err.filename is None:  # not about a path the user gave: a bug, keep the traceback
            raise
        typer.echo(f"error: {err.filename}: {err.strerror}", err=True)
        raise typer.Exit(code=2) from err


def encoding_stopped(stopped=None, option: str | None = None) -> str:
    """The Ctrl-C hint's clause on an encoding stopped before all its shards finished (``stopped``: the
    interruption's :class:`negmine.engine.encode.EncodingStopped`), or "" (none, or every shard finished).
    ``option``: the command's option that sets the shards' size (``negmine mine``'s ``--encode-shard-size``), named
    as the way to lose less; ``negmine audit`` has none, and its hint named mine's. A shard holds at most that many
    texts, fewer in a store of under 8 times that many (:func:`negmine.engine.encode_shards.shard_texts`), so the
    option shrinks the shards only below the size they had."""
    if stopped is None or stopped.shards_done == stopped.shards:
        return ""
    from negmine.errors import counted

    lost = (f": the {counted(stopped.texts_lost, 'text', spec=',')} it encoded in unfinished shards "
            f"{'is' if stopped.texts_lost == 1 else 'are'} encoded again" if stopped.texts_lost else "")
    smaller = f"; {option} below {stopped.shard_size:,} loses less to a stop" if option else ""
    return (f"; it stopped in {stopped.desc} with {stopped.shards_done} of {counted(stopped.shards, 'shard')} finished "
            f"(up to {stopped.shard_size:,} texts each{smaller}){lost}")


def warn_overridden(ctx: typer.Context, *pairs: tuple[str, str]) -> None:
    """One ``warning:`` line on stderr for each ``(value option, off switch)`` pair given together on the command
    line, e.g. ``--sd-margin 0.3 --no-sd-margin``: the off switch wins (the documented convention), and the user
    learns that the value was not used instead of finding out from the results. Names are the command's
    parameter names (``("sd_margin", "no_sd_margin")``); ``ctx`` is the command's context."""
    def typed(name: str) -> bool:
        source = ctx.get_parameter_source(name)
        return source is not None and source.name == "COMMANDLINE"

    for value, switch in pairs:
        if typed(value) and typed(switch) and ctx.params[switch]:
            given, off = f"--{value.replace('_', '-')}", f"--{switch.replace('_', '-')}"
            typer.echo(f"warning: {given} {ctx.params[value]} is ignored: {off} switches it off; drop one of the two",
                       err=True)


def typed_options(ctx: typer.Context, names: tuple[str, ...]) -> list[str]:
    """The options of ``names`` (the command's parameter names) given on the command line, as flags."""
    return [f"--{name.replace('_', '-')}" for name in names
            if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"]


def refuse_unused(ctx: typer.Context, rules) -> None:
    """Exit 2 at the first rule ``(names, unused, why, fix)`` whose options were given on the command line while
    ``unused`` holds: such an option would be ignored without a word (``--dense-weight`` under RRF fusion)."""
    for names, unused, why, fix in rules:
        given = " and ".join(typed_options(ctx, names))
        if unused and given:
            typer.echo(f"error: {given} would be ignored: {why}; {fix}, or drop {given}", err=True)
            raise typer.Exit(code=2)


def refuse_unused_config(ctx: typer.Context, config: Any, options: dict[str, str] | tuple[str, ...],
                         mode: Any = None, at: str = "") -> None:
    """:func:`refuse_unused` with the rules of ``config``'s class in :data:`negmine.config_unused.UNUSED`, the
    ones its ``validate()`` applies, so the CLI and the Python API give the same reason and fix. ``options``:
    the command's parameter name -> the field of ``config`` it sets (``a.b``: field ``b`` of field ``a``), or
    names of parameters named as their field; ``mode`` as the config's own check takes it; ``at``: where
    ``config`` sits in the command's config (``denoise``), which the fix's fields are dotted from, as the Python
    API's message names them (``denoise.enabled=True (--denoise)``)."""
    from negmine.config_unused import rules

    options = options if isinstance(options, dict) else {name: name for name in options}
    unknown = sorted(set(options.values()) - {f for rule in rules(config) for f in rule.fields})
    if unknown:
        raise KeyError(f"{type(config).__name__} has no unused-setting rule for {', '.join(unknown)}")
    refuse_unused(ctx, [
        (tuple(name for name, path in options.items() if path in rule.fields), rule.unused(config, mode),
         rule.why(config, mode), rule.fix(f"{at}." if at else ""))
        for rule in rules(config)
    ])


def echo_json(payload: dict) -> None:
    import json

    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def off_if_zero(value: float | None) -> float | None:
    """CLI convention: 0 (or no value) switches a threshold off."""
    return None if value is None or value == 0 else value
