from __future__ import annotations

import faulthandler
import os
import sys
from pathlib import Path

import pytest

SHARED_SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
# the bound on one slow end-to-end test (seconds; the longest took about 10 minutes here); pyproject's timeout is the
# fast tests' bound
SLOW_TEST_TIMEOUT = 1800
# seconds before a test's bound (at most a tenth of it) at which every thread's stack goes to stderr: pytest-timeout's
# own dump (thread method) is lost in a pytest-xdist worker, whose stderr reaches the console
STACKS_BEFORE_TIMEOUT = 20
_STDERR = pytest.StashKey[int]()


def pytest_collection_modifyitems(items) -> None:
    """A slow test without its own timeout mark gets :data:`SLOW_TEST_TIMEOUT` in place of the fast tests' bound."""
    for item in items:
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT))


def pytest_configure(config) -> None:
    config.stash[_STDERR] = os.dup(sys.__stderr__.fileno())  # before a test's output capture takes fd 2


def pytest_unconfigure(config) -> None:
    os.close(config.stash[_STDERR])


def timeout_of(item) -> float:
    """The seconds pytest-timeout gives ``item``: its timeout mark, else --timeout or the ini's (0: none)."""
    if not item.config.pluginmanager.hasplugin("timeout"):
        return 0.0
    mark = item.get_closest_marker("timeout")
    if mark is not None and mark.args:
        return float(mark.args[0])
    given = item.config.getoption("timeout", None)
    return float(given if given is not None else item.config.getini("timeout") or 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Every thread's stack on stderr shortly before the test's bound ends its worker (:data:`STACKS_BEFORE_TIMEOUT`)."""
    bound = timeout_of(item)
    if bound > 0:
        early = min(STACKS_BEFORE_TIMEOUT, bound / 10)
        faulthandler.dump_traceback_later(bound - early, file=item.config.stash[_STDERR])
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _a_folder_and_a_cache_of_its_own(tmp_path_factory, monkeypatch) -> None:
    """Each test runs in a folder of its own with an embedding cache of its own ($NEGMINE_CACHE; a test that sets or
    removes it still does). Two tests on two pytest-xdist workers writing a default relative output
    (``audit.flags.jsonl`` and its summary) in the checkout took each other's output lock (a fresh-clone CI run,
    2026-12-07), and ``~/.cache/negmine`` was shared by every test of the run and the user's own runs."""
    folder = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NEGMINE_CACHE", str(folder / ".negmine-cache"))


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A 2-layer random BERT bi-encoder saved locally (seconds to build, no hub)."""
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    return build_tiny_bi_encoder(tmp_path_factory.mktemp("tiny_bi"))


def cut_json(path: Path) -> int:
    """``path`` (a JSON object, one key a line, as transformers writes config.json) cut after its "model_type" line,
    as a copy or download that stopped leaves it; returns the line where the parser then fails."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = lines[: next(i for i, line in enumerate(lines) if '"model_type"' in line) + 1]
    path.write_text("".join(kept), encoding="utf-8")
    return len(kept) + 1


@pytest.fixture(scope="session")
def tiny_cross_encoder_path(tmp_path_factory) -> Path:
    from negmine.testing.tiny_models import build_tiny_cross_encoder

    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny_ce"))


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    if not (SHARED_SCIFACT / "corpus.jsonl").exists():
        pytest.skip(f"SciFact not found at {SHARED_SCIFACT}")
    return SHARED_SCIFACT


@pytest.fixture
def not_a_bi_encoder():
    """The refusal of a cross-encoder folder given as a bi-encoder (``what``: "model" or "teacher"), as a function of
    (what, path, kind)."""
    return _not_a_bi_encoder


def _not_a_bi_encoder(what: str, path, kind: str) -> str:
    option = "--teacher" if what == "teacher" else "--model"
    return (f"{what} '{path}' is {kind}, not a bi-encoder: it scores a (query, document) pair together and does not "
            "encode a text alone, so sentence-transformers would load its backbone with mean pooling and drop the "
            f"scoring head, and the vectors would be no trained model's; give a re-ranker as --cross-encoder {path} "
            f"(negmine audit, negmine mine --denoise), and pass a bi-encoder as {option} (a sentence-transformers "
            "folder, e.g. the folder `negmine train -o DIR` wrote, or a hub name)")


@pytest.fixture(scope="session")
def tiny_sparse_encoder_path(tmp_path_factory) -> Path:
    """A 2-layer random BERT SPLADE SparseEncoder saved by sentence-transformers (no hub)."""
    from negmine.testing.tiny_models import build_tiny_sparse_encoder

    return build_tiny_sparse_encoder(tmp_path_factory.mktemp("tiny_sparse"))


@pytest.fixture
def not_a_dense_encoder():
    """The refusal of a SparseEncoder folder given as a bi-encoder (``what``: "model" or "teacher"), as a function of
    (what, path)."""
    return _not_a_dense_encoder


