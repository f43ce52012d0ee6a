"""A run encoding texts into an embedding cache in another process, held at a gate: for tests of concurrent runs.

:func:`start_gated_run` starts ``encode_to_store`` (what ``negmine mine`` runs) in a fresh interpreter over the
given texts with a :class:`~negmine.testing.hash_embedder.HashEmbedder` whose every ``encode`` call first
touches ``<gate>.started`` and then waits until the file ``gate`` exists (plus ``delay`` seconds), so a test
decides when the run may finish, or kills it mid-encode. The process prints ``{"encoded": n, "cached": n}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

SCRIPT = """
import json, sys, time
from pathlib import Path
from negmine.encode.cache import EmbeddingCache
from negmine.engine.encode import encode_to_store
from negmine.engine.local import LocalEngine
from negmine.testing.hash_embedder import HashEmbedder

root, store, gate, shard, prompt, texts = sys.argv[1:7]
shard, texts, delay, dim = int(shard), json.loads(texts), float(sys.argv[7]), int(sys.argv[8])
gate = Path(gate)

class Gated(HashEmbedder):
    def encode(self, texts, prompt=""):
        gate.with_name(gate.name + ".started").touch()
        while not gate.exists():
            time.sleep(0.02)
        time.sleep(delay)
        return super().encode(texts, prompt)

embedder = Gated(dim)
shelf = EmbeddingCache(root).shelf(embedder.fingerprint, prompt)
result = encode_to_store(LocalEngine(), lambda: embedder, texts, prompt, store, (embedder.fingerprint, dim), shard, shelf)
print(json.dumps({"encoded": result.n_encoded, "cached": result.n_cached}))
"""


def start_gated_run(folder: Path, cache: Path, store: Path, gate: Path, texts: Sequence[str], prompt: str = "",
                    shard: int = 64, delay: float = 0.0, dim: int = 32) -> subprocess.Popen:
    """Start the gated run (script written to ``folder``); its vectors go to ``store`` and the cache ``cache``."""
    script = Path(folder) / "gated_run.py"
    script.write_text(SCRIPT)
    args = [sys.executable, str(script), str(cache), str(store), str(gate), str(shard), prompt, json.dumps(list(texts)),
            str(delay), str(dim)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_started(gate: Path, timeout: float = 60) -> None:
    """Return once the gated run has started encoding (its embedder waits at ``gate``)."""
    deadline = time.time() + timeout
    while not Path(gate).with_name(Path(gate).name + ".started").exists():
        if time.time() > deadline:
            raise AssertionError("the gated run never started encoding")
        time.sleep(0.02)


def finished(proc: subprocess.Popen, timeout: float = 60) -> dict:
    """The gated run's ``{"encoded": n, "cached": n}`` once it exits (AssertionError with its stderr if it failed)."""
    stdout, stderr = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"the gated run exited with {proc.returncode}:\n{stderr}")
    return json.loads(stdout.strip().splitlines()[-1])
