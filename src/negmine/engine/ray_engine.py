"""The Ray engine: each shard is one row of a Ray Data dataset processed by ``map_batches`` on an actor pool.

``ray.init(address=...)`` joins an existing cluster (``address="auto"`` or ``"ray://head:10001"``); without an
address a local Ray instance is started (and shut down by :meth:`RayEngine.close`). Every actor runs
``setup()`` once (e.g. loads the encoder) and then one ``task`` per shard; payloads and results travel
pickled through Ray's object store and results stream back to the driver as shards finish, so the driver
can checkpoint each one. Actors get ``cpus_per_actor`` CPUs (Ray sets ``OMP_NUM_THREADS`` accordingly, which
torch, onnxruntime and FAISS follow); the pool has ``actors`` actors (default: cluster CPUs / cpus_per_actor).
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import signal
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np

from negmine.engine.base import Setup, Task


class _Worker:
    """Ray Data callable class: state built once per actor, one task per row."""

    def __init__(self, setup: Setup, task: Task) -> None:
        self.state = setup()
        self.task = task

    def __call__(self, batch: dict) -> dict:
        results = [pickle.dumps(self.task(self.state, pickle.loads(p)), protocol=5) for p in batch["payload"]]
        return {"key": np.asarray(batch["key"], dtype=np.int64), "result": np.asarray(results, dtype=object)}


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
    """Ray engine. When it starts Ray itself, :meth:`close` shuts it down and puts back the environment
    variables, signal handlers and faulthandler setting that ``ray.init`` changed in this process."""

    name = "ray"

    def __init__(
        self, address: str | None = None, actors: int | None = None, cpus_per_actor: float = 1.0,
        show_progress: bool = False, **init_kwargs: Any,
    ) -> None:
        import ray

        self._started = False
        self._host: tuple[_HostState, _HostState] | None = None
        if not ray.is_initialized():
            before = _HostState.capture()
            ray.init(address=address, log_to_driver=False, include_dashboard=False, **init_kwargs)
            self._started, self._host = True, (before, _HostState.capture())
        self.cpus_per_actor = cpus_per_actor
        cluster_cpus = float(ray.cluster_resources().get("CPU", 1.0))
        self.actors = actors or max(1, int(cluster_cpus // cpus_per_actor))
        self.show_progress = show_progress

    @property
    def workers(self) -> int:
        """Shards processed at once (the actor pool size)."""
        return self.actors

    def map(self, setup: Setup, task: Task, items: Iterable[tuple[int, Any]], desc: str = "") -> Iterator[tuple[int, Any]]:
        """Run all items as one Ray Data job; yield results as their blocks complete."""
        import ray

        rows = [{"key": int(key), "payload": pickle.dumps(payload, protocol=5)} for key, payload in items]
        if not rows:
            return
        context = ray.data.DataContext.get_current()
        bars, context.enable_progress_bars = context.enable_progress_bars, self.show_progress
        try:
            dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
            del rows
            results = dataset.map_batches(
                _Worker, fn_constructor_args=(setup, task), batch_size=1, batch_format="numpy",
                concurrency=min(self.actors, dataset.count()), num_cpus=self.cpus_per_actor,
            )
            for batch in results.iter_batches(batch_size=1, batch_format="numpy", prefetch_batches=0):
                for key, blob in zip(batch["key"], batch["result"]):
                    yield int(key), pickle.loads(blob)
        finally:
            context.enable_progress_bars = bars  # the caller's own Ray Data setting

    def close(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()
        if self._host is not None:
            self._host[0].restore(self._host[1])
        self._started, self._host = False, None
