"""Registers every command module. A new command is one module with a ``register(app)`` function."""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = ("mine", "audit", "train", "eval", "report")


def register(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"negmine.cli.{name}_cmd")
        except ModuleNotFoundError as err:
            if err.name != f"negmine.cli.{name}_cmd":
                raise
            continue
        module.register(app)
