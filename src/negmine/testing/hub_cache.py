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


def downloading_at_first_load(loader, cache_dir: str | Path, repo: str, model: str | Path, then=None):
    """A stand-in for the model class ``loader`` (``SentenceTransformer``, ``CrossEncoder``) whose first call
    "downloads" ``repo`` as the local folder ``model`` at commit ``"a" * 40`` (:func:`write_cached_model`) and loads
    it; ``then()``, if given, runs right after that first load, before the code that called it goes on. Each call's
    path and ``revision`` option are in its ``calls``, as ``(path, revision)``."""
    calls: list[tuple[str, str | None]] = []

    def load(path, **options):
        calls.append((str(path), options.get("revision")))
        if len(calls) == 1:
            write_cached_model(cache_dir, repo, model, "a" * 40)
        loaded = loader(path, **options)
        if len(calls) == 1 and then is not None:
            then()
        return loaded

    load.calls = calls  # type: ignore[attr-defined]
    return load


def downloading_then_moved(loader, cache_dir: str | Path, repo: str, model: str | Path, newer: str | Path):
    """:func:`downloading_at_first_load`, after whose first load another process downloads ``newer`` as commit
    ``"b" * 40``: ``refs/main`` moves between the load and what runs after it (the pin of the snapshot it used)."""
    return downloading_at_first_load(loader, cache_dir, repo, model,
                                     then=lambda: write_cached_model(cache_dir, repo, newer, "b" * 40))
