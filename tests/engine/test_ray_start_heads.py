"""Ray heads started with ``ray start`` (slow): on free ports, in a private temp folder, stopped (exactly the
processes each test started) at the end, even on failure.

A mine through a Ray Client server (``--ray-address ray://...``) writes the bytes of ``--engine local``:
negmine refused ``ray://`` while Ray Data ran its shards, because Ray Data does not run through Ray Client
(with Ray 2.60 the first shard failed with "'Worker' object has no attribute 'core_worker'"); its own actors
do. A run without ``--ray-address`` starts its own Ray instance instead of joining the ``ray start`` cluster.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

import negmine

pytestmark = pytest.mark.slow

SRC = Path(negmine.__file__).resolve().parents[1]
START_TIMEOUT = 120.0
"""Seconds the head gets to open its Ray Client port (about 5 s measured on an idle machine)."""

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment() -> dict[str, str]:
    """This checkout's negmine for the driver and Ray's workers; no RAY_ADDRESS (another cluster); token
    authentication off on both sides, so a token in ~/.ray (Ray 2.60 turns authentication on when it finds one)
    neither blocks the client nor is needed."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    return env


def _session(leader: int) -> list[int]:
    """The processes of the session ``leader`` started (``start_new_session``): the head and every process
    it spawned (Ray's workers included), and nothing another Ray on the machine runs."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == leader:
                    found.append(int(entry.name))
            except OSError:  # exited meanwhile
                pass
    return found


def _stop(head: subprocess.Popen) -> None:
    """SIGTERM to ``ray start --block``, which then stops what it started; SIGKILL to whatever of its session
    is left after 60 s. Never ``ray stop``: it stops every Ray process on the machine."""
    if head.poll() is None:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
    for pid in _session(head.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@contextlib.contextmanager
def _ray_head(*options: str) -> Iterator[tuple[Path, int]]:
    """(temp folder, cluster port) of a one-CPU ``ray start --head`` with ``options`` (each with its value),
    once it has recorded itself and the cluster's port, and the Ray Client server's if ``options`` asks for
    one, answer. Its temp folder
    (``--temp-dir``, where it records itself as the machine's current cluster) is ``<temp folder>/ray``: the
    one Ray looks in from a process with ``RAY_TMPDIR=<temp folder>``, and not /tmp/ray, which other Ray users
    of the machine share."""
    ray_exe = shutil.which("ray")
    if ray_exe is None:
        pytest.skip("no `ray` executable: pip install -e '.[dev]'")
    temp = Path(tempfile.mkdtemp(prefix="nmray-", dir="/tmp"))  # short: Ray's socket paths live under it
    port = _free_port()
    ports = [port, *[int(options[i + 1]) for i, o in enumerate(options) if o == "--ray-client-server-port"]]
    command = [ray_exe, "start", "--head", "--block", "--port", str(port), *options, "--dashboard-port",
               str(_free_port()), "--num-cpus", "1", "--include-dashboard=false", "--disable-usage-stats",
               "--temp-dir", str(temp / "ray")]
    with open(temp / "head.log", "wb") as log:
        head = subprocess.Popen(command, env=_environment(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=temp)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for waited in ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", waited), timeout=1).close()
                    break
                except OSError:
                    if head.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the Ray head did not open port {waited}:\n"
                                    + (temp / "head.log").read_text(errors="replace")[-3000:])
                    time.sleep(0.5)
        while not (temp / "ray" / "ray_current_cluster").exists():  # written last, once the head is up
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Ray head did not record itself:\n"
                            + (temp / "head.log").read_text(errors="replace")[-3000:])
            time.sleep(0.5)
        yield temp, port
    finally:
        _stop(head)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def ray_client_server():
    """(``ray://127.0.0.1:<port>``, its temp folder) of a one-CPU Ray head started for this test."""
    if importlib.util.find_spec("grpc") is None:
        pytest.skip("no grpcio, which a Ray Client server needs: pip install -e '.[dev]' (ray[client])")
    client_port = _free_port()
    with _ray_head("--ray-client-server-port", str(client_port)) as (temp, _):
        yield f"ray://127.0.0.1:{client_port}", temp / "ray"


def _mine(tmp_path: Path, model: Path, name: str, *engine: str,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    from negmine.demo import demo_path

    args = ["mine", str(demo_path()), "--split", "train", "--model", str(model), "--no-cache", "--no-progress",
            "--shard-size", "100", "--encode-shard-size", "100", "--work-dir", str(tmp_path / f"work-{name}"),
            "-o", str(tmp_path / f"{name}.jsonl"), *engine]
    return subprocess.run([sys.executable, "-m", "negmine", *args], env={**_environment(), **(env or {})}, capture_output=True, text=True,
                          timeout=600)


def _client_server_logs(temp: Path) -> str:
    """The head's Ray Client server logs (the proxy's and those of the server it starts per client)."""
    logs = sorted((temp / "session_latest" / "logs").glob("ray_client_server*"))
    return "\n".join(f"--- {log.name}\n" + log.read_text(errors="replace")[-2000:] for log in logs)


RAY_CLIENT_SERVER_START_FAILURES = (
    "Starting Ray client server failed",  # once in 10 runs on a loaded machine
    # the proxy's per-client server exited as it started (psutil.ZombieProcess in the proxy), a fresh-clone CI run
    # next to another job, 2026-12-07; the same test alone passed at once
    "Initialization failure from server",
)
"""What Ray's Client proxy answers when the server it starts for a client does not come up: Ray's, not negmine's,
so the test mines again (3 tries in all)."""


def test_a_mine_through_ray_client_writes_the_local_bytes(ray_client_server, tmp_path, tiny_model_path):
    """The demo mine (shards of 100 texts and documents) through the live server."""
    ray_client_address, temp = ray_client_server
    for _ in range(3):
        done = _mine(tmp_path, tiny_model_path, "ray", "--engine", "ray", "--ray-address", ray_client_address)
        if not any(failure in done.stderr for failure in RAY_CLIENT_SERVER_START_FAILURES):
            break
    assert done.returncode == 0, done.stderr[-3000:] + _client_server_logs(temp)
    local = _mine(tmp_path, tiny_model_path, "local")
    assert local.returncode == 0, local.stderr[-3000:]
    expected = (tmp_path / "local.jsonl").read_bytes()
    assert expected and (tmp_path / "ray.jsonl").read_bytes() == expected


def _drivers(session: Path) -> set[str]:
    """The drivers that joined the cluster of ``session`` (Ray logs each one's core worker there)."""
    return {log.name for log in (session / "logs").glob("python-core-driver-*")}


def test_without_an_address_a_run_starts_its_own_ray_instead_of_joining_ray_start(tmp_path, tiny_model_path):
    """``ray.init()`` with no address joins the cluster the last ``ray start`` on the machine recorded: a run
    without --ray-address ran its shards on it. Now only --ray-address auto joins it (the check that the
    cluster's log folder shows a joining driver at all); without an address the output is the same."""
    with _ray_head() as (temp, port):
        session = (temp / "ray" / "session_latest").resolve()  # the head's, before any other instance starts
        assert (temp / "ray" / "ray_current_cluster").read_text().strip().endswith(f":{port}")
        env = {"RAY_TMPDIR": str(temp)}  # Ray's lookup reads <RAY_TMPDIR>/ray/ray_current_cluster
        before = _drivers(session)
        own = _mine(tmp_path, tiny_model_path, "own", "--engine", "ray", env=env)
        assert own.returncode == 0, own.stderr[-3000:]
        assert _drivers(session) == before, "the run without --ray-address joined the ray start cluster"
        joined = _mine(tmp_path, tiny_model_path, "auto", "--engine", "ray", "--ray-address", "auto", env=env)
        assert joined.returncode == 0, joined.stderr[-3000:]
        assert len(_drivers(session) - before) == 1, "--ray-address auto joins it"
    local = _mine(tmp_path, tiny_model_path, "local")
    assert local.returncode == 0, local.stderr[-3000:]
    expected = (tmp_path / "local.jsonl").read_bytes()
    assert expected and (tmp_path / "own.jsonl").read_bytes() == expected == (tmp_path / "auto.jsonl").read_bytes()
