"""The Ray engine: shards run as tasks on negmine's own Ray actors (:mod:`negmine.engine.ray_pool`).

``ray.init(address=...)`` joins an existing cluster (``address="auto"`` or ``"<head-ip>:6379"`` from a node of
it, ``"ray://<head-ip>:10001"`` through Ray Client from elsewhere); without an address (and no ``RAY_ADDRESS``)
a private local Ray instance is started (``address="local"``: not a cluster another process on the machine
started) and shut down by :meth:`RayEngine.close`, in either case only when the first shard is dispatched
(:meth:`RayEngine.start`). Every actor runs ``setup()`` once (e.g. loads the encoder) and then one ``task``
per shard, for every :meth:`RayEngine.map` with an equal setup (the corpus and the query encoding of a run
share their actors); payloads and results travel pickled through Ray's object store and results stream
back to the driver as shards finish, so the driver can checkpoint each one. Actors get ``cpus_per_actor``
CPUs (Ray sets ``OMP_NUM_THREADS`` accordingly, which torch, onnxruntime and FAISS follow); the pool has up
to ``actors`` actors (default: cluster CPUs / cpus_per_actor), and :meth:`RayEngine.close` ends them.

A worker process that dies (killed, out of memory, a crash in native code) is replaced and its shard run
again, at most :data:`TASK_RETRIES` more times: Ray Data, which ran the shards before, retried forever, so
a shard that kills every worker it runs on (e.g. one too large for a node's memory) kept the job looping
without end. An error that negmine raises on purpose in a worker (e.g. a worker whose embedder differs from
the driver's) reaches the caller as that error, not as Ray's task error that keeps only its text.
"""

from __future__ import annotations

import faulthandler
import itertools
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from negmine.engine.base import Setup, Task
from negmine.engine.ray_pool import TASK_RETRIES, ActorPool, died as _died
from negmine.config_path import field_path, path_option, path_setting
from negmine.errors import ConfigError

CONNECT_TIMEOUT = 10.0
"""Seconds :func:`check_address` waits for the cluster's port to answer."""


def _address_fix() -> str:
    """What ``ray_address`` takes, named at its path (``engine.ray_address`` while a MineConfig's engine is
    checked, :func:`negmine.config_path.path_option`)."""
    return (f"{path_option('ray_address')} takes auto (the cluster `ray start --head` started on this machine) or "
            "<head-ip>:6379, from a node of the cluster, or ray://<head-ip>:10001 (Ray Client) from elsewhere; leave "
            "it unset to start a private local Ray instance")


