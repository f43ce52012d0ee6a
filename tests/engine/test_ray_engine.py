"""The Ray engine (local Ray instance, 2 CPUs) gives byte-identical output to the local engine."""

from __future__ import annotations

import functools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from negmine.config import DataConfig, EncoderConfig, EngineConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def config(beir, out, engine: EngineConfig) -> MineConfig:
    return MineConfig(
        data=DataConfig(data_dir=beir),
        encoder=EncoderConfig(use_cache=False, show_progress=False),
        engine=engine,
        filters=FilterConfig(sd_margin=None),
        select=SelectConfig(num_negatives=3, strategy="random"),
        output=OutputConfig(path=out),
    )


def test_ray_and_local_engines_write_identical_output(ray_local, word_beir, tmp_path):
    sharding = dict(shard_size=25, encode_shard_size=16)
    local = mine(config(word_beir, tmp_path / "local.jsonl", EngineConfig(work_dir=tmp_path / "wl", **sharding)),
                 embedder=HashEmbedder(64))
    remote = mine(config(word_beir, tmp_path / "ray.jsonl",
                         EngineConfig(name="ray", ray_actors=2, work_dir=tmp_path / "wr", **sharding)),
                  embedder=HashEmbedder(64))
    assert (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "ray.jsonl").read_bytes()
    assert remote.summary["engine"]["engine"] == "ray" and local.summary["engine"]["engine"] == "local"
    assert remote.summary["embeddings"] == local.summary["embeddings"]
    assert remote.summary["engine"]["search_shards_run"] == 5


def test_sharded_bm25_on_ray_writes_the_local_bytes(ray_local, word_beir, tmp_path):
    from negmine.config import RetrieveConfig

    outputs = {}
    for name in ("local", "ray"):
        base = config(word_beir, tmp_path / f"{name}.jsonl", EngineConfig(
            name=name, ray_actors=2 if name == "ray" else None, work_dir=tmp_path / f"w-{name}"))
        sharded = replace(base, retrieve=RetrieveConfig(method="bm25", depth=20, bm25_shard_size=7))
        mine(sharded, embedder=HashEmbedder(64))
        outputs[name] = (tmp_path / f"{name}.jsonl").read_bytes()
        assert not list((tmp_path / f"w-{name}").glob("negmine-bm25-*"))  # token files removed afterwards
    assert outputs["local"] and outputs["local"] == outputs["ray"]
    whole = replace(sharded, retrieve=RetrieveConfig(method="bm25", depth=20), output=OutputConfig(tmp_path / "w.jsonl"))
    mine(whole, embedder=HashEmbedder(64))
    assert (tmp_path / "w.jsonl").read_bytes() == outputs["ray"]  # sharding changes nothing


def _square(state, payload):
    return state * payload


def test_map_runs_every_item_once_on_the_actor_pool(ray_local):
    from negmine.engine.ray_engine import RayEngine

    engine = RayEngine(actors=2)
    got = dict(engine.map(functools.partial(int, 3), _square, [(k, np.arange(k)) for k in range(6)]))
    assert sorted(got) == list(range(6))
    for k, value in got.items():
        assert np.array_equal(value, 3 * np.arange(k))
    assert engine._pool._passes is None, "no bar asked for the passes: no queue for them"
    engine.close()
    assert ray.is_initialized(), "an engine must not shut down a Ray instance it did not start"


def _kill_own_worker(attempts, payload):
    """Stands for a shard too large for its node: the OOM killer ends the worker every time it runs it."""
    import os
    import signal

    if payload == 1:
        with open(attempts, "a") as handle:
            handle.write("x")
        os.kill(os.getpid(), signal.SIGKILL)
    return payload


def test_a_shard_that_kills_its_worker_fails_after_a_few_attempts(ray_local, tmp_path):
    """Ray Data retries a task whose actor died forever by default: the job looped (28 runs of the shard in
    150 s, measured) instead of failing."""
    from negmine.engine.ray_engine import TASK_RETRIES, RayEngine

    attempts = tmp_path / "attempts"
    engine = RayEngine(actors=1)
    with pytest.raises(RuntimeError, match=r"a Ray worker process died 3 times running the same shard \(job\).*"
                                           r"lower memory_budget \(--memory-budget\).*rerunning the command resumes"):
        list(engine.map(functools.partial(str, attempts), _kill_own_worker, [(k, k) for k in range(3)], "job"))
    assert attempts.read_text() == "x" * (TASK_RETRIES + 1)


def _record_setup(log):
    """A setup that notes each run of itself (the process it ran in): a model load."""
    import os

    with open(log, "a") as handle:
        handle.write(f"{os.getpid()}\n")
    return os.getpid()


def _pid(state, payload):
    import os

    assert state == os.getpid()
    return state


