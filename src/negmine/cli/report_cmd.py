"""``negmine report``: render an HTML report from files an earlier command wrote: an audit's flags JSONL and
summary, a ``negmine mine`` native JSONL and its summary, or a ``negmine train`` output directory (its
``negmine_train.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from negmine.cli.common import refuse_unused, user_errors
from negmine.config import TABLE_ROWS


Source = Annotated[Path, typer.Argument(help="flags JSONL written by negmine audit, native JSONL written by negmine mine, or an output directory of negmine train")]
Summary = Annotated[Optional[Path], typer.Option(help="audit or mining summary JSON (default: <flags stem>.audit-summary.json; <mined stem>.summary.json)")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file (default: <flags stem>.report.html; <mined stem>.mining-report.html; <dir>/training_report.html)")]
MaxTableRows = Annotated[int, typer.Option(help="rows shown in the table (flagged pairs; a mined file's smallest-gap rows)")]


def report_command(
    ctx: typer.Context, source: Source, summary: Summary = None, output: Output = None,
    max_table_rows: MaxTableRows = TABLE_ROWS,
) -> None:
    """Render a self-contained HTML report of an audit, a mining run or a training run.

    An audit's (from its flags JSONL): its plots and sortable table of flagged pairs; a mining run's (from its
    native JSONL): its settings and counts, score and gap plots and a table of the smallest-gap rows; a training
    run's (from its output directory): loss and dev curves, dev evaluations, re-mining events and configuration."""
    refuse_unused(ctx, [(("max_table_rows",), source.is_dir(),
                         f"{source} is a directory (a negmine train output), whose report has no flags table",
                         "give the flags JSONL of an audit")])
    with user_errors():
        if not source.exists():
            from negmine.errors import InputError
            from negmine.report.sources import SOURCES

            raise InputError(source, None, None, f"not found: give {SOURCES}")
        from negmine.report.sources import source_kind

        kind = source_kind(source)
        out = (_training(source, summary, output) if kind == "training" else
               _mined(source, summary, output, max_table_rows) if kind == "mined" else
               _audit(source, summary, output, max_table_rows))
    typer.echo(f"report: {out}")


def _audit(flags: Path, summary: Optional[Path], output: Optional[Path], max_table_rows: int) -> Path:
    from negmine.report.render import report_from_files

    return report_from_files(flags, summary, output, max_table_rows)


def _mined(mined: Path, summary: Optional[Path], output: Optional[Path], max_table_rows: int) -> Path:
    from negmine.report.mining import mining_report

    return mining_report(mined, summary, output, max_table_rows)


def _training(model_dir: Path, summary: Optional[Path], output: Optional[Path]) -> Path:
    from negmine.errors import ConfigError
    from negmine.report.training import training_report

    if summary is not None:
        raise ConfigError(f"--summary names an audit summary; {model_dir} is a directory (a negmine train output), "
                          "whose summary is read from it: drop --summary")
    return training_report(model_dir, output)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
