"""The embedding dimension of a local model folder, read from its small JSON files without loading any weight.

Why: a check against the model's dimension (``negmine train --matryoshka-dims`` above it) otherwise waits until
the model has loaded, after the trainer's import (seconds), and a message written without it may suggest dims
the model then refuses. A sentence-transformers folder states its dimension in a few bytes: ``modules.json``
lists the modules, the ``Pooling`` module's ``config.json`` gives the token-embedding size
(``embedding_dimension``, before sentence-transformers 6 ``word_embedding_dimension``) and its modes (each adds
that many dims), a ``Dense`` layer writing the sentence embedding its ``out_features``; a plain transformers folder
(``config.json`` only) is loaded with mean pooling, so its ``hidden_size``. The answer is given only when every
module is one whose output size those files determine; anything else (a hub name, a custom or unknown module,
an unreadable file) gives None, and the check made once the model has loaded decides.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from negmine.encode.default_model import resolve_model
from negmine.errors import ConfigError

SAME_SIZE = ("Normalize", "LayerNorm", "Dropout")
"""Modules whose output has the size of their input."""

LEGACY_POOLING_MODES = ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_tokens",
                        "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken")
"""The ``Pooling`` flags of sentence-transformers before 6 (each mode on adds one token-embedding size)."""

SENTENCE_EMBEDDING = "sentence_embedding"


def folder_dimension(model: str) -> int | None:
    """The embedding dimension of ``model`` when it is a local folder (the bundled default included) whose
    files state it; None otherwise (see the module docstring)."""
    if not isinstance(model, str):
        return None
    try:
        folder = Path(os.path.expanduser(resolve_model(model)))
        if not folder.is_dir():
            return None
        return _dimension(folder)
    except (ConfigError, OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _dimension(folder: Path) -> int | None:
    if not (folder / "modules.json").is_file():
        return _hidden_size(folder)  # a transformers folder: sentence-transformers adds mean pooling
    dim = None
    for module in json.loads((folder / "modules.json").read_text(encoding="utf-8")):
        kind = str(module["type"]).rsplit(".", 1)[-1]
        path = folder / module.get("path", "")
        if kind == "Pooling":
            dim = _pooling_dimension(_read(path / "config.json"))
        elif kind == "Dense":
            dim = _dense_dimension(_read(path / "config.json"), dim)
        elif kind != "Transformer" and kind not in SAME_SIZE:
            return None
    return dim


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _hidden_size(folder: Path) -> int | None:
    size = _read(folder / "config.json").get("hidden_size")
    return size if _positive_int(size) else None


def _pooling_dimension(config: dict) -> int | None:
    size = config.get("embedding_dimension", config.get("word_embedding_dimension"))
    if "pooling_mode" in config:
        mode = config["pooling_mode"]
        modes = 1 if isinstance(mode, str) else len(mode)
    else:
        modes = sum(bool(config.get(flag)) for flag in LEGACY_POOLING_MODES) or 1  # none on: mean
    return size * modes if _positive_int(size) and modes else None


def _dense_dimension(config: dict, before: int | None) -> int | None:
    """``out_features`` when the layer writes the sentence embedding; else the sentence embedding is unchanged."""
    source = config.get("module_input_name", SENTENCE_EMBEDDING)
    target = config.get("module_output_name") or source
    if target != SENTENCE_EMBEDDING:
        return before
    size = config.get("out_features")
    return size if _positive_int(size) else None


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