def _loads(log) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_actors_keep_their_state_for_every_map_with_an_equal_setup(ray_local, tmp_path):
    """Each map was a new Ray Data job with new actor processes, so corpus and query encoding loaded the model
    twice per actor (on the demo, 13.5 s of a 21.8 s query stage). Equal setups (not the same object) share
    the actors; a map with another setup (a search) starts its own, and close() ends them all."""
    from negmine.engine.ray_engine import RayEngine

    corpus, search = tmp_path / "encoder-loads", tmp_path / "search-loads"
    engine = RayEngine(actors=2)
    first = dict(engine.map(functools.partial(_record_setup, str(corpus)), _pid, [(k, k) for k in range(4)]))
    started = _loads(corpus)
    assert 1 <= len(started) <= 2 and len(set(started)) == len(started), "one setup per actor"
    again = dict(engine.map(functools.partial(_record_setup, str(corpus)), _pid, [(k, k) for k in range(5)]))
    assert _loads(corpus) == started, "the second map's setup equals the first's: no new actor, no new setup"
    assert set(first.values()) | set(again.values()) <= {int(pid) for pid in _loads(corpus)}
    found = dict(engine.map(functools.partial(_record_setup, str(search)), _pid, [(0, 0)]))
    assert len(_loads(search)) == 1 and found[0] not in first.values(), "another setup, another actor"
    assert _loads(corpus) == started
    engine.close()
    assert ray.is_initialized(), "an engine must not shut down a Ray instance it did not start"
    assert _gone({int(pid) for pid in _loads(corpus) + _loads(search)}), "close() ends the actors"


def _gone(pids: set[int], wait: float = 60.0) -> bool:
    """Whether every process in ``pids`` has ended (ray.kill returns before the process exits)."""
    import os
    import time

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.add(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.2)
    return False


