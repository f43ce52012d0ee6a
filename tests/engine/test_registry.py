from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.config import EngineConfig
from negmine.engine.local import LocalEngine
from negmine.engine.registry import ENGINES, make_engine, open_engine
from negmine.errors import ConfigError

runner = CliRunner()


def test_registry_builds_local_and_lists_names_on_unknown():
    assert isinstance(make_engine(EngineConfig()), LocalEngine)
    assert set(ENGINES) == {"local", "ray"}
    with pytest.raises(ConfigError, match="unknown engine 'dask'; allowed: local, ray"):
        make_engine(EngineConfig(name="dask"))
    with open_engine(EngineConfig()) as engine:
        assert engine.name == "local"


def test_an_unknown_engine_is_named_by_its_field_path():
    """Mining runs its engine within engine. (MineConfig.validate refuses the name first; a config built past it
    reaches the registry): the fix named the bare name."""
    from pathlib import Path

    from negmine.config import DataConfig, MineConfig
    from negmine.config_path import within

    with within(MineConfig(data=DataConfig(data_dir=Path("beir"))), "engine"):
        with pytest.raises(ConfigError, match=r"^unknown engine 'Ray'; allowed: local, ray; did you mean "
                                              r"engine\.name='ray' \(--engine ray\)\?$"):
            make_engine(EngineConfig(name="Ray"))


def test_ray_engine_without_ray_names_the_extra(tmp_path, word_beir, monkeypatch):
    """An import of ray that fails (here blocked with sys.modules["ray"] = None) is reported like a missing ray,
    before any work; it used to pass the check and die in RayEngine with a ModuleNotFoundError traceback."""
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError) as err:
        make_engine(EngineConfig(name="ray"))
    assert str(err.value) == ("name='ray' (--engine ray) needs Ray: pip install 'negmine[ray]' (or use name='local' "
                              "(--engine local))")
    result = runner.invoke(build_app(), ["mine", str(word_beir), "--engine", "ray", "--no-progress",
                                         "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2, result.output
    # the mine command checks the engine as its MineConfig's part: the field by its path
    assert ("error: engine.name='ray' (--engine ray) needs Ray: pip install 'negmine[ray]' (or use "
            "engine.name='local' (--engine local))") in " ".join(result.output.split())
    assert not (tmp_path / "cache").exists(), "refused before encoding anything"


def test_cli_engine_options_reach_the_run(tmp_path, word_beir, tiny_model_path):
    out = tmp_path / "neg.jsonl"
    args = ["mine", str(word_beir), "--model", str(tiny_model_path), "--num-negatives", "2", "--depth", "10",
            "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "--no-progress", "--no-sd-margin",
            "--near-dup-threshold", "0", "--near-dup-overlap", "0", "--shard-size", "40",
            "--work-dir", str(tmp_path / "work"), "--keep-work"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "neg.summary.json").read_text())
    assert summary["engine"]["search_shard_rows"] == 40 and summary["engine"]["search_shards"] == 4
    assert len(list((tmp_path / "work").glob("*/search/*.npz"))) == 4, "--keep-work keeps the finished shards"


def test_cli_bad_budget_fails_before_work(tmp_path, word_beir):
    result = runner.invoke(build_app(), ["mine", str(word_beir), "--memory-budget", "huge",
                                         "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert ("engine.memory_budget 'huge' is not a size: give a positive number of bytes, optionally with a K, M, G "
            "or T suffix (binary units; 512M, 1.5G, 4GiB and 1000000 work); use e.g. engine.memory_budget='4G' "
            "(--memory-budget 4G), or leave it unset (no budget)") in " ".join(result.output.split())


def test_checking_the_engine_imports_ray_only_to_resolve_auto():
    """Ray's own lookup of ``auto`` (``ray._private.services``) imports Ray: the early refusal of ``--ray-address
    auto`` needs it. Any other address is checked without importing Ray. A fresh interpreter: another test may
    have imported Ray in this one."""
    import os
    import subprocess
    import sys

    pytest.importorskip("ray")
    script = ("import sys\nfrom negmine.config import EngineConfig\nfrom negmine.engine.registry import check_engine\n"
              "check_engine(EngineConfig(name='ray'))\nprint('ray' in sys.modules)\n"
              "try:\n    check_engine(EngineConfig(name='ray', ray_address='auto'))\nexcept Exception:\n    pass\n"
              "print('ray' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["False", "True"]


def test_a_cli_run_probes_the_ray_address_once(tmp_path, word_beir, monkeypatch):
    """``check_engine`` probes ``--ray-address`` before the data loads; building the engine for the same config
    probed it again (a second TCP connection, up to 10 s more against a cluster that does not answer). A run
    that dispatches nothing to Ray (unsharded BM25) never starts it, so it probes once in all. RayEngine built
    directly still probes by itself."""
    import socket
    import sys
    import types

    from negmine.engine import ray_engine

    fake = types.SimpleNamespace(is_initialized=lambda: False,
                                 init=lambda **kw: pytest.fail("nothing was dispatched to Ray"))
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    probes = []
    real = ray_engine._probe
    monkeypatch.setattr(ray_engine, "_probe", lambda *args: (probes.append(args[1:3]), real(*args))[1])
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        out = tmp_path / "o.jsonl"
        result = runner.invoke(build_app(), ["mine", str(word_beir), "--engine", "ray", "--ray-address",
                                             f"127.0.0.1:{port}", "--retriever", "bm25", "--no-progress",
                                             "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
        assert probes == [("127.0.0.1", port)]
        ray_engine.RayEngine(address=f"127.0.0.1:{port}")
        assert probes == [("127.0.0.1", port)] * 2, "an engine the caller builds checks its address itself"
