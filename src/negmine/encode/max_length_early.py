"""``--max-length`` checked against a local model's ``config.json`` before the model loads or any data is read.

:func:`negmine.encode.max_length.set_max_length` refuses a length beyond the model's absolute position table once
the model has loaded: after the data was read and validated and the weights loaded (minutes for a large model or
corpus). A local folder's ``config.json`` tells the same limit for the encoder families whose position table it
sizes (``max_position_embeddings``; RoBERTa-style tables start after ``pad_token_id``), so the run stops at once.
Other models (hub names, rotary or relative positions, an unknown family) are left to the check at load.
"""

from __future__ import annotations

import json
from pathlib import Path

from negmine.encode.max_length import too_long
from negmine.errors import ConfigError

_ABSOLUTE = frozenset({"bert", "roberta", "xlm-roberta", "camembert", "distilbert", "mpnet", "electra", "albert"})
_AFTER_PADDING = frozenset({"roberta", "xlm-roberta", "camembert", "mpnet"})


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _transformer_folder(folder: Path) -> Path:
    """The folder of a sentence-transformers model's Transformer module (``modules.json``), else ``folder``."""
    modules = _json(folder / "modules.json")
    for module in modules if isinstance(modules, list) else []:
        if isinstance(module, dict) and str(module.get("type", "")).endswith("Transformer"):
            return folder / str(module.get("path", ""))
    return folder


def config_position_limit(model_dir: str | Path) -> int | None:
    """The most tokens the local model at ``model_dir`` can embed, read from its ``config.json``; None when that
    cannot be told without loading it (no such folder, another family, positions that are not absolute)."""
    folder = Path(model_dir)
    if not folder.is_dir():
        return None
    config = _json(_transformer_folder(folder) / "config.json")
    if not isinstance(config, dict) or config.get("model_type") not in _ABSOLUTE:
        return None
    if config.get("position_embedding_type", "absolute") != "absolute":
        return None
    size, padding = config.get("max_position_embeddings"), config.get("pad_token_id")
    if not isinstance(size, int) or isinstance(size, bool):
        return None
    after_padding = config["model_type"] in _AFTER_PADDING and isinstance(padding, int)
    return size - padding - 1 if after_padding else size


def _own_length(folder: Path, limit: int) -> str:
    """The length the model truncates to unless told (as sentence-transformers sets ``max_seq_length``: its
    ``sentence_bert_config.json``, else the tokenizer's ``model_max_length``), for the message; "length" if unread."""
    module = _transformer_folder(folder)
    for name, key in (("sentence_bert_config.json", "max_seq_length"), ("tokenizer_config.json", "model_max_length")):
        found = _json(module / name)
        value = found.get(key) if isinstance(found, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= limit:
            return str(value)
    return "length"


def check_max_length_early(model: str, max_length: int | None) -> None:
    """Refuse a ``max_length`` beyond a local model's position table (the message of ``set_max_length``), before
    the model loads; a model this cannot read is checked at load, as before."""
    if max_length is None:
        return
    from negmine.encode.default_model import resolve_model

    try:
        folder = resolve_model(model)
    except ConfigError:  # the default model without its package: said where it loads, with its own fix
        return
    limit = config_position_limit(folder)
    if limit is not None and max_length > limit:
        raise too_long(max_length, model, limit, _own_length(Path(folder), limit))