def _kill_once(attempts, payload):
    """Kills its worker the first time it runs shard 1 only (a worker lost once, e.g. a node that went away)."""
    import os
    import signal

    if payload == 1 and not os.path.exists(attempts):
        open(attempts, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return payload


def test_a_shard_whose_worker_died_once_runs_again_on_a_fresh_actor(ray_local, tmp_path):
    from negmine.engine.ray_engine import RayEngine

    log, engine = tmp_path / "loads", RayEngine(actors=1)
    got = dict(engine.map(functools.partial(_record_setup, str(log)),
                          lambda state, payload: _kill_once(str(tmp_path / "killed"), payload), [(k, k) for k in range(3)]))
    assert got == {0: 0, 1: 1, 2: 2}
    assert len(_loads(log)) == 2, "the fresh actor ran setup() again"
    engine.close()


def test_a_map_its_caller_stops_reading_ends_its_tasks(ray_local, tmp_path):
    from negmine.engine.ray_engine import RayEngine

    log, engine = tmp_path / "loads", RayEngine(actors=2)
    setup = functools.partial(_record_setup, str(log))
    results = engine.map(setup, _pid, [(k, k) for k in range(6)])
    next(results)
    results.close()  # e.g. the driver failed writing a shard
    assert _gone({int(pid) for pid in _loads(log)}), "the stopped map's actors are ended"
    assert sorted(dict(engine.map(setup, _pid, [(k, k) for k in range(3)]))) == [0, 1, 2]
    engine.close()


def _refuse(state, payload):
    from negmine.errors import EngineError

    raise EngineError(f"worker {state} refuses shard {payload}; use the same model on every node")


def _bad_setup():
    from negmine.errors import InputError

    raise InputError("corpus.jsonl", 7, "text", "empty text")


def test_negmine_errors_raised_in_workers_reach_the_caller_as_themselves(ray_local):
    """Ray passes a worker's exception on as a RayTaskError holding only its text; the CLI printed that
    traceback instead of the one-line error (a worker whose model differs from the driver's)."""
    from negmine.engine.ray_engine import RayEngine
    from negmine.errors import EngineError, InputError

    engine = RayEngine(actors=1)
    with pytest.raises(EngineError, match="^worker w refuses shard 0; use the same model on every node$"):
        list(engine.map(functools.partial(str, "w"), _refuse, [(0, 0)]))
    with pytest.raises(InputError, match="^corpus.jsonl:7: field 'text': empty text$") as caught:
        list(engine.map(_bad_setup, _square, [(0, 1)]))
    assert (caught.value.path, caught.value.line) == ("corpus.jsonl", 7)


def _count_then(runs, raise_, state, payload):
    """Notes each run of the task, then raises ``raise_()`` (in the worker)."""
    with open(runs, "a") as handle:
        handle.write("x")
    raise raise_()


def _config_error():
    from negmine.errors import ConfigError

    return ConfigError("shard 0 holds vectors of 384 dimensions, the index 768; encode with one model")


def _own_ray_call_failed():
    """What a task's own call to another actor that had died raises in the worker."""
    from ray.exceptions import ActorDiedError

    return ActorDiedError()


def test_an_error_a_task_raises_is_raised_at_once_not_retried_as_a_dead_worker(ray_local, tmp_path):
    """Only a worker process gone (killed, out of memory, its node lost) runs a shard again; an error the task
    raised would be raised again. A task whose own Ray call failed (``RayTaskError(ActorDiedError)``, an instance
    of Ray's actor error) ran 3 times and ended as 'a Ray worker process died 3 times', suggesting a lower
    --memory-budget."""
    from negmine.engine.ray_engine import RayEngine
    from negmine.errors import ConfigError

    log, engine = tmp_path / "loads", RayEngine(actors=1)
    setup = functools.partial(_record_setup, str(log))
    for name, raise_, expected, message in (
            ("negmine", _config_error, ConfigError, "^shard 0 holds vectors of 384 dimensions, the index 768; encode "
                                                    "with one model$"),
            ("bug", functools.partial(ValueError, "corrupt vector"), ValueError, "corrupt vector"),
            ("ray-call", _own_ray_call_failed, ray.exceptions.RayActorError, "_Actor.run")):
        runs = tmp_path / name
        with pytest.raises(expected, match=message) as caught:
            list(engine.map(setup, functools.partial(_count_then, str(runs), raise_), [(0, 0)], "job"))
        assert runs.read_text() == "x", f"{name}: the task ran once"
        if name == "negmine":
            assert type(caught.value) is ConfigError and len(_loads(log)) == 1
            assert dict(engine.map(setup, _pid, [(0, 0)])) == {0: int(_loads(log)[0])}, "the actor is kept"
    loads = tmp_path / "failed-loads"
    with pytest.raises(ray.exceptions.ActorDiedError, match="error raised in its creation task") as caught:
        list(engine.map(functools.partial(_load_fails, str(loads)), _pid, [(0, 0)], "job"))
    assert caught.value.actor_init_failed and loads.read_text() == "x", "a model load that raised ran once"
    engine.close()


def _load_fails(loads):
    """A setup (a model load) that raises an error of its own, not negmine's."""
    with open(loads, "a") as handle:
        handle.write("x")
    raise OSError("model.safetensors is truncated")


def test_a_ray_it_started_leaves_the_process_as_it_found_it(monkeypatch):
    """``ray.init`` sets environment variables, a SIGTERM handler that exits and faulthandler, and
    ``ray.shutdown`` leaves them (measured with Ray 2.x): close() puts back what init changed, but not what the
    caller changed meanwhile; map() puts back the caller's Ray Data progress-bar setting."""
    import faulthandler
    import os
    import signal
    import sys
    import types

    from negmine.engine.ray_engine import RayEngine

    def ray_handler(signum, frame):  # pragma: no cover - never called
        raise SystemExit(1)

    state = {"up": False}
    context = types.SimpleNamespace(enable_progress_bars=True)

    def init(**kwargs):
        state["up"] = True
        os.environ["FAKE_RAY_SET"] = "1"
        os.environ["FAKE_RAY_CHANGED"] = "ray"
        signal.signal(signal.SIGTERM, ray_handler)
        faulthandler.enable()

    fake = types.SimpleNamespace(
        is_initialized=lambda: state["up"], init=init, shutdown=lambda: state.update(up=False),
        cluster_resources=lambda: {"CPU": 2.0}, nodes=lambda: [{"Alive": True, "Resources": {"CPU": 2.0}}],
        data=types.SimpleNamespace(DataContext=types.SimpleNamespace(get_current=lambda: context)),
        remote=lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("job failed")),
    )
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setenv("FAKE_RAY_CHANGED", "mine")
    monkeypatch.delenv("FAKE_RAY_SET", raising=False)
    handler, faults = signal.getsignal(signal.SIGTERM), faulthandler.is_enabled()
    try:
        engine = RayEngine()
        engine.start()  # what the first map() with a shard to dispatch does
        assert signal.getsignal(signal.SIGTERM) is ray_handler
        with pytest.raises(RuntimeError, match="job failed"):
            list(engine.map(lambda: None, lambda s, p: p, [(0, 1)]))
        assert context.enable_progress_bars is True, "a failed job still puts the caller's setting back"
        os.environ["CALLER_SET"] = "x"
        engine.close()
        assert signal.getsignal(signal.SIGTERM) is handler and faulthandler.is_enabled() == faults
        assert "FAKE_RAY_SET" not in os.environ and os.environ["FAKE_RAY_CHANGED"] == "mine"
        assert os.environ["CALLER_SET"] == "x", "what the caller set after init is theirs"
    finally:
        os.environ.pop("CALLER_SET", None)
        signal.signal(signal.SIGTERM, handler)
        if not faults:
            faulthandler.disable()


