"""A fake local Hugging Face cache for tests of the hub checks (no network, no real model)."""

from __future__ import annotations

from pathlib import Path


def write_cached_repo(cache_dir: str | Path, repo: str, filename: str = "config.json") -> Path:
    """Lay out ``repo`` (``org/name``) in ``cache_dir`` as huggingface_hub caches it, holding ``filename`` only
    (``{}``): ``models--org--name/refs/main`` naming a snapshot that has the file. Returns the file's path."""
    folder = Path(cache_dir) / ("models--" + repo.replace("/", "--"))
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text("0" * 40)
    snapshot = folder / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / filename).write_text("{}")
    return snapshot / filename


def write_cached_model(cache_dir: str | Path, repo: str, model: str | Path, commit: str) -> Path:
    """Lay out the files of the local model folder ``model`` in ``cache_dir`` as huggingface_hub caches ``repo``
    (``org/name``) at ``commit`` (40 hex digits), and point ``refs/main`` at it, as a download of a new revision
    does (an older snapshot stays beside it). Returns the snapshot folder."""
    import shutil

    folder = Path(cache_dir) / ("models--" + repo.replace("/", "--"))
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    snapshot = folder / "snapshots" / commit
    if not snapshot.exists():
        shutil.copytree(model, snapshot)
    (folder / "refs" / "main").write_text(commit)
    return snapshot
