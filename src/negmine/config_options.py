"""Command-line option -> config field, for the options whose name is not the name of the field they set.

A Python user who knows the command line writes the option's name as a keyword: ``TrainConfig(lr=1e-4)``,
``DevEvalConfig(eval_steps=100)``, ``MineConfig(num_negatives=5)``. The config refuses it
(:class:`negmine.errors.UnknownFieldError`); with this table the refusal names the field the option sets:
``did you mean 'learning_rate' (the field --lr sets)?``.

One table per command, keyed by the config class that command builds: option name (the typer parameter's name,
``--eval-steps`` -> ``eval_steps``) -> field path (``a.b``: field ``b`` of the nested config in field ``a``). The
tables of nested configs (``DevEvalConfig``, ``RetrieveConfig``, ``JudgeConfig``, ...) are not written out: they
are read off these by walking the fields (:func:`option_field`), so each mapping is written once.
``tests/test_config_options.py`` checks every table against the typer commands' parameters: each option exists,
each field path exists, and each option of a command either is a field of its config or is in the table, so an
option added to the CLI under a new name fails that test until it is listed here.
"""

from __future__ import annotations

import functools

_ENCODER = ("model", "query_prompt", "document_prompt", "max_length", "batch_size", "precision", "device",
            "cache_dir", "backend", "quantize")
_JUDGE = ("min_votes", "cross_encoder", "cross_encoder_margin", "cross_encoder_threshold", "cross_encoder_batch_size",
          "teacher_min_votes", "teacher_max_words", "teacher_query_prompt", "teacher_document_prompt")
_NEAR_DUP = {"near_dup_threshold": "cosine", "near_dup_overlap": "overlap", "near_dup_min_shared": "min_shared",
             "near_dup_shingle": "shingle", "near_dup_num_perm": "num_perm"}

ARGUMENTS = {"data_dir": "the DATA_DIR argument", "source": "the SOURCE argument",
             "train_file": "the TRAIN_FILE argument"}
"""Positional arguments among the table's keys: a message names them as the command's help does."""

NOT_FIELDS = {"AuditConfig": ("out_dir",)}
"""Options that set no one field (``negmine audit --out-dir`` moves the default of four output paths)."""

ALSO_SET = {"EvalConfig": {"run_names": "run"}}
"""Fields an option sets besides the one its table maps it to, per command config: field path -> option name
(``negmine eval --run NAME=PATH`` sets ``run_files`` and ``run_names``)."""


def _under(prefix: str, same: tuple[str, ...] = (), renamed: dict[str, str] | None = None) -> dict[str, str]:
    """``{option: prefix.field}`` for options named as their field (``same``) and the others (``renamed``)."""
    return {**{name: f"{prefix}.{name}" for name in same},
            **{name: f"{prefix}.{field}" for name, field in (renamed or {}).items()}}