def test_without_an_address_negmine_starts_its_own_instance(monkeypatch):
    """``ray.init()`` with no address joins the cluster the last ``ray start`` on the machine recorded: a run
    without --ray-address ran on another process's cluster. It now asks for ``address="local"`` (a private
    instance); an address given, ``auto`` and ``RAY_ADDRESS`` are passed on as before (the slow
    tests/engine/test_ray_start_heads.py runs this against a live ``ray start`` head)."""
    import socket
    import sys
    import types

    from negmine.engine import ray_engine

    calls, state = [], {"up": False}

    def init(address=None, **kwargs):
        calls.append(address)
        state["up"] = True

    fake = types.SimpleNamespace(
        is_initialized=lambda: state["up"], init=init, shutdown=lambda: state.update(up=False),
        cluster_resources=lambda: {"CPU": 2.0}, nodes=lambda: [{"Alive": True, "Resources": {"CPU": 2.0}}])
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with socket.create_server(("127.0.0.1", 0)) as server:  # a port that answers the probe
        here = f"127.0.0.1:{server.getsockname()[1]}"
        monkeypatch.setattr(ray_engine, "_auto_address", lambda: here)
        for address in (None, "local", here, "auto"):
            engine = ray_engine.RayEngine(address=address)
            engine.start()
            engine.close()
        monkeypatch.setenv("RAY_ADDRESS", here)
        engine = ray_engine.RayEngine()
        engine.start()
        engine.close()
    assert calls == ["local", "local", here, "auto", None], "RAY_ADDRESS is ray.init's to follow"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_ray_address_is_refused_in_seconds(monkeypatch):
    """``ray.init`` retried an address nobody listens on for over 400 s (measured, then killed) before failing."""
    import time
    import types

    from negmine.engine import ray_engine
    from negmine.errors import ConfigError

    port = _closed_port()
    fake = types.SimpleNamespace(is_initialized=lambda: False,
                                 init=lambda **kw: pytest.fail("ray.init must not be tried on an address that is down"))
    monkeypatch.setitem(__import__("sys").modules, "ray", fake)
    start = time.monotonic()
    with pytest.raises(ConfigError, match=rf"^cannot reach a Ray cluster at ray_address \(--ray-address\) '127.0.0.1:{port}' "
                                          rf"\(Connection refused within 10 s\); start it with `ray start --head "
                                          rf"--port={port}` or check the address; ray_address \(--ray-address\) takes auto"):
        ray_engine.RayEngine(address=f"127.0.0.1:{port}")
    assert time.monotonic() - start < 10
    monkeypatch.setenv("RAY_ADDRESS", f"localhost:{port}")
    with pytest.raises(ConfigError, match=rf"at RAY_ADDRESS 'localhost:{port}'"):
        ray_engine.RayEngine(address="auto")


@pytest.mark.parametrize("address", ["bogus", "head-node", "10.0.0.1:port", ":6379", "ray://", "ray://head"])
def test_a_malformed_ray_address_is_refused_with_the_forms_it_takes(address):
    from negmine.engine.ray_engine import check_address
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"^ray_address \(--ray-address\) '{address}' is not a Ray address; "
                                          r"ray_address \(--ray-address\) takes "
                                          r"auto .* or <head-ip>:6379, from a node of the cluster, or "
                                          r"ray://<head-ip>:10001 \(Ray Client\) from elsewhere; leave it unset"):
        check_address(address)


def test_a_ray_client_address_is_probed_on_its_client_port(monkeypatch):
    """Ray Client addresses were refused while Ray Data ran the shards (it does not run through Ray Client);
    negmine's own actors do (the slow tests/engine/test_ray_start_heads.py mines through a live server). Like any
    address, one nobody answers on is refused in seconds, naming the port ``ray start`` opens for it."""
    from negmine.engine.ray_engine import check_address
    from negmine.errors import ConfigError

    port = _closed_port()
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigError, match=rf"^cannot reach a Ray cluster at ray_address \(--ray-address\) 'ray://127.0.0.1:{port}' "
                                          rf"\(Connection refused within 10 s\); start it with `ray start --head "
                                          rf"--ray-client-server-port={port}` or check the address"):
        check_address(f"ray://127.0.0.1:{port}")
    monkeypatch.setenv("RAY_ADDRESS", f"ray://127.0.0.1:{port}")
    with pytest.raises(ConfigError, match=rf"^cannot reach a Ray cluster at RAY_ADDRESS 'ray://127.0.0.1:{port}'"):
        check_address(None)


def test_a_ray_client_address_without_grpcio_is_refused_saying_what_to_install(monkeypatch):
    import importlib.util

    from negmine.engine.ray_engine import check_address
    from negmine.errors import ConfigError

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "grpc" else find_spec(name, *a))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigError, match=r"^ray_address \(--ray-address\) 'ray://head:10001' joins through Ray Client, which needs "
                                          r"grpcio: pip install 'ray\[client\]', or run negmine on a cluster node "
                                          r"with ray_address='auto' \(--ray-address auto\)$"):
        check_address("ray://head:10001")


