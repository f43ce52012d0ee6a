"""Content fingerprint of a model folder, read from its files without loading the model.

``negmine train`` checks, before any model loads, that re-mining scores rows with the judge that scored the
training file (:mod:`negmine.train.judge_provenance`); the summaries that say which judge record this fingerprint of
its folder (``judge_scores.model_path_fingerprint``). So a copy of the folder elsewhere is the same judge, and
weights re-saved into the same folder are another. The loaded model's own fingerprint
(:func:`negmine.encode.fingerprint.model_identity`, which the summaries record too) needs the model in memory:
seconds for a large judge, and the check runs before any loads.

Which files: the folder's, and those of the module folders its ``modules.json`` names (a sentence-transformers
model's ``1_Pooling``, ``2_Normalize``), each hashed whole (sha256: 0.14 s for a MiniLM-L6 folder, 91 MB of weights
in the page cache, on a 2-core machine shared with other jobs; done as a mining or audit summary is written, so at
every re-mining of a training run too, and once by training's check). Left out: hidden names (``.git``, the
``.cache`` a hub download leaves, with its times), the model card ``README.md`` (loading never reads it), and any
other sub-folder (a training run's ``checkpoints``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

FOLDER_FINGERPRINT_VERSION = 1
LEFT_OUT = ("README.md",)
CHUNK = 1 << 20


def folder_fingerprint(folder: str | Path | None) -> str | None:
    """``"files-<sha256>"`` of (relative path, size, sha256 of the bytes) of each of :func:`model_files`, in path
    order; None when ``folder`` is not a folder, or a file cannot be read."""
    if folder is None or not Path(folder).is_dir():
        return None
    digest = hashlib.sha256(f"version={FOLDER_FINGERPRINT_VERSION}\n".encode())
    try:
        for name, path in model_files(Path(folder)):
            with open(path, "rb") as handle:
                own = hashlib.sha256()
                while chunk := handle.read(CHUNK):
                    own.update(chunk)
            digest.update(f"{name}\0{os.path.getsize(path)}\0{own.hexdigest()}\n".encode("utf-8", "surrogatepass"))
    except OSError:
        return None
    return "files-" + digest.hexdigest()


def model_files(folder: Path) -> list[tuple[str, Path]]:
    """(path relative to ``folder``, in ``/`` form; the file) of the files a model's loading may read, sorted (see
    the module docstring)."""
    found = {}
    for entry in folder.iterdir():
        if entry.is_file() and _kept(entry.name):
            found[entry.name] = entry
    for module in _module_folders(folder):
        for root, dirs, files in os.walk(folder / module, followlinks=True):
            dirs[:] = [d for d in dirs if _kept(d)]
            for name in files:
                path = Path(root) / name
                if _kept(name) and path.is_file():
                    found[path.relative_to(folder).as_posix()] = path
    return sorted(found.items())


def _kept(name: str) -> bool:
    return not name.startswith(".") and name not in LEFT_OUT


def _module_folders(folder: Path) -> list[str]:
    """The sub-folders ``modules.json`` names (a module at the top, path ``""``, is the folder's own files)."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    paths = [m.get("path") for m in modules if isinstance(m, dict)] if isinstance(modules, list) else []
    kept = []
    for path in paths:
        if isinstance(path, str) and path.strip("/.") and (folder / path).is_dir() and _inside(folder, folder / path):
            kept.append(path)
    return sorted(set(kept))


def _inside(folder: Path, path: Path) -> bool:
    """Whether ``path`` lies under ``folder`` (a modules.json path ``../x`` names another folder's files)."""
    return os.path.commonpath([os.path.abspath(folder), os.path.abspath(path)]) == os.path.abspath(folder)