def _encoder(prefix: str, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    same = tuple(name for name in _ENCODER if name not in exclude)
    return _under(prefix, same, {"cache": "use_cache", "progress": "show_progress"})


def _judges(prefix: str) -> dict[str, str]:
    """The judge options ``mine`` (under ``--denoise``) and ``audit`` share. Not the near-duplicate ones: in
    ``mine`` those set the exclusion (``MineConfig.near_dup``), in ``audit`` the judge."""
    return _under(prefix, _JUDGE, {"judge": "judges", "teacher": "teachers", "teacher_margin": "teacher_relative_margin"})


@functools.cache
def option_tables() -> dict[str, dict[str, str]]:
    """``{config class name: {option: field path}}`` for the configs ``negmine mine``, ``audit``, ``eval`` and
    ``train`` build (a function, so nothing is built at import)."""
    mine = {
        **_under("data", ("data_dir", "split", "corpus", "queries", "qrels", "pairs", "query_column", "positive_column",
                          "unknown_qrels")),
        **_encoder("encoder"),
        **_under("retrieve", ("depth", "fusion", "rrf_k", "dense_weight", "bm25_shard_size", "fallback",
                              "query_batch_size"), {"retriever": "method", "no_fallback": "fallback"}),
        **_under("select", ("strategy", "num_negatives", "seed", "rank_min", "rank_max", "simans_a", "simans_b",
                            "keep_partial"), {"strategy_param": "strategy_params"}),
        **_under("filters", ("max_score", "min_score", "absolute_margin", "relative_margin", "max_positive_rank",
                             "sd_margin", "margin_from"),
                 {"no_relative_margin": "relative_margin", "no_sd_margin": "sd_margin"}),
        **_under("near_dup", renamed=_NEAR_DUP),
        **_under("denoise", renamed={"denoise": "enabled", "denoise_depth": "depth",
                                     "denoise_full_depth": "until_filled"}),
        **_judges("denoise.judges"),
        **_under("engine", ("memory_budget", "shard_size", "encode_shard_size", "index", "nprobe", "refine",
                            "target_recall", "work_dir", "keep_work", "ray_address", "ray_actors",
                            "ray_cpus_per_actor", "workers"), {"engine": "name"}),
        **_under("output", ("export_as", "ntuple_negatives", "export_scores", "export_scores_from"),
                 {"output": "path", "export": "formats", "summary_json": "summary_path"}),
    }
    audit = {
        "source": "input", "summary_json": "summary", "html": "report", "export": "formats",
        **_encoder("encoder", exclude=("batch_size",)), "encode_batch_size": "encoder.batch_size",
        **_judges("judges"), **_under("judges.near_dup", renamed=_NEAR_DUP),
        **_under("judges", ("relative_margin", "absolute_margin", "sd_margin", "positive_top_k",
                            "positive_below_share", "positive_min_sources"), {"no_sd_margin": "sd_margin"}),
    }
    evaluate = {"model": "models", "run": "run_files", **_encoder("encoder", exclude=("model",))}
    train = {
        "output": "output_dir", "lr": "learning_rate", "direction": "directions", "progress": "show_progress",
        "no_fn_margin": "fn_margin", "no_checkpoints": "checkpoint_steps", "mine_summary": "mine",
        **_under("dev", ("unknown_qrels", "keep_best"), {"eval_data": "data_dir", "eval_split": "split",
                                                         "eval_steps": "steps", "eval_max_documents": "max_documents"}),
    }
    return {"MineConfig": mine, "AuditConfig": audit, "EvalConfig": evaluate, "TrainConfig": train}


def option_field(cls: type, name: str) -> tuple[str, str] | None:
    """``(field path in cls, option)`` of the command-line option called ``name`` that sets a field of config
    class ``cls`` (itself a command's config, or one nested in one), or None when no option of that name does."""
    name = name.replace("-", "_")
    for top, table in option_tables().items():
        path = table.get(name)
        if path is None:
            continue
        for prefix in _prefixes(_config_class(top), cls):
            if prefix == "" or path.startswith(prefix):
                field = path[len(prefix):]
                if field != name:
                    return field, ARGUMENTS.get(name) or "--" + name.replace("_", "-")
    return None


COMMANDS = {"MineConfig": "mine", "AuditConfig": "audit", "EvalConfig": "eval", "TrainConfig": "train"}
"""The command that builds each config of :func:`option_tables`."""


def option_elsewhere(cls: type, name: str) -> dict[str, str]:
    """``{name: hint}`` when ``name`` is an option of a command that does not set a field of ``cls`` with it
    (``EvalConfig(eval_steps=...)``: ``--eval-steps`` is negmine train's, ``TrainConfig``'s ``dev.steps``), so the
    user learns which config the setting belongs to; ``{}`` otherwise."""
    name = name.replace("-", "_")
    for top, table in option_tables().items():
        path = table.get(name)
        if path is not None and top != cls.__name__:
            option = ARGUMENTS.get(name) or "--" + name.replace("_", "-")
            return {name: f"{top}'s {path!r} ({option} is an option of negmine {COMMANDS[top]})"}
    return {}


def _field_paths(cls: type, name: str, prefix: str = "") -> list[str]:
    """Every path (``a.b.name``) to a field called ``name`` in config ``cls`` and the configs nested in it, but not
    inside another command's config (``TrainConfig.mine``, a ``MineConfig``, is that command's to name)."""
    import dataclasses

    from negmine.config import _field_kinds

    found = []
    for field, kind in _field_kinds(cls).items():
        if field == name:
            found.append(prefix + field)
        elif isinstance(kind, type) and dataclasses.is_dataclass(kind) and kind.__name__ not in COMMANDS:
            found += _field_paths(kind, name, f"{prefix}{field}.")
    return found


def nested_fields(cls: type, name: str) -> list[str]:
    """The paths at which a config nested in ``cls`` has a field called ``name`` (``TrainConfig``, ``steps``:
    ``["dev.steps"]``): what ``cls(steps=...)`` meant."""
    return [path for path in _field_paths(cls, name) if "." in path]


def _option_setting(top: str, path: str) -> str | None:
    """The option (or argument) of command config ``top`` that sets field ``path``: the table's (the one named as
    the field first), else for a top-level field the option or argument of its name (each command has one for each
    of its config's top-level fields: ``tests/test_config_options.py``); None for a field no option sets, and for
    a nested config (``TrainConfig.dev``, which the ``--eval-*`` options fill)."""
    import dataclasses

    table = option_tables()[top]
    if path in ALSO_SET.get(top, {}):
        return "--" + ALSO_SET[top][path].replace("_", "-")
    options = sorted((key for key, value in table.items() if value == path), key=lambda key: key != path.split(".")[-1])
    if options:
        return ARGUMENTS.get(options[0]) or "--" + options[0].replace("_", "-")
    if "." in path or dataclasses.is_dataclass(_class_at(_config_class(top), path)):
        return None
    return ARGUMENTS.get(path) or "--" + path.replace("_", "-")


def field_homes(cls: type, name: str) -> str | None:
    """``"a field of ..., not of Cls"`` when ``name`` is the name of a field of another command's config
    (or of a config nested in one, ``cls``'s own aside), each place with the command and option that set it:
    ``EvalConfig(num_negatives=5)`` was told "did you mean MineConfig's 'select.num_negatives'", though negmine
    train's ``TrainConfig.num_negatives`` takes the name as well, and ``AuditConfig(num_negatives=5)`` "did you mean
    'ntuple_negatives'", an unrelated field of its own. None when no other config has such a field."""
    name = name.replace("-", "_")
    homes = [_home(top, path) for top in COMMANDS if top != cls.__name__
             for path in _field_paths(_config_class(top), name)]
    if not homes:
        return None
    listed = homes[0] if len(homes) == 1 else ", ".join(homes[:-1]) + " and " + homes[-1]
    return f"a field of {listed}, not of {cls.__name__}"


def _home(top: str, path: str) -> str:
    """Field ``path`` of command config ``top`` as :func:`field_homes` names it: ``MineConfig.select /
    SelectConfig (negmine mine --num-negatives)``, ``TrainConfig (negmine train --epochs)``."""
    import dataclasses

    root, parent = _config_class(top), path.rpartition(".")[0]
    where = f"{top}.{parent} / {_class_at(root, parent).__name__}" if parent else top
    if dataclasses.is_dataclass(_class_at(root, path)):
        return where  # a nested config (TrainConfig.dev): several options fill it
    option = _option_setting(top, path)
    if option is None:
        return f"{where} (no command-line option)"
    return f"{where} ({option} of negmine {COMMANDS[top]})" if option.startswith("the ") else \
        f"{where} (negmine {COMMANDS[top]} {option})"


def _class_at(root: type, path: str) -> type:
    from negmine.config import _field_kinds

    for part in path.split("."):
        root = _field_kinds(root)[part]  # type: ignore[assignment]
    return root


def _config_class(name: str) -> type:
    import negmine.config

    return getattr(negmine.config, name)


def _prefixes(root: type, cls: type, prefix: str = "") -> list[str]:
    """Every ``"a.b."`` path at which config class ``cls`` is nested in ``root`` (``""``: ``root`` itself)."""
    import dataclasses

    from negmine.config import _field_kinds

    if root is cls:
        return [prefix]
    found = []
    for field, kind in _field_kinds(root).items():
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            found += _prefixes(kind, cls, f"{prefix}{field}.")
    return found


def nested_keyword(cls: type, path: str, shown: str = "...") -> str:
    """The keyword that sets field ``path`` of config ``cls``: ``steps=...``, or for a nested field
    ``dev=DevEvalConfig(steps=...)``."""
    from negmine.config import _field_kinds

    head, _, rest = path.partition(".")
    if not rest:
        return f"{head}={shown}"
    kind = _field_kinds(cls)[head]
    return f"{head}={kind.__name__}({nested_keyword(kind, rest, shown)})"