def test_an_unreachable_ray_client_address_fails_before_any_work(monkeypatch, word_beir, tmp_path):
    """Before any work, whether or not grpcio is installed: data, cache and output untouched."""
    from typer.testing import CliRunner

    from negmine.cli import build_app

    _no_ray_start(monkeypatch)
    result = CliRunner().invoke(build_app(), [
        "mine", str(word_beir), "--engine", "ray", "--ray-address", f"ray://127.0.0.1:{_closed_port()}",
        "--no-progress", "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2, result.output
    assert "error: " in result.output and "(--ray-address) 'ray://127.0.0.1:" in result.output
    assert not (tmp_path / "cache").exists() and not (tmp_path / "o.jsonl").exists(), "refused before any work"


def test_addresses_that_start_a_local_instance_are_not_probed(monkeypatch):
    from negmine.engine import ray_engine

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray_engine, "_auto_address", lambda: pytest.fail("no cluster to look for"))
    for address in (None, "local"):
        ray_engine.check_address(address)  # nothing to probe: Ray starts the instance


def test_auto_with_no_cluster_running_is_refused_naming_the_option_and_the_fix(monkeypatch):
    """``--ray-address auto`` with no cluster on the machine failed only in ``ray.init``, when the first shard
    was dispatched: after the model had loaded."""
    from negmine.engine import ray_engine
    from negmine.errors import ConfigError

    _no_ray_start(monkeypatch)
    monkeypatch.setattr(ray_engine, "_auto_address", lambda: None)
    fix = r"start one with `ray start --head` and rerun, or {} to let negmine start a local Ray instance$"
    with pytest.raises(ConfigError, match=r"^ray_address \(--ray-address\) auto found no Ray cluster running on this machine; "
                                          + fix.format(r"leave ray_address unset \(drop --ray-address\)")):
        ray_engine.RayEngine(address="auto")
    monkeypatch.setenv("RAY_ADDRESS", "auto")
    with pytest.raises(ConfigError, match=r"^RAY_ADDRESS auto found no Ray cluster running on this machine; "
                                          + fix.format("unset RAY_ADDRESS")):
        ray_engine.check_address(None)
    port = _closed_port()
    monkeypatch.setattr(ray_engine, "_auto_address", lambda: f"127.0.0.1:{port}")  # recorded, then died
    with pytest.raises(ConfigError, match=rf"^cannot reach a Ray cluster at ray_address \(--ray-address\) auto \(127\.0\.0\.1:{port}\) "
                                          rf"\(Connection refused within 10 s\); start it with `ray start --head"):
        ray_engine.check_address("auto")


def test_auto_is_resolved_by_rays_own_lookup(monkeypatch):
    """What ``ray.init(address="auto")`` would join: the address the last ``ray start`` recorded, else a running
    raylet's (Ray's ``get_ray_address_from_environment``)."""
    from ray._private import services

    from negmine.engine import ray_engine

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(services, "find_gcs_addresses", lambda: frozenset())
    monkeypatch.setattr(services, "find_bootstrap_address", lambda temp_dir: None)
    assert ray_engine._auto_address() is None
    monkeypatch.setattr(services, "find_bootstrap_address", lambda temp_dir: "10.1.2.3:6379")
    assert ray_engine._auto_address() == "10.1.2.3:6379"
    monkeypatch.setattr(services, "find_gcs_addresses", lambda: frozenset({"10.1.2.4:6390"}))
    monkeypatch.setattr(services, "find_bootstrap_address", lambda temp_dir: None)
    assert ray_engine._auto_address() == "10.1.2.4:6390"


def test_looking_up_auto_undoes_what_importing_ray_sets(tmp_path, monkeypatch):
    """The lookup imports ray before any engine starts it: ``RAY_CLIENT_MODE=0`` (set by ``import ray``) must
    not stay behind in a run that never starts Ray. A stand-in package does the same on import."""
    import os
    import sys

    from negmine.engine import ray_engine
    from negmine.errors import ConfigError

    package = tmp_path / "fake" / "ray"
    (package / "_private").mkdir(parents=True)
    (package / "__init__.py").write_text("import os\nos.environ['RAY_CLIENT_MODE'] = '0'\n")
    (package / "_private" / "__init__.py").write_text("")
    (package / "_private" / "services.py").write_text(
        "def canonicalize_bootstrap_address(addr):\n    raise ConnectionError('Could not find any running Ray instance.')\n")
    for name in ("ray", "ray._private", "ray._private.services"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))
    monkeypatch.delenv("RAY_CLIENT_MODE", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigError, match=r"^ray_address \(--ray-address\) auto found no Ray cluster running on this machine"):
        ray_engine.check_address("auto")
    assert sys.modules["ray"].__file__ == str(package / "__init__.py")
    assert "RAY_CLIENT_MODE" not in os.environ


def test_a_mine_with_auto_and_no_cluster_fails_before_loading_data_or_a_model(monkeypatch, word_beir, tmp_path):
    from negmine.engine import ray_engine
    from negmine.errors import ConfigError
    from negmine.io import load
    from negmine.pipeline import mine as mine_module

    _no_ray_start(monkeypatch)
    monkeypatch.setattr(ray_engine, "_auto_address", lambda: None)
    monkeypatch.setattr(load, "load_data", lambda *a, **k: pytest.fail("data loaded"))
    monkeypatch.setattr(mine_module, "make_embedder", lambda *a, **k: pytest.fail("model loaded"))
    run = config(word_beir, tmp_path / "o.jsonl", EngineConfig(name="ray", ray_address="auto"))
    with pytest.raises(ConfigError, match=r"^engine\.ray_address \(--ray-address\) auto found no Ray "
                                          r"cluster running on this machine"):
        mine(run)
    assert not (tmp_path / "o.jsonl").exists()


def test_relative_work_dir_and_model_paths_work_from_any_driver_folder(ray_local, word_beir, tmp_path, monkeypatch,
                                                                      tiny_model_path):
    """Ray workers run in the folder Ray was started in (``ray start``), not the driver's: ``--work-dir work``
    and ``--model models/x`` made the workers open ``<their folder>/work/...`` (FileNotFoundError, measured with
    ``--ray-address auto``) and look for the model elsewhere. Here the driver moves after Ray has started."""
    import shutil

    drive = tmp_path / "driver"
    shutil.copytree(tiny_model_path, drive / "models" / "tiny")
    monkeypatch.chdir(drive)
    outputs = {}
    for name in ("local", "ray"):
        engine = EngineConfig(name=name, work_dir=Path(f"work-{name}"), keep_work=True, shard_size=40, encode_shard_size=50)
        base = config(word_beir, drive / f"{name}.jsonl", engine)
        result = mine(replace(base, encoder=replace(base.encoder, model="models/tiny")))
        outputs[name] = (drive / f"{name}.jsonl").read_bytes()
        assert (drive / f"work-{name}").is_dir() and result.summary["engine"]["search_shards_run"] == 4
    assert outputs["local"] and outputs["local"] == outputs["ray"]


