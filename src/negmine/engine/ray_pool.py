"""A pool of long-lived Ray actors that share one ``setup()`` state across :meth:`RayEngine.map` calls.

Each actor runs ``setup()`` once (e.g. loads the encoder) and then one task per shard, so the corpus and the
query encoding of a run, which use the same setup, load the model once per actor instead of once per stage
(a Ray Data ``map_batches`` job per stage started new actor processes every time; measured on the demo: 13.5 s
of a 21.8 s query stage were the second stage's model loads). Each actor holds one shard at a time, actors are
started only while there is a shard for them (so never more than there are shards), and results come back as
shards finish, so the driver can checkpoint each one.

The driver, not Ray, restarts a worker that died: actors are created with ``max_restarts=0``, and a shard
whose actor died goes to a fresh actor (which runs ``setup()`` again), at most :data:`TASK_RETRIES` more times;
then the Ray error is raised. Counting per shard here bounds a shard that kills every worker it runs on (Ray
Data's default retried it forever), and an actor that dies while it loads the model counts against the shard
it was started for instead of restarting without end.
"""

from __future__ import annotations

import pickle
from collections import Counter, deque
from typing import Any, Iterable, Iterator

from negmine.engine.base import Setup, Task
from negmine.errors import NegmineError

TASK_RETRIES = 2
"""Times a shard is run again after its worker process died (so at most ``TASK_RETRIES + 1`` runs)."""

_NONE = object()


class _Actor:
    """Ray actor (made remote by :class:`ActorPool`): state built once, one task per call. Each call returns
    the pickled ``(True, result)``, or ``(False, error)`` for a :class:`~negmine.errors.NegmineError` that
    ``setup`` or the task raised: Ray keeps only the text of a worker's exception, so the error itself travels
    as data and the driver raises it. Payloads and results travel pickled (protocol 5) so the driver gets
    writable arrays of its own, not read-only views pinning Ray's object store."""

    def __init__(self, setup: Setup) -> None:
        self.error: NegmineError | None = None
        try:
            self.state = setup()
        except NegmineError as err:
            self.state, self.error = None, err

    def run(self, task: Task, blob: bytes) -> bytes:
        return pickle.dumps(self._run(task, pickle.loads(blob)), protocol=5)

    def _run(self, task: Task, payload: Any) -> tuple[bool, Any]:
        if self.error is not None:
            return False, self.error
        try:
            return True, task(self.state, payload)
        except NegmineError as err:
            return False, err


def setup_key(setup: Setup) -> bytes | None:
    """What makes two setups equal: their pickle (e.g. ``functools.partial(make_embedder, config)`` with equal
    configs); None for a setup pickle cannot take (a lambda), which then equals only itself."""
    try:
        return pickle.dumps(setup, protocol=5)
    except Exception:  # noqa: BLE001 - any pickling failure means "compare by identity"
        return None


class ActorPool:
    """Up to ``size`` actors of ``cpus`` CPUs each, all built by ``setup``; killed by :meth:`close`."""

    def __init__(self, setup: Setup, size: int, cpus: float) -> None:
        import ray

        self.setup, self.key, self.size = setup, setup_key(setup), size
        self._class = ray.remote(num_cpus=cpus, max_restarts=0, max_task_retries=0)(_Actor)
        self._actors: list = []  # alive as far as the driver knows
        self._idle: deque = deque()

    def serves(self, setup: Setup) -> bool:
        """Whether this pool's actors were built by a setup equal to ``setup``."""
        return setup is self.setup or (self.key is not None and self.key == setup_key(setup))

    def run(self, task: Task, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        """Yield ``(key, task(state, payload))`` for every item as shards finish. Items are read (and pickled)
        only when an actor is free for them. A NegmineError of a worker is raised as itself, a Ray error
        (a worker that died a shard's last time, a setup that failed otherwise) as Ray raised it."""
        import ray

        items, retry, attempts, pending = iter(items), deque(), Counter(), {}
        while True:
            while len(pending) < self.size:
                key, blob = retry.popleft() if retry else _next_blob(items)
                if blob is _NONE:
                    break
                actor = self._idle.popleft() if self._idle else self._start()
                pending[actor.run.remote(task, blob)] = (actor, key, blob)
            if not pending:
                return
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            actor, key, blob = pending.pop(ref)
            try:
                ok, value = pickle.loads(ray.get(ref))
            except Exception as err:
                if not died(err):
                    raise
                self._drop(actor)
                attempts[key] += 1
                if attempts[key] > TASK_RETRIES:
                    raise
                retry.append((key, blob))
                continue
            self._idle.append(actor)
            if not ok:
                raise value
            yield key, value

    def _start(self):
        actor = self._class.remote(self.setup)
        self._actors.append(actor)
        return actor

    def _drop(self, actor) -> None:
        import ray

        self._actors.remove(actor)
        ray.kill(actor)

    @property
    def busy(self) -> bool:
        """Whether an actor may still be running a task (one of a map its caller stopped reading)."""
        return len(self._idle) != len(self._actors)

    def close(self) -> None:
        """Kill every actor (at once, running tasks included), which frees their CPUs and memory."""
        import ray

        for actor in self._actors:
            ray.kill(actor)
        self._actors, self._idle = [], deque()


def _next_blob(items: Iterator[tuple[int, Any]]) -> tuple[int, Any]:
    for key, payload in items:
        return int(key), pickle.dumps(payload, protocol=5)
    return -1, _NONE


def died(err: BaseException) -> bool:
    """Whether a Ray error says the worker process running the task died (killed, out of memory, a crash in
    native code, its node gone); not an actor whose ``setup()`` raised an exception."""
    if not type(err).__module__.startswith("ray."):
        return False
    from ray import exceptions

    if isinstance(err, exceptions.RayActorError):
        return not err.actor_init_failed
    return isinstance(err, (exceptions.WorkerCrashedError, exceptions.OutOfMemoryError, exceptions.NodeDiedError))
