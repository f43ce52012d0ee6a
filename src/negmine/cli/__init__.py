"""The ``negmine`` command line: a thin map of options onto the config dataclasses.

Each command lives in its own module and registers itself on ``app`` in :func:`build_app`.
Nothing in the library imports this package.
"""

from __future__ import annotations

import sys

import typer


def build_app() -> typer.Typer:
    from negmine.cli import commands

    app = typer.Typer(
        name="negmine",
        help="Build clean contrastive training data for embedding models, train on it, and prove the gain.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    commands.register(app)
    return app


def _show_version(value: bool) -> None:
    if value:
        from negmine import __version__

        typer.echo(f"negmine {__version__}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="print negmine's version and exit"),
) -> None:
    """Build clean contrastive training data for embedding models, train on it, and prove the gain."""
    from negmine.cli.warning_lines import cli_warnings

    ctx.with_resource(cli_warnings())  # negmine's warnings as `warning: ...` lines until the command ends


def main() -> None:
    """The process entry point (``negmine``, ``python -m negmine``): Ctrl-C stops the command; pressed again while
    it stops, says so; a third time, quits at once (:mod:`negmine.cli.interrupts`). A command a Ctrl-C stopped
    ends with :func:`~negmine.cli.interrupts.end_stopped`, whose Ctrl-C handling lasts to the end."""
    from negmine.cli.interrupts import end_stopped, install_ctrl_c, stopped

    install_ctrl_c()
    try:
        build_app()()
    except SystemExit as end:
        if stopped():
            end_stopped(end.code)
        raise
    except BaseException as error:  # e.g. Ctrl-C while the command was loading, before it could report it
        if not stopped():
            raise
        sys.excepthook(*sys.exc_info())  # the traceback the interpreter would print
        end_stopped(130 if isinstance(error, KeyboardInterrupt) else 1)