def test_what_importing_ray_sets_is_undone_with_the_instance_it_started(tmp_path, monkeypatch):
    """``import ray`` sets ``RAY_CLIENT_MODE=0`` in ``os.environ`` (measured with Ray 2.60): after an
    ``--engine ray`` run it stayed in the process, and in every process it started later. Here a stand-in
    package does the same on import."""
    import os
    import sys

    from negmine.config import EngineConfig
    from negmine.engine.registry import make_engine

    package = tmp_path / "fake" / "ray"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import os\nos.environ['RAY_CLIENT_MODE'] = '0'\n_up = []\n"
        "def is_initialized():\n    return bool(_up)\n"
        "def init(**kwargs):\n    _up.append(1)\n    os.environ['RAY_SET_BY_INIT'] = '1'\n"
        "def shutdown():\n    _up.clear()\n"
        "def cluster_resources():\n    return {'CPU': 2.0}\n"
        "def nodes():\n    return [{'Alive': True, 'Resources': {'CPU': 2.0}}]\n"
    )
    monkeypatch.delitem(sys.modules, "ray", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))
    monkeypatch.delenv("RAY_CLIENT_MODE", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    engine = make_engine(EngineConfig(name="ray"))
    engine.start()  # what the first map() with a shard to dispatch does
    assert sys.modules["ray"].__file__ == str(package / "__init__.py")
    assert os.environ["RAY_CLIENT_MODE"] == "0" and os.environ["RAY_SET_BY_INIT"] == "1"
    engine.close()
    assert "RAY_CLIENT_MODE" not in os.environ and "RAY_SET_BY_INIT" not in os.environ


def test_actors_larger_than_every_node_are_refused(ray_local):
    """Ray Data waited for them forever: a 2-CPU instance with --ray-cpus-per-actor 4 only warned after 60 s
    that the job "may hang forever" (measured; killed at 150 s)."""
    from negmine.engine.ray_engine import RayEngine
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^ray_cpus_per_actor=4 \(--ray-cpus-per-actor 4\) is more than any node of "
                                          r"the Ray cluster has \(largest: 2 CPUs\), so no actor could start; use "
                                          r"ray_cpus_per_actor=2 \(--ray-cpus-per-actor 2\) or less"):
        RayEngine(cpus_per_actor=4)
    assert RayEngine(cpus_per_actor=2).actors == 1


def test_the_actor_size_message_names_the_field_and_the_option():
    """It named --ray-cpus-per-actor alone, unlike negmine's other messages (a Python user has the field). No Ray
    runs: the node sizes are given."""
    from negmine.engine.ray_engine import _check_fits
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        _check_fits(4.0, [2.0, 1.0])
    assert str(info.value) == ("ray_cpus_per_actor=4 (--ray-cpus-per-actor 4) is more than any node of the Ray "
                               "cluster has (largest: 2 CPUs), so no actor could start; use ray_cpus_per_actor=2 "
                               "(--ray-cpus-per-actor 2) or less, or join a cluster with larger nodes")
    with pytest.raises(ConfigError, match=r"^ray_cpus_per_actor=2\.5 \(--ray-cpus-per-actor 2\.5\) is more .* "
                                          r"\(largest: 1\.5 CPUs\).* use ray_cpus_per_actor=1\.5 \(--ray-cpus-per-actor 1\.5\) "):
        _check_fits(2.5, [1.5])
    _check_fits(2.0, [2.0])  # fits


def test_the_actor_size_hint_for_nodes_below_one_cpu_is_a_size_that_fits():
    """With nodes of fewer than 1 CPU the hint was max(largest, 1): it suggested ray_cpus_per_actor=1 'or less' for
    the 1 it refused, and 1 for an asked 0.75. Nodes with no CPU fit no size: the message says so. No Ray runs."""
    from negmine.engine.ray_engine import _check_fits
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        _check_fits(1.0, [0.5, 0.25])
    assert str(info.value) == ("ray_cpus_per_actor=1 (--ray-cpus-per-actor 1) is more than any node of the Ray "
                               "cluster has (largest: 0.5 CPUs), so no actor could start; use ray_cpus_per_actor=0.5 "
                               "(--ray-cpus-per-actor 0.5) or less, or join a cluster with larger nodes")
    with pytest.raises(ConfigError, match=r"\(largest: 0\.5 CPUs\).* use ray_cpus_per_actor=0\.5 \(--ray-cpus"):
        _check_fits(0.75, [0.5])
    _check_fits(0.5, [0.5])  # the size suggested fits
    for nodes in ([0.0], []):
        with pytest.raises(ConfigError) as info:
            _check_fits(1.0, nodes)
        assert str(info.value) == (
            "ray_cpus_per_actor=1 (--ray-cpus-per-actor 1): no node of the Ray cluster has a CPU (a head node started "
            "with --num-cpus 0 and no worker node joined?), so no actor could start, whatever its size; add nodes "
            "with CPUs to the cluster (ray start --address ...), or run here with name='local' (--engine local)")


