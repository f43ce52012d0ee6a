"""``negmine report``: render an HTML report from files an earlier command wrote: an audit's flags JSONL and
summary, a ``negmine mine`` native JSONL and its summary, ``negmine eval``'s results JSON, or a ``negmine train``
output directory (its ``negmine_train.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from negmine.cli.common import refuse_unused, user_errors
from negmine.config import TABLE_ROWS


Source = Annotated[Path, typer.Argument(help="flags JSONL written by negmine audit, native JSONL written by negmine mine, results JSON (*.json) written by negmine eval -o, or an output directory of negmine train")]
Summary = Annotated[Optional[Path], typer.Option(help="audit or mining summary JSON (default: <flags stem>.audit-summary.json; <mined stem>.summary.json); eval results and a training run take none")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file (default: <flags stem>.report.html; <mined stem>.mining-report.html; <results stem>.report.html; <dir>/training_report.html)")]
MaxTableRows = Annotated[int, typer.Option(help="rows shown in the table (an audit's flagged pairs; a mined file's smallest-gap rows; an evaluation's queries with the largest delta); a training run has no table")]


def report_command(
    ctx: typer.Context, source: Source, summary: Summary = None, output: Output = None,
    max_table_rows: MaxTableRows = TABLE_ROWS,
) -> None:
    """Render a self-contained HTML report of an audit, a mining run, an evaluation or a training run.

    An audit's (from its flags JSONL): its plots and sortable table of flagged pairs; a mining run's (from its
    native JSONL): its settings and counts, score and gap plots and a table of the smallest-gap rows.

    An evaluation's (from negmine eval's results JSON, *.json): its tables, per-query delta plots and the queries
    that differ most; a training run's (from its output directory): loss and dev curves, dev evaluations,
    re-mining events and configuration.

    A folder is read as a training run, a *.json file as eval results, any other file by its first row (an
    audit's flag or a mined row)."""
    refuse_unused(ctx, [(("max_table_rows",), source.is_dir(),
                         f"{source} is a directory (a negmine train output), whose report has no table of rows",
                         "give an audit's flags JSONL, a mined file or eval results JSON")])
    with user_errors():
        if not source.exists():
            from negmine.errors import InputError
            from negmine.report.sources import SOURCES

            raise InputError(source, None, None, f"not found: give {SOURCES}")
        from negmine.report.sources import source_kind

        render = {"training": _training, "evaluation": _evaluation, "mined": _mined, "audit": _audit}
        out = render[source_kind(source, summary)](source, summary, output, max_table_rows)
    typer.echo(f"report: {out}")


def _audit(flags: Path, summary: Optional[Path], output: Optional[Path], max_table_rows: int) -> Path:
    from negmine.report.render import report_from_files

    return report_from_files(flags, summary, output, max_table_rows)


def _mined(mined: Path, summary: Optional[Path], output: Optional[Path], max_table_rows: int) -> Path:
    from negmine.report.mining import mining_report

    return mining_report(mined, summary, output, max_table_rows)


def _training(model_dir: Path, summary: Optional[Path], output: Optional[Path], max_table_rows: int) -> Path:
    """(``--max-table-rows`` given for a directory was refused before: a training report has no such table.)"""
    from negmine.errors import ConfigError
    from negmine.report.training import training_report

    if summary is not None:
        raise ConfigError(f"--summary names an audit or mining summary; {model_dir} is a directory (a negmine train output), "
                          "whose summary is read from it: drop --summary")
    return training_report(model_dir, output)


def _evaluation(results: Path, summary: Optional[Path], output: Optional[Path], max_table_rows: int) -> Path:
    from negmine.errors import ConfigError
    from negmine.report.evaluation import eval_report

    if summary is not None:
        raise ConfigError(f"--summary names an audit or mining summary; {results} is negmine eval's results JSON, whose report "
                          "reads nothing else: drop --summary")
    return eval_report(results, output, max_table_rows)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
