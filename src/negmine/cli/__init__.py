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
    it stops, says so; a third time, quits at once (:mod:`negmine.cli.interrupts`). Every command, stopped or not,
    ends with :func:`~negmine.cli.interrupts.end_process`, whose Ctrl-C handling lasts to the end: a Ctrl-C
    pressed as a command finishes neither kills the process nor prints a traceback."""
    from negmine.cli.interrupts import (
        EXIT_CODE, INTERRUPTED, LOADING_STOPPED, end_process, install_ctrl_c, typer_stopped,
    )

    if not install_ctrl_c():  # SIGINT ignored (nohup) or someone else's: theirs to the end
        build_app()()
        return
    try:
        build_app()()
    except SystemExit as end:
        if typer_stopped(end):  # a Ctrl-C outside the command's report (option parsing, typer's callback)
            typer.echo(INTERRUPTED, err=True)
        end_process(end.code)
    except KeyboardInterrupt:  # Ctrl-C while the command was loading (imports), before it could report it
        typer.echo(LOADING_STOPPED, err=True)
        end_process(EXIT_CODE)
    except BaseException:
        sys.excepthook(*sys.exc_info())  # the traceback the interpreter would print
        end_process(1)
    end_process(0)