def test_the_dead_worker_and_join_messages_name_the_fields_and_the_options():
    """They named --memory-budget, --shard-size, --ray-cpus-per-actor and --ray-address alone. No Ray runs: the
    error of a worker that died is made here (Ray's own type)."""
    from ray.exceptions import WorkerCrashedError

    from negmine.engine.ray_engine import _worker_died

    assert str(_worker_died(WorkerCrashedError(), "encode")) == (
        "a Ray worker process died 3 times running the same shard (encode): WorkerCrashedError (see Ray's message "
        "above; running out of memory is the usual cause: lower memory_budget (--memory-budget) or shard_size "
        "(--shard-size), or raise ray_cpus_per_actor (--ray-cpus-per-actor) so fewer actors share a node); the "
        "shards finished so far are kept in the work folder, so rerunning the command resumes after them")
    assert _worker_died(ValueError("not Ray's"), "encode") is None
    from negmine.engine.ray_engine import _join_failed, worker_died_message
    from negmine.errors import ConfigError

    assert worker_died_message("OutOfMemoryError").startswith("a Ray worker process died 3 times running the same "
                                                              "shard: OutOfMemoryError (see ")
    error = _join_failed("auto", ConnectionError("Could not find any running Ray instance"))
    assert isinstance(error, ConfigError)
    assert str(error).startswith("cannot join a Ray cluster at ray_address (--ray-address) 'auto': Could not find any "
                                 "running Ray instance; ray_address (--ray-address) takes auto ")


def _no_ray_start(monkeypatch):
    """A stand-in ray module whose ``init`` fails the test: nothing may start Ray."""
    import sys
    import types

    fake = types.SimpleNamespace(is_initialized=lambda: False,
                                 init=lambda **kw: pytest.fail("ray.init was called with no work to dispatch"),
                                 shutdown=lambda: pytest.fail("ray.shutdown of a Ray nobody started"))
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def test_the_ray_engine_starts_ray_only_for_work_it_dispatches(monkeypatch):
    """``ray.init`` ran when the engine was built: a run whose stages all ran locally still started (and
    stopped) a local Ray instance (unsharded BM25 on the demo: 13.7 s with --engine ray, 2.9 s without)."""
    from negmine.engine.ray_engine import RayEngine

    _no_ray_start(monkeypatch)
    engine = RayEngine(actors=3)
    assert engine.workers == 3, "a given pool size needs no cluster"
    assert list(engine.map(lambda: None, _square, [])) == []
    engine.close()


def test_a_mine_that_runs_nothing_on_ray_never_starts_it(monkeypatch, word_beir, tmp_path):
    """Unsharded BM25, and a rerun whose embeddings and search shards are all on disk, dispatch nothing."""
    from negmine.config import RetrieveConfig

    sharding = dict(shard_size=25, encode_shard_size=16, keep_work=True, work_dir=tmp_path / "w")
    bm25 = replace(config(word_beir, tmp_path / "bm25-local.jsonl", EngineConfig()),
                   retrieve=RetrieveConfig(method="bm25", depth=20))
    mine(bm25, embedder=HashEmbedder(64))
    dense = config(word_beir, tmp_path / "dense-local.jsonl", EngineConfig(**sharding))
    mine(dense, embedder=HashEmbedder(64))
    _no_ray_start(monkeypatch)
    for run, name in ((bm25, "bm25"), (dense, "dense")):
        on_ray = replace(run, engine=replace(run.engine, name="ray"), output=OutputConfig(tmp_path / f"{name}-ray.jsonl"))
        result = mine(on_ray, embedder=HashEmbedder(64))
        assert (tmp_path / f"{name}-ray.jsonl").read_bytes() == (tmp_path / f"{name}-local.jsonl").read_bytes()
    assert result.summary["engine"]["engine"] == "ray" and result.summary["engine"]["search_shards_run"] == 0


class _GatedPasses(HashEmbedder):
    """Encodes in passes of 4 texts, reporting each as a model does (:func:`negmine.progress.advance`); notes each
    call in ``log``, and before its last pass of a shard waits for the file ``gate``, which the driver's bar makes
    when it first moves, noting whether it opened (up to 60 s: the old code moved the bar only when the shard came
    back)."""

    def __init__(self, gate: str, log: str) -> None:
        super().__init__(16)
        self.gate, self.log = gate, log

    def encode(self, texts, prompt=""):
        import os
        import time

        from negmine.progress import advance

        with open(self.log, "a") as handle:
            handle.write("encode\n")
        out = []
        for b0 in range(0, len(texts), 4):
            if b0 + 4 >= len(texts):
                deadline = time.monotonic() + 60
                while not os.path.exists(self.gate) and time.monotonic() < deadline:
                    time.sleep(0.05)
                with open(self.log, "a") as handle:
                    handle.write("open\n" if os.path.exists(self.gate) else "shut\n")
            out.append(super().encode(texts[b0 : b0 + 4], prompt))
            advance(len(texts[b0 : b0 + 4]))
        return np.concatenate(out)


