"""The files a cached hub snapshot lacks, named when a model given by hub name fails to load.

A download that stopped part way (a killed process, a lost connection) leaves the snapshot folder of a commit with
the files it finished (``config.json``, ``modules.json``) and without the others (huggingface_hub links a file into
the snapshot only once it is complete): most often the weights, the largest file. Online, a load of that commit
(:func:`negmine.encode.hub.load_pinned`: a pinned name, its folder failing, by ``revision=<commit>``; a name by
``refs/main``) fetches what is missing; offline, transformers failed with ``cross-encoder/my-ce does not appear to have a file named
pytorch_model.bin or model.safetensors``, which reads as a repository without weights. The snapshot is searched only
after a load failed, so a model that loads pays nothing, and what this finds only names the files in the message:
whether the model loads is the libraries' decision alone.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from negmine.errors import ConfigError, first_line

WEIGHTS = ("model.safetensors", "pytorch_model.bin")
"""A transformers model's weights file, one of these (or the shards an index below lists)."""
WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
VOCABULARIES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                "tokenizer.model")
"""The files a tokenizer reads its vocabulary from: one of them, whatever the tokenizer."""
CONFIGURED_MODULES = ("Pooling", "Dense", "LayerNorm")
"""sentence-transformers modules (besides Transformer) that read a ``config.json`` in their folder."""


def missing_files(folder: Path) -> list[str]:
    """The files the model of snapshot ``folder`` needs and it lacks, relative to it: a transformers model's
    ``config.json``, weights (``model.safetensors (or pytorch_model.bin)``, or the shards its index lists) and
    vocabulary (``tokenizer.json (or ...)``), at the folder itself (no ``modules.json``) or in each Transformer module's
    folder that ``modules.json`` lists, and the ``config.json`` of a Pooling, Dense or LayerNorm module; [] when it
    has them all, or ``modules.json`` cannot be read."""
    if not (folder / "modules.json").is_file():
        return _transformers_missing(folder, "")
    missing = []
    for path, kind in _modules(folder):
        if kind == "Transformer":
            missing += _transformers_missing(folder, path)
        elif kind in CONFIGURED_MODULES and not (folder / path / "config.json").is_file():
            missing.append(_relative(path, "config.json"))
    return missing


def _modules(folder: Path) -> list[tuple[str, str]]:
    """(path, class name) of each module ``modules.json`` lists; [] when it cannot be read."""
    try:
        listed = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        return [(str(m.get("path", "")), str(m.get("type", "")).rsplit(".", 1)[-1]) for m in listed]
    except (OSError, ValueError, TypeError, AttributeError):
        return []  # damaged: damaged_json_error names it


def _transformers_missing(folder: Path, path: str) -> list[str]:
    """What the transformers model in ``folder``/``path`` lacks of its config, weights and vocabulary."""
    base = folder / path
    missing = [] if (base / "config.json").is_file() else [_relative(path, "config.json")]
    missing += [_relative(path, name) for name in _missing_weights(base)]
    if not any((base / name).is_file() for name in VOCABULARIES):
        missing.append(_relative(path, f"{VOCABULARIES[0]} (or the vocabulary file its tokenizer reads)"))
    return missing


def _missing_weights(base: Path) -> list[str]:
    """The shards a weights index in ``base`` lists that are not there, else the weights file when none is."""
    for index in WEIGHT_INDEXES:
        if (base / index).is_file():
            try:
                shards = sorted(set(json.loads((base / index).read_text(encoding="utf-8"))["weight_map"].values()))
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                return []  # damaged: damaged_json_error names it
            return [shard for shard in shards if not (base / shard).is_file()]
    return [] if any((base / name).is_file() for name in WEIGHTS) else [f"{WEIGHTS[0]} (or {WEIGHTS[1]})"]


def _relative(path: str, name: str) -> str:
    return f"{path.strip('/')}/{name}" if path.strip("/") else name


def incomplete_snapshot_error(what: str, name: str, organization: str | None,
                              err: BaseException) -> ConfigError | None:
    """The error for a model ``name`` given by hub name (a ``what``: model, cross-encoder; a bare name looked up
    under ``organization``) whose load failed with ``err`` while its cached snapshot (the one pinned, else the one
    ``refs/main`` names: :func:`negmine.encode.hub.cached_snapshot`) lacks files (:func:`missing_files`): it names
    the repository, the commit, the files, the snapshot folder and the fix (fetch that commit's files). None for a
    local folder, a name not cached, and a snapshot with every file."""
    from negmine.encode.hub import cached_snapshot

    if os.path.exists(os.path.expanduser(name)):
        return None
    snapshot = cached_snapshot(name, organization)
    missing = [] if snapshot is None else missing_files(snapshot.folder)
    if not missing:
        return None
    return ConfigError(
        f"could not load {what} {name!r}: commit {snapshot.commit!r} of {snapshot.repo} in the Hugging Face cache "
        f"({snapshot.folder}) lacks {_listed(missing)}, as a download that stopped part way leaves it; "
        f"{_fetch_fix(snapshot, len(missing))} ({type(err).__name__}: {first_line(err, '')})")


def _fetch_fix(snapshot, count: int) -> str:
    """How to fetch the ``count`` files a ``snapshot`` (a :class:`negmine.encode.hub.CachedSnapshot`) lacks:
    ``hf download`` of its commit into its cache, or, offline, the command run again with network."""
    from huggingface_hub import constants

    from negmine.encode.hub import hub_offline

    cache = "" if os.path.abspath(snapshot.cache) == os.path.abspath(constants.HF_HUB_CACHE) else \
        f" --cache-dir {shlex.quote(snapshot.cache)}"
    fetch = f"`hf download {snapshot.repo} --revision {snapshot.commit}{cache}`"
    them = "it" if count == 1 else "them"
    offline = hub_offline()
    if offline is None:
        return f"fetching {them} failed: check the connection and run the command again, or fetch {them} ({fetch})"
    return (f"{offline} forbids fetching {them}: fetch {them} with network ({fetch}), or run the command with "
            f"network, without {offline.split('=')[0]}: the load then fetches that commit's missing files")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
