"""``negmine report``: render the HTML audit report from an existing flags JSONL and audit summary."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from negmine.cli.common import user_errors


def report_command(
    flags: Path = typer.Argument(..., help="flags JSONL written by negmine audit"),
    summary: Optional[Path] = typer.Option(None, help="audit summary JSON (default: <flags stem>.audit-summary.json)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="HTML file (default: <flags stem>.report.html)"),
    max_table_rows: int = typer.Option(2000, help="flagged rows shown in the table"),
) -> None:
    """Render a self-contained HTML report (plots + sortable table of flagged pairs)."""
    with user_errors():
        from negmine.audit.run import default_summary_path, flags_stem
        from negmine.report.render import report_from_files

        out = output or flags.with_name(f"{flags_stem(flags)}.report.html")
        report_from_files(flags, summary or default_summary_path(flags), out, max_table_rows)
    typer.echo(f"report: {out}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