class _RecordingBar:
    """Stands for the driver's ``encode corpus`` bar: notes each move, and makes ``gate`` at the first."""

    disable = False

    def __init__(self, gate: Path) -> None:
        self.gate, self.updates = gate, []

    def update(self, n: int) -> None:
        self.updates.append(n)
        self.gate.touch()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _same(embedder):
    return embedder


def _wait_dead(actor, tries: int = 300) -> None:
    """Return once a call on ``actor`` raises RayActorError (``ray.kill`` only asks for the kill; a call made at
    once can still be served: fresh-clone CI at 947b0d1); fail after ``tries`` calls 0.1 s apart."""
    for _ in range(tries):
        try:
            ray.get(actor.qsize.remote(), timeout=10)
        except ray.exceptions.RayActorError:
            return
        time.sleep(0.1)
    pytest.fail(f"the killed actor still answered after {tries} calls")


def test_the_drivers_encoding_bar_moves_with_each_pass_of_the_actors(ray_local, tmp_path, monkeypatch):
    """Two shards of 12 texts on two actors, passes of 4: the bar moved once per shard, by 12, when it came back
    (on a large shard it stood still for minutes); now by each pass, of the shard it belongs to, while the shard
    runs. The vectors are the embedder's, as without the reports."""
    from negmine.engine import encode
    from negmine.engine.ray_engine import RayEngine

    gate, log = tmp_path / "gate", tmp_path / "log"
    bar = _RecordingBar(gate)
    monkeypatch.setattr(encode, "_bar", lambda *args: bar)
    embedder, texts = _GatedPasses(str(gate), str(log)), [f"text {i} word{i % 5}" for i in range(24)]
    engine = RayEngine(actors=2)
    result = encode.encode_to_store(engine, functools.partial(_same, embedder), texts, "p: ", tmp_path / "s.npy",
                                    (embedder.fingerprint, 16), 12, show_progress=True, desc="encode corpus")
    assert result.n_encoded == 24
    assert bar.updates == [4] * 6, "each pass of each shard, not 12 per shard"
    assert sorted(log.read_text().split()) == ["encode"] * 2 + ["open"] * 2, "the bar moved while the shards ran"
    assert np.array_equal(result.store.read_rows(0, 24), HashEmbedder(16).encode(texts, "p: "))

    ray.kill(engine._pool._passes.actor)  # the queue lost (its node gone): the bar moves per shard, as before
    _wait_dead(engine._pool._passes.actor)  # ray.kill returns before the actor is gone
    bar.updates = []
    again = encode.encode_to_store(engine, functools.partial(_same, embedder), texts, "p: ", tmp_path / "t.npy",
                                   (embedder.fingerprint, 16), 12, show_progress=True, desc="encode corpus")
    engine.close()
    assert bar.updates == [12, 12]
    assert sorted(log.read_text().split()) == ["encode"] * 4 + ["open"] * 4, "no shard failed (and ran again)"
    assert np.array_equal(again.store.read_rows(0, 24), result.store.read_rows(0, 24))


def test_a_strategy_param_reaches_the_choice_on_ray(ray_local, word_beir, tmp_path):
    """A strategy's params are read where it selects, in the driver: on Ray, the same bytes as the local engine,
    and another value another file."""
    from negmine.testing.plugins import EveryNthStrategy, registered

    outputs = {}
    with registered(EveryNthStrategy):
        for name, step in (("local", 3), ("ray", 3), ("ray", 2)):
            engine = EngineConfig(name=name, ray_actors=2 if name == "ray" else None, work_dir=tmp_path / f"w-{name}")
            out = tmp_path / f"{name}-{step}.jsonl"
            run = replace(config(word_beir, out, engine),
                          select=SelectConfig(num_negatives=2, strategy="every-nth", strategy_params={"step": step}))
            result = mine(run, embedder=HashEmbedder(64))
            assert result.summary["engine"]["engine"] == name
            assert result.summary["plugins"]["strategy"]["every-nth"]["params"] == {"step": step}
            outputs[name, step] = out.read_bytes()
    assert outputs["local", 3] and outputs["local", 3] == outputs["ray", 3] != outputs["ray", 2]


def test_a_strategy_registered_by_a_call_mines_on_ray(ray_local, word_beir, tmp_path):
    """Selection runs in the driver, whatever the engine (Ray actors encode and search only), so a strategy
    registered by ``negmine.register_strategy`` (which actors could not import) works with ``--engine ray``."""
    from negmine.testing.plugins import EveryOtherStrategy, registered

    outputs = {}
    with registered(EveryOtherStrategy):
        for name in ("local", "ray"):
            engine = EngineConfig(name=name, ray_actors=2 if name == "ray" else None, work_dir=tmp_path / f"w-{name}")
            run = replace(config(word_beir, tmp_path / f"{name}.jsonl", engine),
                          select=SelectConfig(num_negatives=3, strategy="every-other"))
            result = mine(run, embedder=HashEmbedder(64))
            assert result.summary["engine"]["engine"] == name
            outputs[name] = (tmp_path / f"{name}.jsonl").read_bytes()
    assert outputs["local"] and outputs["local"] == outputs["ray"]