def check_address(address: str | None, timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse a Ray address (``address``, or ``RAY_ADDRESS`` when that is unset or ``auto``) that is not one,
    or whose port does not answer within ``timeout`` seconds: ``ray.init`` retries an unreachable address for
    minutes (over 400 s measured with nothing listening on 127.0.0.1:6399) before it gives up. ``auto`` is
    resolved as Ray resolves it (:func:`_auto_address`): with no cluster on this machine, ``ray.init`` failed
    only when the first shard was dispatched, after the model had loaded. A Ray Client address (``ray://``)
    needs grpcio, checked here too. (Ray Client was refused while Ray Data ran the shards: Ray Data does not
    run through it, Ray's issues 42739 and 48682; negmine's own actors do, tests/engine/test_ray_start_heads.py.)"""
    import importlib.util

    own = address not in (None, "auto", "local")
    target = address if own else os.environ.get("RAY_ADDRESS")
    if (address == "auto" and target in (None, "", "auto")) or (address is None and target == "auto"):
        _check_auto(path_option("ray_address") if address == "auto" else "RAY_ADDRESS", timeout)
        return
    if target in (None, "", "auto", "local"):
        return
    source = path_option("ray_address") if own else "RAY_ADDRESS"
    client = target.startswith("ray://")
    host, colon, port = target[len("ray://"):].rpartition(":") if client else target.rpartition(":")
    host = host.strip("[]")  # an IPv6 literal
    if not colon or not host or not port.isdigit():
        raise ConfigError(f"{source} {target!r} is not a Ray address; {_address_fix()}")
    if client and importlib.util.find_spec("grpc") is None:
        raise ConfigError(f"{source} {target!r} joins through Ray Client, which needs grpcio: pip install "
                          f"'ray[client]', or run negmine on a cluster node with {path_setting('ray_address', 'auto')}")
    _probe(f"{source} {target!r}", host, int(port), timeout, client)


def _probe(where: str, host: str, port: int, timeout: float, client: bool = False) -> None:
    """ConfigError naming ``where`` when nothing answers on ``host:port`` within ``timeout`` seconds. For a
    ``ray://`` address (``client``) the port is the Ray Client server's, which ``ray start --head`` opens with
    ``--ray-client-server-port`` (``--port`` is the cluster's own, 6379 by default)."""
    import socket

    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as err:
        why = err.strerror or type(err).__name__
        start = f"--ray-client-server-port={port}" if client else f"--port={port}"
        raise ConfigError(f"cannot reach a Ray cluster at {where} ({why} within {timeout:g} s); start it "
                          f"with `ray start --head {start}` or check the address; {_address_fix()}") from err


def _check_auto(source: str, timeout: float) -> None:
    """``auto`` (from ``source``): refuse it when no Ray cluster runs on this machine, or when the one found
    does not answer (a cluster that died without ``ray stop`` leaves its address recorded)."""
    found = _auto_address()
    if found is None:
        drop = "unset RAY_ADDRESS" if source == "RAY_ADDRESS" else \
            f"leave {field_path('ray_address')} unset (drop --ray-address)"
        raise ConfigError(f"{source} auto found no Ray cluster running on this machine; start one with "
                          f"`ray start --head` and rerun, or {drop} to let negmine start a local Ray instance")
    host, colon, port = found.rpartition(":")
    if colon and port.isdigit():  # anything else is left to ray.init
        _probe(f"{source} auto ({found})", host.strip("[]"), int(port), timeout)


def _auto_address() -> str | None:
    """The ``host:port`` that ``ray.init(address="auto")`` joins, found by Ray itself: the cluster the last
    ``ray start`` on this machine recorded, else a running one found among the processes; None when there is
    none. ``"auto"`` when Ray's resolver cannot be used (another Ray version): then ``ray.init`` decides.
    What importing ray changes in this process (``RAY_CLIENT_MODE``) is undone at once.

    This is the one place a run imports Ray before it dispatches work (``--ray-address auto``, or RAY_ADDRESS
    auto, only), and on purpose: the lookup is what refuses ``auto`` before data or a model load, and it cannot
    be had without the import. ``ray._private.services`` imports ``ray`` and its C extension ``ray._raylet`` at
    module level, so importing the resolver is importing Ray (2.8-3.2 s measured, Ray 2.60, loaded 2-core
    machine); a lookup of our own would copy Ray's temp-folder rules (``ray_current_cluster``) and its
    ``gcs_server`` process scan, which change between Ray versions, and could refuse a cluster Ray would join or
    pass one it would not. Every other address is checked without Ray (a socket probe), and the engine imports
    Ray when the first shard is dispatched (:meth:`RayEngine.start`)."""
    before = _HostState.capture() if "ray" not in sys.modules else None
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except (ImportError, AttributeError):
        return "auto"
    finally:
        if before is not None:
            before.restore(_HostState.capture())
    try:
        return canonicalize_bootstrap_address("auto")
    except ConnectionError:  # "Could not find any running Ray instance"
        return None
    except Exception:  # noqa: BLE001 - a resolver error is ray.init's to report
        return "auto"


def _check_fits(cpus_per_actor: float, node_cpus: list[float]) -> None:
    """Refuse actors larger than every node: Ray waits for such an actor forever (measured with Ray Data: a 2-CPU
    local instance with --ray-cpus-per-actor 4 only warned, after 60 s, that the job "may hang forever")."""
    largest = max(node_cpus, default=0.0)
    if cpus_per_actor > largest:
        raise ConfigError(_too_large(cpus_per_actor, largest))


def _too_large(cpus_per_actor: float, largest: float) -> str:
    """Why actors of ``cpus_per_actor`` CPUs cannot start on nodes of at most ``largest``, and the fix: the largest
    node's own size, a fraction when it has less than one CPU (Ray places fractional actors). The hint said at
    least 1 (``max(largest, 1)``): for nodes of 0.5 CPUs it suggested the very value refused, or more. Nodes with
    no CPU (a head started with ``--num-cpus 0`` and no worker yet) fit no value: the message says so."""
    asked = path_setting("ray_cpus_per_actor", _number(cpus_per_actor))
    if largest <= 0:
        return (f"{asked}: no node of the Ray cluster has a CPU (a head node started with --num-cpus 0 and no worker "
                "node joined?), so no actor could start, whatever its size; add nodes with CPUs to the cluster "
                f"(ray start --address ...), or run here with {path_setting('name', 'local', '--engine')}")
    return (f"{asked} is more than any node of the Ray cluster has (largest: {largest:g} CPUs), so no actor could "
            f"start; use {path_setting('ray_cpus_per_actor', _number(largest))} or less, or join a cluster with "
            "larger nodes")


def _number(value: float) -> float | int:
    """A CPU count as the user gives it: ``4``, not ``4.0`` (``--ray-cpus-per-actor 4``); ``0.5`` as it is."""
    return int(value) if float(value).is_integer() else value


_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class _HostState:
    """What ``ray.init`` changes in the driver process and ``ray.shutdown`` leaves changed: environment
    variables, the SIGTERM/SIGINT handlers (Ray's SIGTERM handler exits the process) and faulthandler."""

    environ: dict[str, str]
    handlers: dict[int, Any]
    faulthandler: bool

    @classmethod
    def capture(cls) -> "_HostState":
        return cls(dict(os.environ), {s: signal.getsignal(s) for s in _SIGNALS}, faulthandler.is_enabled())

    def restore(self, started: "_HostState") -> None:
        """Undo what changed between this state and ``started`` (the state right after ``ray.init``), leaving
        alone whatever the caller changed since."""
        for key in set(started.environ) | set(self.environ):
            if started.environ.get(key) != self.environ.get(key) and os.environ.get(key) == started.environ.get(key):
                if key in self.environ:
                    os.environ[key] = self.environ[key]
                else:
                    os.environ.pop(key, None)
        for sig, handler in self.handlers.items():
            if handler is not None and started.handlers[sig] is not handler and signal.getsignal(sig) is started.handlers[sig]:
                signal.signal(sig, handler)
        if not self.faulthandler and started.faulthandler:
            faulthandler.disable()


class RayEngine:
    """Ray engine, started lazily: constructing it only probes the address (:func:`check_address`, unless the
    caller did); Ray is
    imported and initialised (or joined) by :meth:`start`, which the first :meth:`map` with work to dispatch
    calls, so a run whose stages all run locally (unsharded BM25, shards all finished) never starts Ray
    (measured: an unsharded BM25 mine of the demo took 13.7 s with ``--engine ray``, 2.9 s without). When it
    starts Ray itself, :meth:`close` shuts it down and puts back the environment variables, signal handlers and
    faulthandler setting that ``ray.init`` (and importing ray, when this engine did that first) changed in
    this process; an engine that never started leaves Ray alone."""

    name = "ray"

    def __init__(
        self, address: str | None = None, actors: int | None = None, cpus_per_actor: float = 1.0,
        show_progress: bool = False, *, address_checked: bool = False, **init_kwargs: Any,
    ) -> None:
        """``address_checked``: the caller ran :func:`check_address` on ``address`` already (a run checks its
        engine before loading data, :func:`negmine.engine.registry.check_engine`), so the probe, with its
        up-to-10-second timeout and, for ``auto``, Ray's lookup, is not repeated here. ``show_progress`` is
        kept for the registry's signature and draws nothing: each stage draws its own bar (Ray Data, which ran
        the shards before, drew a second one per job), which the actors' model passes move
        (:mod:`negmine.engine.ray_pool`)."""
        self.address, self.cpus_per_actor, self.show_progress = address, cpus_per_actor, show_progress
        self._init_kwargs = init_kwargs
        self._actors = actors
        self._ready = False  # joined: the actor size checked against the nodes and the pool size known
        self._started = False  # this engine ran ray.init, so close() shuts Ray down
        self._host: tuple[_HostState, _HostState] | None = None
        self._pool: ActorPool | None = None  # the actors of the last map, kept for the next one with its setup
        if running_ray() is None:
            if not address_checked:
                check_address(address)  # fails at once, before the run loads a model
        else:
            self.start()  # a Ray the caller started: joining it costs nothing, and its checks run now

    def start(self) -> None:
        """Initialise Ray (or join the one running in this process) unless done already; check that an actor
        fits on a node and size the pool."""
        if self._ready:
            return
        if running_ray() is None:
            self._init()
        import ray

        _check_fits(self.cpus_per_actor, [float(node.get("Resources", {}).get("CPU", 0.0))
                                          for node in ray.nodes() if node.get("Alive", True)])
        if self._actors is None:
            self._actors = max(1, int(float(ray.cluster_resources().get("CPU", 1.0)) // self.cpus_per_actor))
        self._ready = True

    def _init(self) -> None:
        before = _HostState.capture()  # before the import: importing ray sets RAY_CLIENT_MODE=0 in os.environ
        import ray

        if not ray.is_initialized():
            # again on purpose: this runs when the first shard is dispatched, after the model loaded, and a
            # cluster that went down meanwhile would have ray.init retry it for minutes
            check_address(self.address)
            try:
                ray.init(address=_init_address(self.address), log_to_driver=False, include_dashboard=False,
                         **self._init_kwargs)
            except (ConnectionError, ValueError) as err:  # e.g. auto with no cluster on this machine
                raise _join_failed(self.address, err) from err
            self._started, self._host = True, (before, _HostState.capture())

    @property
    def actors(self) -> int:
        """The actor pool size: ``actors`` as given, else the cluster's CPUs / ``cpus_per_actor`` (which starts Ray)."""
        if self._actors is None:
            self.start()
        return self._actors

    @property
    def workers(self) -> int:
        """Shards processed at once (the actor pool size)."""
        return self.actors

    def map(self, setup: Setup, task: Task, items: Iterable[tuple[int, Any]], desc: str = "") -> Iterator[tuple[int, Any]]:
        """Run all items on the actor pool of ``setup`` (kept from the last map when its setup was equal, else
        started afresh); yield results as shards finish. No items: Ray is not started."""
        items = iter(items)
        first = next(items, None)
        if first is None:
            return
        self.start()
        pool = self._pool_for(setup)
        try:
            yield from pool.run(task, itertools.chain([first], items))
        except Exception as err:
            died = _worker_died(err, desc)
            if died is None:
                raise
            raise died from err
        finally:
            if pool.busy:  # stopped early (an error, Ctrl-C, a caller that stopped reading): end its tasks
                self._drop_pool()

    def _pool_for(self, setup: Setup) -> ActorPool:
        """The pool whose actors ``setup`` built: the current one when its setup is equal, else a new one,
        after the current one is killed (its actors hold the CPUs the new ones need)."""
        if self._pool is not None and self._pool.serves(setup):
            return self._pool
        self._drop_pool()
        self._pool = ActorPool(setup, self.actors, self.cpus_per_actor)
        return self._pool

    def _drop_pool(self) -> None:
        if self._pool is not None and running_ray() is not None:
            self._pool.close()
        self._pool = None

    def close(self) -> None:
        """Kill this engine's actors, shut down the Ray this engine started (nothing when it started none) and
        undo what that changed."""
        self._drop_pool()
        ray = sys.modules.get("ray")
        if self._started and ray is not None and ray.is_initialized():
            ray.shutdown()
        if self._host is not None:
            self._host[0].restore(self._host[1])
        self._started, self._host, self._ready = False, None, False


def _init_address(address: str | None) -> str | None:
    """What ``ray.init`` gets for ``--ray-address``: ``"local"`` when neither it nor ``RAY_ADDRESS`` names a
    cluster. ``ray.init(address=None)`` joins the cluster the last ``ray start`` on this machine recorded (in
    Ray's temp folder, ``ray_current_cluster``): a run without an address ran its shards on whatever cluster
    another process on the machine had started. ``"local"`` always starts a new instance, private to this
    run; ``auto`` joins as before, and ``RAY_ADDRESS`` (set e.g. by ``ray job submit`` for the command it runs)
    is still followed."""
    if address is None and not os.environ.get("RAY_ADDRESS"):
        return "local"
    return address


def running_ray():
    """The ray module when Ray is initialised in this process, else None (ray is not imported to find out)."""
    ray = sys.modules.get("ray")
    return ray if ray is not None and ray.is_initialized() else None


def _join_failed(address: str | None, err: BaseException) -> ConfigError:
    """``ray.init`` refused the address (e.g. ``auto`` with no cluster on this machine): the error names the field
    and the option, as :func:`check_address`'s do (it named ``--ray-address`` alone)."""
    return ConfigError(f"cannot join a Ray cluster at {path_option('ray_address')} {address!r}: {err}; {_address_fix()}")


def _worker_died(err: BaseException, desc: str) -> RuntimeError | None:
    """For a Ray job that failed because a worker process kept dying, a ``RuntimeError`` saying so and what to
    do (:func:`worker_died_message`); None for any other error (raised as it is)."""
    if not _died(err):
        return None
    return RuntimeError(worker_died_message(type(err).__name__, desc))


def worker_died_message(error: str, desc: str = "") -> str:
    """What to do when a worker died on the same shard every time (Ray's ``error`` type): the settings to change
    named as fields and options (it named the options alone, unlike the rest of negmine's messages)."""
    job = f" ({desc})" if desc else ""
    return (
        f"a Ray worker process died {TASK_RETRIES + 1} times running the same shard{job}: {error} (see Ray's "
        f"message above; running out of memory is the usual cause: lower {path_option('memory_budget')} or "
        f"{path_option('shard_size')}, or raise {path_option('ray_cpus_per_actor')} so fewer actors share a node); "
        "the shards finished so far are kept in the work folder, so rerunning the command resumes after them"
    )
