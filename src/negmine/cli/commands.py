"""Registers every command module. A new command is one module with a ``register(app)`` function."""

from __future__ import annotations

import importlib
import inspect

import typer

from negmine.cli.flag_help import FlagCommand, FlagGroup

COMMAND_MODULES = ("mine", "audit", "train", "eval", "report", "cache")


def register(app: typer.Typer) -> None:
    """Add every command to ``app``; each command and group gets its help paragraphs flowed (:func:`flowed`) and
    no type shown after its flags (:mod:`negmine.cli.flag_help`)."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"negmine.cli.{name}_cmd").register(app)
    for typer_app in (app, *(group.typer_instance for group in app.registered_groups)):
        typer_app.info.cls = FlagGroup
        for info in typer_app.registered_commands:
            info.cls = FlagCommand
            if info.help is None and info.callback is not None:
                info.help = flowed(info.callback.__doc__ or "")


def flowed(doc: str) -> str:
    """A command's docstring as its help text: paragraphs kept, each one line, for the help to wrap at the
    terminal's width. Typer (0.29) keeps the line breaks of the paragraphs after the first, and of the first in
    the command list of ``negmine --help``, so the docstring's source lines showed as lines broken mid-sentence."""
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in inspect.cleandoc(doc).split("\n\n"))
