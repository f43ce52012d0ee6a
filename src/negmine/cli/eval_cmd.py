"""``negmine eval``: options map one to one onto EvalConfig (+ its EncoderConfig)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from negmine.cli.common import (
    DEVICE_HELP, OUTPUT_PANEL, DataDir, Progress, UnknownQrels, choices, encoder_options, encoding_stopped,
    refuse_unused_config, user_errors,
)
from negmine.config import (
    CORRECTIONS, DEFAULT_EVAL_METRICS, DEFAULT_MODEL, EVAL_METRICS, STAT_TESTS, EncoderConfig, EvalConfig,
)

_RUNS = "Runs"
_EVAL = "Metrics and significance"
_OUT = OUTPUT_PANEL

Split = Annotated[str, typer.Option(help="qrels split: qrels/<split>.tsv")]
Models = Annotated[list[str], typer.Option("--model", help=f"model name or path, or bm25 (the lexical baseline), repeatable (default {DEFAULT_MODEL} when no --run)", rich_help_panel=_RUNS)]
RunFiles = Annotated[list[str], typer.Option("--run", metavar="[NAME=]PATH", help="TREC run file to include, repeatable; NAME=PATH names its run (default: its TREC tag, or its file name when that tag is shared); an existing file is read by its path whatever '=' it holds", rich_help_panel=_RUNS)]
Depth = Annotated[int, typer.Option(help="documents retrieved per query by each model", rich_help_panel=_RUNS)]
TruncateDim = Annotated[Optional[int], typer.Option(help="score the dense models with embeddings cut to their first N dims and re-normalised (Matryoshka models; the cache of full vectors is reused); default: full size", rich_help_panel=_RUNS)]
Metrics = Annotated[list[str], typer.Option("--metrics", help=f"comma-separated metrics, each NAME@k or NAME: {choices(EVAL_METRICS)} (default {','.join(DEFAULT_EVAL_METRICS)})", rich_help_panel=_EVAL)]
Baseline = Annotated[int, typer.Option(help="index of the baseline run: models first, then run files", rich_help_panel=_EVAL)]
StatTest = Annotated[str, typer.Option(help=choices(STAT_TESTS, {"student": "paired t-test", "fisher": "randomisation"}), rich_help_panel=_EVAL)]
Alpha = Annotated[float, typer.Option(help="significance level", rich_help_panel=_EVAL)]
Correction = Annotated[str, typer.Option(help=choices(CORRECTIONS, {"holm": "p-values Holm-adjusted over the runs compared with the baseline", "none": "raw p-values"}), rich_help_panel=_EVAL)]
NPermutations = Annotated[int, typer.Option(help="fisher: number of random sign flips", rich_help_panel=_EVAL)]
Seed = Annotated[int, typer.Option(help="fisher: random seed", rich_help_panel=_EVAL)]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="results JSON (means, p-values, per-query scores; default: none written)", rich_help_panel=_OUT)]
RunsDir = Annotated[Optional[Path], typer.Option(help="write each model's run as <dir>/<name>.trec (default: none written)", rich_help_panel=_OUT)]
Workers = Annotated[Optional[int], typer.Option(help="local processes for the bm25 baseline (tokenisation, shards, large searches; same run); default: every CPU, 1: none", rich_help_panel=_RUNS)]


@encoder_options(exclude=("model",), helps={"device": DEVICE_HELP["eval"]})
def eval_command(
    ctx: typer.Context, encoder: EncoderConfig, data_dir: DataDir = None, split: Split = "test",
    unknown_qrels: UnknownQrels = "error", model: Models = [], run: RunFiles = [], depth: Depth = 100,
    truncate_dim: TruncateDim = None, metrics: Metrics = [], baseline: Baseline = 0, stat_test: StatTest = "student",
    alpha: Alpha = 0.05, correction: Correction = "holm", n_permutations: NPermutations = 10000, seed: Seed = 42,
    output: Output = None, runs_dir: RunsDir = None, workers: Workers = None, progress: Progress = True,
) -> None:
    """Evaluate models (zero-shot dense retrieval) and run files on a BEIR split; compare them vs a baseline."""
    runs = [split_run(text) for text in run]
    config = EvalConfig(
        data_dir=data_dir,
        split=split,
        models=tuple(model) or None,
        run_files=tuple(path for _, path in runs),
        run_names=tuple(name for name, _ in runs),
        metrics=split_metrics(metrics) or DEFAULT_EVAL_METRICS,
        depth=depth,
        baseline=baseline,
        stat_test=stat_test,
        alpha=alpha,
        correction=correction,
        n_permutations=n_permutations,
        seed=seed,
        output=output,
        runs_dir=runs_dir,
        unknown_qrels=unknown_qrels,
        encoder=encoder,
        workers=workers,
        truncate_dim=truncate_dim,
    )
    refuse_unused_config(ctx, config, {
        **{name: name for name in ("n_permutations", "seed", "depth", "runs_dir", "truncate_dim")},
        **{name: f"encoder.{name}" for name in ("query_prompt", "document_prompt", "max_length")},
    })
    run_eval(config)


def run_eval(config: EvalConfig) -> None:
    """Evaluate and print the report; Ctrl-C while a dense model encodes says what the rerun reads back."""
    from negmine.evaluate.lexical_eval import BM25_MODEL

    stopped: list = []  # where the encoding stopped, when Ctrl-C came during it (EncodingStopped)
    dense = set(config.models or ()) - {BM25_MODEL}
    hint = (lambda: interrupted_hint(config, stopped[0] if stopped else None)) if dense else None
    with user_errors(hint):
        from negmine.evaluate.api import evaluate

        try:
            report = evaluate(config)
        except KeyboardInterrupt as err:
            stopped.extend([err.negmine_encoding] if hasattr(err, "negmine_encoding") else [])
            raise
    echo_report(report)


def interrupted_hint(config: EvalConfig, stopped=None) -> str:
    """What to do after Ctrl-C: the vectors of the encoding shards that finished are in the embedding cache, which
    the same command reads back (``negmine eval`` printed only 'interrupted; ...'). ``stopped``
    (:class:`negmine.engine.encode_shards.EncodingStopped`): how many of the stopped encoding's shards finished
    and what the rerun encodes again (SciFact's 5,183 documents were one shard of 8,192 texts: a stop kept none)."""
    from negmine.encode.cache import default_cache_dir

    if not config.encoder.use_cache:
        return "rerun the same command to start again: with --no-cache this run kept nothing it encoded"
    cache = Path(config.encoder.cache_dir or default_cache_dir()).absolute()
    return (f"rerun the same command to continue: it does not encode again the vectors it finished, cached under "
            f"{cache}{encoding_stopped(stopped)}")


def encoding_note(name: str, counts: dict) -> str:
    """One model's encoding line: how many texts it encoded and how many came from the cache."""
    from negmine.errors import counted

    return f"{name}: encoded {counted(counts['encoded'], 'text')}, {counts['cached']:d} from cache"


def echo_report(report) -> None:
    """The comparison table, then one line per note: skipped judgments, run files renamed (their tag shared),
    run-file coverage, encoding, files."""
    from negmine.evaluate.coverage import coverage_note
    from negmine.evaluate.names import name_note

    lines = [report.table(), format_unknown_qrels(report.payload["data"]["unknown_qrels"])]
    lines += [name_note(name, record) for name, record in report.payload["run_file_names"].items()]
    lines += [coverage_note(name, c) for name, c in report.payload["run_file_coverage"].items()]
    lines += [encoding_note(name, c) for name, c in report.encoding.items()]
    lines += [f"wrote run {name}: {path}" for name, path in report.run_files.items()]
    lines += [f"wrote {report.output}"] if report.output is not None else []
    for line in lines:
        if line:
            typer.echo(line)


def format_unknown_qrels(report: dict) -> str:
    """One stdout line for judgments of documents missing from the corpus (``--unknown-qrels skip``), or ""; counts
    of 1 in the singular ('1 queries have' until 2026-12-07)."""
    from negmine.errors import counted

    if not report["skipped"]:
        return ""
    examples = ", ".join(repr(d) for d in report["example_ids"])
    rows, queries = report["skipped"], report["queries_without_positive"]
    named = "names a document" if rows == 1 else "name documents"
    line = (f"qrels: {counted(rows, 'row')} ({report['relevant_skipped']} relevant) {named} missing from the corpus, "
            f"{examples if rows == 1 else 'e.g. ' + examples}; scored as never retrieved (BEIR)")
    if queries:
        line += (f"; {queries} {'query has' if queries == 1 else 'queries have'} only missing relevant documents and "
                 f"score{'s' if queries == 1 else ''} 0")
    return line


def split_run(text: str) -> tuple[str | None, Path]:
    """``--run [NAME=]PATH`` as ``(name or None, path)``, split at the first ``=``, unless the whole text is an
    existing file or the split leaves a blank name, a name holding a path separator (``/``, ``\\``) or no path:
    ``mine=runs/a.trec`` names ``runs/a.trec`` ``mine``; ``runs/a=b.trec`` is a path. A file named ``x=y.trec``
    is read by path as ``--run x=y.trec`` when it exists (and ``y.trec`` is then not named ``x``) and named with
    ``--run NAME=x=y.trec``. The names go to ``EvalConfig.run_names``, the paths to ``run_files``."""
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path or "/" in name or "\\" in name or Path(text).is_file():
        return None, Path(text)
    return name, Path(path)


def split_metrics(values: list[str]) -> tuple[str, ...]:
    """``['ndcg@10,mrr@10', 'map']`` -> ``('ndcg@10', 'mrr@10', 'map')`` (blanks dropped, case folded)."""
    return tuple(m.strip().lower() for value in values for m in value.split(",") if m.strip())


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
