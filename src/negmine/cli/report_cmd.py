"""``negmine report``: render an HTML report from files an earlier command wrote: an audit's flags JSONL and
summary, or a ``negmine train`` output directory (its ``negmine_train.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from negmine.cli.common import refuse_unused, user_errors
from negmine.config import TABLE_ROWS


Source = Annotated[Path, typer.Argument(help="flags JSONL written by negmine audit, or an output directory of negmine train")]
Summary = Annotated[Optional[Path], typer.Option(help="audit summary JSON (default: <flags stem>.audit-summary.json)")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file (default: <flags stem>.report.html; <dir>/training_report.html)")]
MaxTableRows = Annotated[int, typer.Option(help="flagged rows shown in the table")]


def report_command(
    ctx: typer.Context, source: Source, summary: Summary = None, output: Output = None,
    max_table_rows: MaxTableRows = TABLE_ROWS,
) -> None:
    """Render a self-contained HTML report of an audit or of a training run.

    An audit's (from its flags JSONL): its plots and sortable table of flagged pairs; a training run's (from its
    output directory): loss and dev curves, dev evaluations, re-mining events and configuration."""
    refuse_unused(ctx, [(("max_table_rows",), source.is_dir(),
                         f"{source} is a directory (a negmine train output), whose report has no flags table",
                         "give the flags JSONL of an audit")])
    with user_errors():
        if not source.exists():
            from negmine.errors import InputError

            raise InputError(source, None, None, "not found: give the flags JSONL that negmine audit wrote, or the "
                                                 "output directory of a negmine train run")
        out = _training(source, summary, output) if source.is_dir() else _audit(source, summary, output, max_table_rows)
    typer.echo(f"report: {out}")


def _audit(flags: Path, summary: Optional[Path], output: Optional[Path], max_table_rows: int) -> Path:
    from negmine.report.render import report_from_files

    return report_from_files(flags, summary, output, max_table_rows)


def _training(model_dir: Path, summary: Optional[Path], output: Optional[Path]) -> Path:
    from negmine.errors import ConfigError
    from negmine.report.training import training_report

    if summary is not None:
        raise ConfigError(f"--summary names an audit summary; {model_dir} is a directory (a negmine train output), "
                          "whose summary is read from it: drop --summary")
    return training_report(model_dir, output)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
