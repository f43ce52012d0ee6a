"""Registers every command module. A new command is one module with a ``register(app)`` function."""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = ("mine", "audit", "train", "eval", "report", "cache")


def register(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"negmine.cli.{name}_cmd").register(app)