def _not_a_dense_encoder(what: str, path) -> str:
    option = "--teacher" if what == "teacher" else "--model"
    return (f"{what} '{path}' is a SparseEncoder model (sentence-transformers), not a dense bi-encoder: it encodes a "
            "text as a sparse vector over its vocabulary (SPLADE-style: a masked-language-model head and sparse "
            "pooling), so sentence-transformers would load only its backbone with mean pooling and drop the rest, and "
            "the vectors would be no trained model's; negmine needs one dense vector per text: pass a bi-encoder as "
            f"{option} (a sentence-transformers folder, e.g. the folder `negmine train -o DIR` wrote, or a hub name)")


@pytest.fixture
def unreachable_hub(tmp_path, monkeypatch) -> tuple[str, int]:
    """Online (no offline variable), an empty Hugging Face cache, the current folder an empty one, and the hub's
    address a local port nothing listens on: a bare model name can come from nowhere. Returns that address."""
    import socket

    from huggingface_hub import constants

    from negmine.encode import hub

    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        address = sock.getsockname()
    monkeypatch.chdir(tmp_path)
    for variable in ("SENTENCE_TRANSFORMERS_HOME", *hub.OFFLINE_VARIABLES):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hub, "hub_address", lambda: address)
    return address


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache in place of the real one, offline (huggingface_hub reads HF_HUB_OFFLINE when
    imported, so its constant is set too): a hub name loads from this cache or not at all."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    return tmp_path / "hf-cache"


@pytest.fixture(scope="session")
def mined_cache(tmp_path_factory, tiny_model_path, tiny_cross_encoder_path) -> Path:
    """A cache folder filled by a real ``negmine mine --denoise --keep-work`` on a tiny BEIR set (tiny models,
    query prompt 'query: '): two embedding namespaces (prompts 'query: ' and ''), one of cross-encoder scores and
    the run's work folder. Tests that change it copy it first (:func:`copied_cache`)."""
    from typer.testing import CliRunner

    from negmine.cli import build_app
    from negmine.testing.beir import write_beir

    work = tmp_path_factory.mktemp("mined_cache")
    corpus = {f"d{i}": f"cell protein gene study {i} " + "blood " * (i % 3) for i in range(12)}
    beir = write_beir(work / "b", corpus, {"q1": "cell protein", "q2": "gene blood"}, [("q1", "d0", 1), ("q2", "d1", 1)])
    result = CliRunner().invoke(build_app(), [
        "mine", str(beir), "--model", str(tiny_model_path), "--cache-dir", str(work / "cache"), "--keep-work",
        "--query-prompt", "query: ", "--encode-shard-size", "5", "--denoise", "--cross-encoder",
        str(tiny_cross_encoder_path), "--cross-encoder-margin", "0", "--min-votes", "1", "--num-negatives", "2",
        "--depth", "8", "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0",
        "--output", str(work / "o" / "n.jsonl"), "--no-progress"])
    assert result.exit_code == 0, result.output
    import gc

    gc.collect()  # the run's cache shelves end their leases
    return work / "cache"


@pytest.fixture
def copied_cache(mined_cache, tmp_path) -> Path:
    """A copy of :func:`mined_cache` a test may prune (file times kept)."""
    import shutil

    return Path(shutil.copytree(mined_cache, tmp_path / "cache"))


@pytest.fixture
def copied_work_dir(mined_cache, tmp_path) -> Path:
    """A folder laid out as ``negmine mine --work-dir DIR --keep-work`` leaves DIR (the run folder and its lease
    file, as :func:`mined_cache` keeps them under ``runs/``), with a user's files beside them that are no run's: a
    file, a folder named like a run key that holds no run's file, and a link to the run folder."""
    import shutil

    work = Path(shutil.copytree(mined_cache / "runs", tmp_path / "work"))
    (work / "notes.txt").write_text("mine")
    (work / "0123456789abcdef0123456789abcdef").mkdir()  # e.g. a folder named by an md5
    (work / "0123456789abcdef0123456789abcdef" / "photo.jpg").write_bytes(b"x")
    run = next(p for p in work.iterdir() if p.is_dir() and (p / "documents.npy").exists())
    (work / "fedcba9876543210fedcba9876543210").symlink_to(run)
    return work


SCRIPT_QUERY = "<script>alert(1)</script>"
"""Appended to the demo's query q003 by :func:`mined_demo` (a report must show it as text)."""


@pytest.fixture(scope="session")
def mined_demo(tmp_path_factory, tiny_model_path) -> Path:
    """The demo's train split mined by ``negmine mine`` (Python API) with the tiny bi-encoder, its query q003 ending
    in :data:`SCRIPT_QUERY`: ``<dir>/mined.jsonl`` and its ``mined.summary.json``. Copy it before changing it."""
    import json
    import shutil

    from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig
    from negmine.demo import demo_path
    from negmine.pipeline.mine import mine

    work = tmp_path_factory.mktemp("mined_demo")
    data = Path(shutil.copytree(demo_path(), work / "demo"))
    queries = [json.loads(line) for line in (data / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    for query in queries:
        query["text"] += f" {SCRIPT_QUERY}" if query["_id"] == "q003" else ""
    (data / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    config = MineConfig(data=DataConfig(data_dir=data, split="train"),
                        encoder=EncoderConfig(model=str(tiny_model_path), cache_dir=work / "cache", show_progress=False),
                        output=OutputConfig(path=work / "out" / "mined.jsonl"))
    return mine(config).output
