"""The JSON file of a model folder that cannot be read, named when the model fails to load.

A folder whose ``config.json``, ``modules.json``, ``sentence_bert_config.json``, ``tokenizer_config.json``... was
cut short (a copy or download stopped part way) failed with the parser's words and not the file's: sentence-
transformers let json's error through (``JSONDecodeError: Unterminated string starting at: line 5 column 23``),
transformers named ``config.json`` without line or column, and a ``tokenizer.json`` cut short read as
"Unrecognized processing class". The folder is searched only after a load failed, so a model that loads pays nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from negmine.errors import ConfigError

MODEL_JSON_FILES = (
    "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "config.json",
    "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json",
    "generation_config.json", "preprocessor_config.json", "adapter_config.json", "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)
"""The JSON files sentence-transformers and transformers read as a model loads, in about the order they read them,
looked for in the folder and in its module folders (``1_Pooling/config.json``). Other JSON files (a training run's
``negmine_train.json``, an eval's results) are not read by the loaders, so one broken is not the cause."""


def damaged_json_error(what: str, name: str, folder: Path | None) -> ConfigError | None:
    """The error for a model ``name`` (a ``what``: model, cross-encoder) that failed to load, when a JSON file of
    its ``folder`` (the local folder or cached hub snapshot, :func:`negmine.encode.sentence_transformer.model_folder`)
    cannot be read: it names the file, where it breaks and the fix. None when every one reads."""
    found = _first_damaged(folder) if folder is not None and folder.is_dir() else None
    if found is None:
        return None
    path, problem = found
    if problem.startswith("starts with a byte-order mark"):
        fix = f"remove the mark, e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' {path}"
    else:
        fix = "it is damaged or cut short (a copy or download that stopped?): " + _fix(folder)
    return ConfigError(f"could not load {what} {name!r}: its file {path} {problem}; {fix}")


def _fix(folder: Path) -> str:
    """Save or copy a local model again; download a hub model again (its cache folder deleted, since the hub
    client trusts the files it finds there)."""
    snapshots = folder.parent
    if snapshots.name == "snapshots" and snapshots.parent.name.startswith("models--"):
        return f"download the model again: delete its Hugging Face cache folder {snapshots.parent} and load it again"
    return "copy, download or save the model again"


def _first_damaged(folder: Path) -> tuple[Path, str] | None:
    modules = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for base in (folder, *modules):
        for name in MODEL_JSON_FILES:
            path = base / name
            problem = _json_problem(path) if path.is_file() else None
            if problem is not None:
                return path, problem
    return None


def _json_problem(path: Path) -> str | None:
    """Why the loaders cannot read ``path`` (json.loads of its UTF-8 text, as they do), or None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None  # unreadable for another reason: the load error says it
    if data.startswith(b"\xef\xbb\xbf"):
        return ("starts with a byte-order mark (U+FEFF), which the loaders' JSON parser refuses (it was saved by an "
                "editor that adds one?)")
    try:
        json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        return f"is not valid UTF-8 (byte {err.start + 1} of {len(data)})"
    except json.JSONDecodeError as err:
        return f"is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
    except RecursionError:
        return "is not JSON the loaders can read (nested too deep)"
    return None
