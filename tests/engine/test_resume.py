"""kill -9 during encoding or search, rerun the same command: it resumes and the output is identical."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = '''
import json, sys, threading, time
from pathlib import Path
from negmine.config import DataConfig, EncoderConfig, EngineConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
import negmine.engine.search as search_module
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder

beir, out, work, encode_stall, search_stall = sys.argv[1:6]
lock = threading.Lock()
calls = {"documents": 0, "search": 0}

def stall_after(kind, limit):
    # the call after the first `limit` ones blocks until the test kills the process: a fixed kill point
    with lock:
        calls[kind] += 1
        stall = 0 < int(limit) < calls[kind]
    if stall:
        time.sleep(3600)

class StallingEmbedder(HashEmbedder):
    def encode(self, texts, prompt=""):
        if any(" item " in t for t in texts):  # a corpus shard (queries have two words)
            stall_after("documents", encode_stall)
        return super().encode(texts, prompt)

plain_task = search_module.search_task
def stalling_task(state, span):
    stall_after("search", search_stall)
    return plain_task(state, span)
search_module.search_task = stalling_task

config = MineConfig(
    data=DataConfig(data_dir=Path(beir)),
    encoder=EncoderConfig(use_cache=False, show_progress=False),
    engine=EngineConfig(work_dir=Path(work), shard_size=10, encode_shard_size=10),
    filters=FilterConfig(sd_margin=None),
    select=SelectConfig(num_negatives=3, strategy="random"),
    output=OutputConfig(path=Path(out)),
)
summary = mine(config, embedder=StallingEmbedder(64)).summary
print(json.dumps({**summary["engine"], **summary["embeddings"]}))
'''


def run_script(tmp_path, beir, out, work, encode_stall=0, search_stall=0, wait=True):
    """Mine in a subprocess; ``encode_stall``/``search_stall`` N > 0 make the (N+1)-th corpus-shard encode /
    search task block until killed, so the kill lands after exactly N finished shards whatever the load."""
    script = tmp_path / "mine_script.py"
    script.write_text(SCRIPT)
    args = [sys.executable, str(script), str(beir), str(out), str(work), str(encode_stall), str(search_stall)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


def kill_when(proc, pattern: str, work: Path, count: int) -> int:
    """SIGKILL ``proc`` once ``count`` files match ``work/pattern``; return how many existed then. Hidden
    files (an atomic write's ``.<name>...tmp``, which pathlib's ``*`` matches) are not counted: a marker still
    being written is not finished."""
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        found = sum(not path.name.startswith(".") for path in work.glob(pattern))
        if found >= count:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return found
        time.sleep(0.02)
    pytest.fail(f"process ended ({proc.returncode}) before {count} files matched {pattern}: {proc.stderr.read()}")


@pytest.fixture
def reference(tmp_path, word_beir):
    out = tmp_path / "reference.jsonl"
    summary = run_script(tmp_path, word_beir, out, tmp_path / "work-ref")
    return out.read_bytes(), summary


def test_kill_during_encoding_resumes_from_last_finished_shard(tmp_path, word_beir, reference):
    out, work = tmp_path / "neg.jsonl", tmp_path / "work"
    proc = run_script(tmp_path, word_beir, out, work, encode_stall=3, wait=False)
    finished = kill_when(proc, "*/documents.npy.done/*", work, 3)
    assert finished == 3, "the fourth shard's encode blocks until the kill"
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    summary = run_script(tmp_path, word_beir, out, work)
    total = reference[1]["encoded"]
    # use_cache=False: the finished shards are read from the work folder, and counted as resumed, not cached
    assert summary["resumed"] >= 10 * finished and summary["encoded"] + summary["resumed"] == total
    assert summary["cached"] == 0
    assert summary["encoded"] < total
    assert out.read_bytes() == reference[0]
    assert not list(work.iterdir()), "work folder left behind after a finished run"


def test_kill_during_search_resumes_from_last_finished_shard(tmp_path, word_beir, reference):
    out, work = tmp_path / "neg.jsonl", tmp_path / "work"
    proc = run_script(tmp_path, word_beir, out, work, search_stall=2, wait=False)
    finished = kill_when(proc, "*/search/*.npz", work, 2)
    assert finished == 2, "the third search task blocks until the kill"
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    summary = run_script(tmp_path, word_beir, out, work)
    assert summary["encoded"] == 0, "finished embedding stores were encoded again"
    assert summary["search_shards_run"] <= summary["search_shards"] - finished
    assert out.read_bytes() == reference[0]
