"""Shared CLI plumbing: turning negmine errors into one clear line and exit code 2."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

import typer

from negmine.errors import NegmineError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Report expected errors (bad input, bad options) as ``error: <message>`` and exit 2, no traceback."""
    try:
        yield
    except NegmineError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=2) from err
    except KeyboardInterrupt:
        typer.echo("interrupted; outputs already written are complete, partial ones were discarded", err=True)
        raise typer.Exit(code=130) from None
    except FileNotFoundError as err:
        typer.echo(f"error: file not found: {err.filename}", err=True)
        raise typer.Exit(code=2) from err


def echo_json(payload: dict) -> None:
    import json

    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
