"""Shared CLI plumbing: the options several commands share (defined once here), and turning negmine
errors into one clear line and exit code 2."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator, NamedTuple

import typer

from negmine.config import BACKENDS, DEFAULT_MODEL, PRECISIONS, QUANTIZATIONS, UNKNOWN_QRELS
from negmine.errors import NegmineError

ENCODER_PANEL = "Model and encoding"
OUTPUT_PANEL = "Output"
DATA_PANEL = "Input"


class OptionSpec(NamedTuple):
    """One shared option: default, explicit flag declarations (empty: typer derives ``--name``), help, panel."""

    default: Any
    decls: tuple[str, ...]
    help: str
    panel: str = ENCODER_PANEL


SHARED_OPTIONS: dict[str, OptionSpec] = {
    "model": OptionSpec(DEFAULT_MODEL, (), "sentence-transformers model name or path"),
    "query_prompt": OptionSpec("", (), "prefix for queries, e.g. 'query: '"),
    "document_prompt": OptionSpec("", (), "prefix for documents, e.g. 'passage: '"),
    "max_length": OptionSpec(None, (), "max tokens per text (longer texts are truncated)"),
    "batch_size": OptionSpec(64, (), "encoding batch size"),
    "precision": OptionSpec("auto", (), f"{' | '.join(PRECISIONS)} (auto: bf16 where the CPU has it)"),
    "cache_dir": OptionSpec(None, (), "embedding cache (default $NEGMINE_CACHE or ~/.cache/negmine)"),
    "cache": OptionSpec(True, ("--cache/--no-cache",), "reuse cached embeddings"),
    "backend": OptionSpec("torch", (), f"encoder runtime: {' | '.join(BACKENDS)} (exported once, cached)"),
    "quantize": OptionSpec("none", (), f"with --backend onnx: {' | '.join(QUANTIZATIONS)} (dynamic int8 weights)"),
    "progress": OptionSpec(True, ("--progress/--no-progress",), "progress bars", OUTPUT_PANEL),
    "unknown_qrels": OptionSpec(
        "error", (),
        f"qrels rows whose corpus-id is not in the corpus: {' | '.join(UNKNOWN_QRELS)} (skip: load anyway and report "
        "the count; mining drops them, eval scores them as never retrievable, as BEIR does)",
        DATA_PANEL,
    ),
}


def shared_option(name: str) -> Any:
    """A fresh ``typer.Option`` for the shared option ``name`` (a key of ``SHARED_OPTIONS``), so that every
    command declares e.g. ``precision: str = shared_option("precision")`` with the same flag, default and help."""
    spec = SHARED_OPTIONS[name]
    return typer.Option(spec.default, *spec.decls, help=spec.help, rich_help_panel=spec.panel)


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
