"""Help that shows no value type after a flag.

Typer (0.29) draws each option's type after it in ``--help`` (``--depth <int>``), flags included: ``--denoise
<bool>``, ``--keep-partial / --no-keep-partial <bool>``, ``--help <bool>``, which reads as if the flag took a value
(``--denoise true`` is refused). The command classes here give every flag an empty metavar, which typer shows
instead of the type, so a flag shows none and every other option keeps its type. :func:`negmine.cli.commands.register`
gives them to every command and group, so no option definition has to say it."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


class _UntypedFlags:
    """Mixin: ``get_params`` (what help, usage and parsing all read, ``--help`` included, which click adds there)
    leaves each flag with the empty metavar; a metavar an option sets itself is kept."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class FlagCommand(_UntypedFlags, TyperCommand):
    """A command whose help shows no type after its flags."""


class FlagGroup(_UntypedFlags, TyperGroup):
    """A command group (``negmine``, ``negmine cache``) whose help shows no type after its flags."""
