"""The embedding-cache namespaces re-mining writes, removed when the training run finishes.

Each re-mining encodes the whole corpus (and the queries) with the model being trained, and mining caches those
vectors in a namespace of their own (fingerprint ``<weights digest>|train-step=K``; ``negmine cache list``:
``<model> being trained, step K``). No later run can use them: the digest is that of this run's weights at step K,
and a finished run is never trained on. Left behind, each re-mining of a 1M-document corpus at 768 dims kept
~3 GB for good.

So every re-mining records its fingerprint and cache folder in ``remine/cached_vectors.json`` before it mines, and
a run that finishes deletes those namespaces (:func:`remove_training_vectors`, through
:func:`negmine.encode.cache_prune.delete_namespaces`: never one a process holds; those are kept and counted). A run
stopped (Ctrl-C, a crash) keeps them: resumed, it trains the same weights (measured: the demo, tiny model,
``--remine-steps 2``, stopped after step 4's re-mining and resumed from checkpoint-2: step 4's fingerprint was the
same and its 360 texts all came from the cache), and the finished run removes what every part recorded, also the
namespace of a re-mining a stop cut short. The starting model's namespaces (the mining) are never touched: their
fingerprint has no training step. A re-mining stopped while encoding also leaves its mining work folder
(``<cache>/runs/<key>/``); nothing here removes it: the resume re-mines that step with the same weights, hence the
same run key, resumes from the folder and removes it as any finished mine does (measured 2026-12-06, demo, tiny
model, stopped by Ctrl-C, SIGTERM or an exception after 2 of 5 shards: 128 documents resumed, ``runs/`` left empty).
"""

from __future__ import annotations

import json
from pathlib import Path

from negmine.io.atomic import atomic_write

RECORD_NAME = "cached_vectors.json"
"""In the run's ``remine/`` folder: ``[{"step", "fingerprint", "cache"}]``, one per re-mining whose vectors a cache
may hold."""


def record_vectors(remine_dir: Path, step: int, fingerprint: str, cache: Path) -> None:
    """Add the re-mining at ``step`` (its embedder's ``fingerprint``, the ``cache`` folder it mines with) to the
    record, before it writes anything there (one run trains into a folder at a time: no concurrent writer)."""
    entries = recorded_vectors(remine_dir)
    entry = {"step": step, "fingerprint": fingerprint, "cache": str(cache)}
    if entry not in entries:
        remine_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(remine_dir / RECORD_NAME) as handle:
            json.dump([*entries, entry], handle, indent=2)


def recorded_vectors(remine_dir: Path) -> list[dict]:
    """The record's entries (none when it is missing or unreadable: then nothing is removed)."""
    try:
        entries = json.loads((remine_dir / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict) and {"step", "fingerprint", "cache"} <= e.keys()] \
        if isinstance(entries, list) else []


def remove_training_vectors(remine_dir: Path) -> dict | None:
    """Delete the recorded namespaces; ``{"removed", "bytes_freed", "kept_in_use"}``, counted in namespaces (one
    per re-mining and prompt: queries and documents apart when their prompts differ; None: nothing recorded).
    The record keeps the entries of namespaces kept in use (``negmine cache prune --model`` takes them later: their
    fingerprint), and is removed once none is left."""
    from negmine.encode.cache_prune import delete_namespaces

    entries = recorded_vectors(remine_dir)
    if not entries:
        return None
    removed, freed, in_use, kept = 0, 0, 0, []
    for cache in sorted({e["cache"] for e in entries}):
        mine = [e for e in entries if e["cache"] == cache]
        result = delete_namespaces(cache, {e["fingerprint"] for e in mine})
        removed, freed, in_use = removed + len(result.deleted), freed + result.freed, in_use + len(result.in_use)
        held = {entry.fingerprint for entry in result.in_use}
        kept += [e for e in mine if e["fingerprint"] in held]
    if kept:
        with atomic_write(remine_dir / RECORD_NAME) as handle:
            json.dump(kept, handle, indent=2)
    else:
        (remine_dir / RECORD_NAME).unlink(missing_ok=True)
    return {"removed": removed, "bytes_freed": freed, "kept_in_use": in_use}
